/**
 * Append-only journal of order intents, acks, fills, cancels: one record per line, `<crc32 hex8> <json>\n`.
 *
 * - Off the hot path: `append` only queues the encoded line; a timer (`batchMs`) writes the batch with one
 *   write(2) and, per the fsync policy, fsyncs after every batch (`batch`), every `fsyncIntervalMs`
 *   (`interval`) or never (`never`: the page cache survives a `kill -9`, not a power loss).
 * - Reading (`readJournal`) stops at the first line that is truncated or fails its CRC / JSON: everything before
 *   it is recovered, the rest is reported (offset, bytes, reason) and truncated by `Journal.open` on recovery.
 */
import { closeSync, fstatSync, fsyncSync, ftruncateSync, openSync, readSync, writeSync, mkdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';

export type JournalRecord =
  | { t: 'intent'; id: string; v: string; s: string; side: string; type: string; tif: string; px: number; qty: number; manual?: boolean; ms: number }
  | { t: 'event'; id: string; v: string; s: string; k: string; st: string; x: string; tid: string; px: number; qty: number; cum: number; fee: number; fa: string; ms: number }
  | { t: 'adopt'; id: string; v: string; s: string; side: string; type: string; tif: string; px: number; qty: number; filled: number; st: string; x: string; ms: number }
  | { t: 'close'; id: string; st: string; why: string; ms: number }
  | { t: 'fill'; v: string; s: string; side: string; px: number; qty: number; tid: string; why: string; ms: number }
  | { t: 'mark'; what: string; ms: number };

export const JOURNAL_FILE = 'journal.ndjson';

export interface BadTail {
  offset: number;
  bytes: number;
  reason: string;
}

export interface ReadResult {
  records: JournalRecord[];
  /** byte length of the valid prefix */
  validBytes: number;
  badTail: BadTail | undefined;
}

function hex8(n: number): string {
  return (n >>> 0).toString(16).padStart(8, '0');
}

export function encodeRecord(r: JournalRecord): string {
  const json = JSON.stringify(r);
  return hex8(crc32(json)) + ' ' + json + '\n';
}

function readAll(path: string): Buffer {
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    const buf = Buffer.allocUnsafe(size);
    let off = 0;
    while (off < size) {
      const n = readSync(fd, buf, off, size - off, off);
      if (n === 0) break;
      off += n;
    }
    return buf.subarray(0, off);
  } finally {
    closeSync(fd);
  }
}

/** Read records from byte `from` on; stop at the first bad record. */
export function readJournal(path: string, from = 0): ReadResult {
  if (!existsSync(path)) return { records: [], validBytes: 0, badTail: undefined };
  const buf = readAll(path);
  const records: JournalRecord[] = [];
  let pos = Math.min(from, buf.length);
  while (pos < buf.length) {
    const nl = buf.indexOf(10, pos);
    if (nl < 0) return { records, validBytes: pos, badTail: { offset: pos, bytes: buf.length - pos, reason: 'truncated record (no newline)' } };
    const line = buf.toString('utf8', pos, nl);
    const sp = line.indexOf(' ');
    const json = sp === 8 ? line.slice(9) : '';
    if (sp !== 8 || hex8(crc32(json)) !== line.slice(0, 8)) {
      return { records, validBytes: pos, badTail: { offset: pos, bytes: buf.length - pos, reason: 'CRC mismatch' } };
    }
    let rec: JournalRecord;
    try {
      rec = JSON.parse(json) as JournalRecord;
    } catch {
      return { records, validBytes: pos, badTail: { offset: pos, bytes: buf.length - pos, reason: 'invalid JSON' } };
    }
    records.push(rec);
    pos = nl + 1;
  }
  return { records, validBytes: pos, badTail: undefined };
}

export interface JournalOptions {
  fsync: 'batch' | 'interval' | 'never';
  fsyncIntervalMs: number;
  batchMs: number;
}

