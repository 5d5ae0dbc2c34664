// tsc does not copy non-TS files: the Lua scripts ship beside the compiled engine.
// Usage: node scripts/copy-lua.mjs [compiled lib folder, default dist]
import { cpSync } from 'node:fs';

const out = process.argv[2] ?? 'dist';
cpSync('lib/engine/lua', `${out}/engine/lua`, { recursive: true });
