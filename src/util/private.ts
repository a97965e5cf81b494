/**
 * Owner-only files and directories for everything the engine writes (journal, snapshots, kill reports, latency
 * dumps, logs, recordings): directories 0700, files 0600, whatever the process umask. A mode given to mkdir/open
 * only applies to what is created, and then through the umask, so each helper also chmods.
 */
import { chmodSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';

export const PRIVATE_DIR_MODE = 0o700;
export const PRIVATE_FILE_MODE = 0o600;

/**
 * `mkdir -p` made one level at a time, with `mode` for what it creates; returns the directories it created, parents
 * first. (Node's `mkdirSync(..., { recursive: true })` spins forever at 100% CPU on a path under /proc.) Throws the
 * first real error (ENOENT, ENOTDIR, EACCES...).
 */
export function mkdirs(path: string, mode = PRIVATE_DIR_MODE): string[] {
  const chain: string[] = [];
  for (let p = resolve(path); ; p = dirname(p)) {
    chain.unshift(p);
    if (dirname(p) === p) break;
  }
  const made: string[] = [];
  for (const p of chain) {
    try {
      mkdirSync(p, { mode });
      made.push(p);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      if (!statSync(p).isDirectory()) throw Object.assign(new Error(`ENOTDIR: ${p} is not a directory`), { code: 'ENOTDIR' });
    }
  }
  return made;
}

/** Directories from `first` (the first one mkdir created) down to `dir`, parents first. */
function createdChain(first: string, dir: string): string[] {
  const out: string[] = [];
  const stop = resolve(first);
  for (let d = resolve(dir); ; d = dirname(d)) {
    out.unshift(d);
    if (d === stop || dirname(d) === d) break;
  }
  return out;
}

/**
 * Create `dir` (and missing parents) owner-only. `dir` itself is chmod-ed 0700 even if it existed, unless
 * `onlyCreated` (a directory we do not own, e.g. a provisioned /var/log/tickwire, keeps its mode).
 */
export function mkdirPrivate(dir: string, onlyCreated = false): void {
  const made = mkdirs(dir);
  for (const d of made) chmodSync(d, PRIVATE_DIR_MODE);
  if (made.length === 0 && !onlyCreated) chmodSync(dir, PRIVATE_DIR_MODE);
}

/** `mkdirPrivate` without blocking the event loop. */
export async function mkdirPrivateAsync(dir: string): Promise<void> {
  const first = await mkdir(dir, { recursive: true, mode: PRIVATE_DIR_MODE });
  if (first !== undefined) for (const d of createdChain(first, dir)) await chmod(d, PRIVATE_DIR_MODE);
  else await chmod(dir, PRIVATE_DIR_MODE);
}

/** Write a whole file, mode 0600 (also when it existed with another mode). */
export function writeFilePrivate(path: string, data: string | Uint8Array): void {
  writeFileSync(path, data, { mode: PRIVATE_FILE_MODE });
  chmodSync(path, PRIVATE_FILE_MODE);
}

export async function writeFilePrivateAsync(path: string, data: string | Uint8Array): Promise<void> {
  await writeFile(path, data, { mode: PRIVATE_FILE_MODE });
  await chmod(path, PRIVATE_FILE_MODE);
}
