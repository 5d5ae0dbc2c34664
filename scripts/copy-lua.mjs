// tsc does not copy non-TS files: the Lua scripts ship beside the compiled engine.
import { cpSync } from 'node:fs';
cpSync('lib/engine/lua', 'dist/engine/lua', { recursive: true });
