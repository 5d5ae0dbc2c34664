// tsc does not copy non-TS files: the dashboard's page, script, styles and vendored
// chart library ship beside the compiled dashboard module (nothing is fetched from a CDN).
// Usage: node scripts/copy-dashboard-assets.mjs [compiled lib folder, default dist]
import { cpSync } from 'node:fs';

const out = process.argv[2] ?? 'dist';
cpSync('lib/dashboard/assets', `${out}/dashboard/assets`, { recursive: true });
