/**
 * The data dir (journal, snapshots, kill reports, latency dumps, run state): created owner-only (0700) and proven
 * writable before anything else starts, so that an engine never trades without a place to record what it sent.
 */
import { unlinkSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { mkdirPrivate } from '../util/private.js';

/**
 * Make `dir` (and its parents, one level at a time: see `mkdirs`), set it to 0700, and write and remove a probe
 * file in it. Throws an Error whose message says what failed; the caller names the config field.
 */
export function prepareDataDir(dir: string): void {
  mkdirPrivate(dir);
  const probe = resolve(dir, `.write-probe-${process.pid}`);
  writeFileSync(probe, '', { flag: 'w', mode: 0o600 });
  unlinkSync(probe);
}
