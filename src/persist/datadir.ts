/**
 * The data dir (journal, snapshots, kill reports, latency dumps, run state): created owner-only (0700) and proven
 * writable before anything else starts, so that an engine never trades without a place to record what it sent.
 *
 * The directories are made one level at a time: Node's `mkdirSync(..., { recursive: true })` spins forever at
 * 100% CPU on a path under /proc (it keeps retrying ENOENT there).
 */
import { chmodSync, mkdirSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

/** `mkdir -p` with `mode` for the directories it creates; throws the first real error (ENOENT, ENOTDIR, EACCES...). */
export function mkdirs(path: string, mode = 0o700): void {
  const abs = resolve(path);
  const chain: string[] = [];
  for (let p = abs; ; p = dirname(p)) {
    chain.unshift(p);
    if (dirname(p) === p) break;
  }
  for (const p of chain) {
    try {
      mkdirSync(p, { mode });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      if (!statSync(p).isDirectory()) throw Object.assign(new Error(`ENOTDIR: ${p} is not a directory`), { code: 'ENOTDIR' });
    }
  }
}

/**
 * Make `dir` (and its parents), set it to 0700, and write and remove a probe file in it. Throws an Error whose
 * message says what failed; the caller names the config field.
 */
export function prepareDataDir(dir: string): void {
  mkdirs(dir);
  chmodSync(dir, 0o700);
  const probe = resolve(dir, `.write-probe-${process.pid}`);
  writeFileSync(probe, '', { flag: 'w', mode: 0o600 });
  unlinkSync(probe);
}
