/**
 * Snapshots replaced atomically: write `snapshot.json.tmp`, fsync it, rename over `snapshot.json`, fsync the
 * directory. A crash at any point leaves either the old or the new snapshot, never a torn one.
 */
import { closeSync, existsSync, fchmodSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { mkdirPrivate } from '../util/private.js';
import { join } from 'node:path';
import type { LedgerSnapshot } from '../core/ledger.js';

export const SNAPSHOT_FILE = 'snapshot.json';

export interface Snapshot {
  version: 1;
  /** journal bytes already reflected in this snapshot */
  journalOffset: number;
  writtenAtMs: number;
  ledger: LedgerSnapshot;
  /** the client id the engine would have used next when this was written (recovery's probe; see reconcile.ts) */
  nextId?: string;
}

export function writeFileAtomic(dir: string, name: string, data: string): void {
  mkdirPrivate(dir);
  const tmp = join(dir, name + '.tmp');
  const fd = openSync(tmp, 'w', 0o600);
  try {
    fchmodSync(fd, 0o600); // a leftover temp file keeps its old mode otherwise
    const buf = Buffer.from(data, 'utf8');
    let off = 0;
    while (off < buf.length) off += writeSync(fd, buf, off, buf.length - off);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, join(dir, name));
  const dfd = openSync(dir, 'r');
  try {
    fsyncSync(dfd);
  } finally {
    closeSync(dfd);
  }
}

export function writeSnapshot(dir: string, s: Snapshot): void {
  writeFileAtomic(dir, SNAPSHOT_FILE, JSON.stringify(s));
}

/** The last complete snapshot, or undefined (none yet). A snapshot that does not parse is an error. */
export function readSnapshot(dir: string): Snapshot | undefined {
  const p = join(dir, SNAPSHOT_FILE);
  if (!existsSync(p)) return undefined;
  const s = JSON.parse(readFileSync(p, 'utf8')) as Snapshot;
  if (s.version !== 1 || typeof s.journalOffset !== 'number') throw new Error(`${p}: not a tickwire snapshot`);
  return s;
}
