#!/usr/bin/env node
// Thin launcher: production runs the compiled JavaScript from `npm run build`.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const entry = join(root, 'dist', 'src', 'cli', 'tickwire.js');
if (!existsSync(entry)) {
  process.stderr.write('tickwire: dist/ is missing; run `npm run build` first (npm start does it for you)\n');
  process.exit(2);
}
await import(entry);
