/**
 * Snapshots replaced atomically: write `snapshot.json.tmp`, fsync it, rename over `snapshot.json`, fsync the
 * directory. A crash at any point leaves either the old or the new snapshot, never a torn one.
 *
 * Version 2 (written): the order owner's orders, portfolio and recent trade ids (`owner`). Version 1 (read only):
 * the engine's former Ledger (`ledger`: its orders by slot, positions/cash/fees maps, trade keys); recovery loads it
 * into the owner (OrderStore.restoreV1).
 */
import { closeSync, existsSync, fchmodSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { mkdirPrivate } from '../util/private.js';
import { join } from 'node:path';
import type { LedgerSnapshotV1, OwnerSnapshot } from '../orders/state.js';

export const SNAPSHOT_FILE = 'snapshot.json';

interface SnapshotBase {
  /** journal bytes already reflected in this snapshot */
  journalOffset: number;
  writtenAtMs: number;
  /** the client id the engine would have used next when this was written (recovery's probe; see reconcile.ts) */
  nextId?: string;
}

export interface SnapshotV2 extends SnapshotBase {
  version: 2;
  owner: OwnerSnapshot;
}

export interface SnapshotV1 extends SnapshotBase {
  version: 1;
  ledger: LedgerSnapshotV1;
}

export type Snapshot = SnapshotV2 | SnapshotV1;

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

export function writeSnapshot(dir: string, s: SnapshotV2): void {
  writeFileAtomic(dir, SNAPSHOT_FILE, JSON.stringify(s));
}

/** The last complete snapshot, or undefined (none yet). A snapshot that does not parse is an error. */
export function readSnapshot(dir: string): Snapshot | undefined {
  const p = join(dir, SNAPSHOT_FILE);
  if (!existsSync(p)) return undefined;
  const s = JSON.parse(readFileSync(p, 'utf8')) as Snapshot;
  const ok =
    typeof s === 'object' &&
    s !== null &&
    typeof s.journalOffset === 'number' &&
    ((s.version === 2 && typeof s.owner === 'object' && s.owner !== null && Array.isArray(s.owner.orders)) ||
      (s.version === 1 && typeof s.ledger === 'object' && s.ledger !== null && Array.isArray(s.ledger.orders)));
  if (!ok) throw new Error(`${p}: not a tickwire snapshot (version 1 or 2)`);
  return s;
}