export class Journal {
  readonly path: string;
  private fd: number;
  private pending: string[] = [];
  private timer: NodeJS.Timeout | undefined;
  private fsyncTimer: NodeJS.Timeout | undefined;
  private dirty = false;
  /** bytes in the file (written) */
  size: number;
  records = 0;
  batches = 0;
  fsyncs = 0;
  writeErrors = 0;
  lastError = '';
  closed = false;

  private constructor(path: string, fd: number, size: number, private readonly opts: JournalOptions) {
    this.path = path;
    this.fd = fd;
    this.size = size;
    if (opts.fsync === 'interval') {
      this.fsyncTimer = setInterval(() => this.syncIfDirty(), opts.fsyncIntervalMs);
      this.fsyncTimer.unref();
    }
  }

  /** Open for appending; `validBytes` (from recovery) truncates a bad tail first. */
  static open(dir: string, opts: JournalOptions, validBytes?: number): Journal {
    mkdirSync(dir, { recursive: true });
    const path = join(dir, JOURNAL_FILE);
    const fd = openSync(path, 'a+');
    let size = fstatSync(fd).size;
    if (validBytes !== undefined && validBytes < size) {
      ftruncateSync(fd, validBytes);
      fsyncSync(fd);
      size = validBytes;
    }
    return new Journal(path, fd, size, opts);
  }

  append(r: JournalRecord): void {
    if (this.closed) return;
    this.pending.push(encodeRecord(r));
    this.records++;
    if (this.timer === undefined) this.timer = setTimeout(this.flushTimer, this.opts.batchMs);
  }

  private readonly flushTimer = (): void => {
    this.timer = undefined;
    this.flush();
  };

  /**
   * Write-ahead: queue `r` and write everything queued now (one write(2) into the page cache, which survives a
   * `kill -9`); the fsync, if the policy wants one, stays with the batch timer. Used for order intents, so an
   * order never reaches an exchange before its intent is in the file.
   */
  appendNow(r: JournalRecord): void {
    if (this.closed) return;
    this.pending.push(encodeRecord(r));
    this.records++;
    this.writePending(false);
    if (this.opts.fsync === 'batch') this.dirty = true;
    if (this.timer === undefined && this.dirty && this.opts.fsync === 'batch') this.timer = setTimeout(this.flushTimer, this.opts.batchMs);
  }

  /** Write the queued batch now (synchronous write; called from the batch timer, snapshots and shutdown). */
  flush(): void {
    if (this.pending.length === 0) {
      // a write-ahead record may still wait for its fsync
      if (this.dirty && this.opts.fsync === 'batch') this.syncIfDirty();
      return;
    }
    this.writePending(this.opts.fsync === 'batch');
  }

  private writePending(fsyncNow: boolean): void {
    if (this.pending.length === 0 || this.closed) return;
    const data = this.pending.length === 1 ? (this.pending[0] as string) : this.pending.join('');
    this.pending = [];
    try {
      const buf = Buffer.from(data, 'utf8');
      let off = 0;
      while (off < buf.length) off += writeSync(this.fd, buf, off, buf.length - off);
      this.size += buf.length;
      this.batches++;
      if (fsyncNow) {
        fsyncSync(this.fd);
        this.fsyncs++;
        this.dirty = false;
      } else this.dirty = true;
    } catch (e) {
      this.writeErrors++;
      this.lastError = (e as Error).message;
    }
  }

  private syncIfDirty(): void {
    if (!this.dirty || this.closed) return;
    this.dirty = false;
    try {
      fsyncSync(this.fd);
      this.fsyncs++;
    } catch (e) {
      this.writeErrors++;
      this.lastError = (e as Error).message;
    }
  }

  close(): void {
    if (this.closed) return;
    if (this.timer) clearTimeout(this.timer);
    if (this.fsyncTimer) clearInterval(this.fsyncTimer);
    this.flush();
    if (this.opts.fsync !== 'never') this.syncIfDirty();
    this.closed = true;
    closeSync(this.fd);
  }
}
