/**
 * Append-only journal of order intents, acks, fills, cancels: one record per line, `<crc32 hex8> <json>\n`.
 *
 * - Off the hot path: `append` only queues the encoded line; a timer (`batchMs`) writes the batch with one
 *   write(2) and, per the fsync policy, fsyncs after every batch (`batch`), every `fsyncIntervalMs`
 *   (`interval`) or never (`never`: the page cache survives a `kill -9`, not a power loss).
 * - Order intents (write-ahead, on the order path): `appendIntentNow` writes a preformatted line (fixed template,
 *   the changing fields written into a preallocated buffer, CRC-32 over its bytes) with one write(2), before the
 *   order is sent: byte-for-byte what `encodeRecord` would give, without JSON.stringify or a string per record;
 *   batched records already queued stay with the batch (not written in front of the intent).
 * - fsync never runs on the event loop while trading: the batch timer's fsync is `fs.fsync` with a callback (one in
 *   flight at a time; a batch written meanwhile is synced by the next one). Only `close()` syncs synchronously.
 *   A `kill -9` loses nothing written (the page cache survives it); fsync is about power loss.
 * - Reading (`readJournal`) stops at the first line that is truncated or fails its CRC / JSON: everything before
 *   it is recovered, the rest is reported (offset, bytes, reason) and truncated by `Journal.open` on recovery.
 */
import { closeSync, fchmodSync, fstatSync, fsync, fsyncSync, ftruncateSync, openSync, readSync, writeSync, existsSync } from 'node:fs';
import { mkdirPrivate, PRIVATE_FILE_MODE } from '../util/private.js';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';

export type JournalRecord =
  | { t: 'intent'; id: string; v: string; s: string; side: string; type: string; tif: string; px: number; qty: number; manual?: boolean; ms: number }
  | {
      t: 'event';
      id: string;
      v: string;
      s: string;
      k: string;
      st: string;
      x: string;
      tid: string;
      px: number;
      qty: number;
      cum: number;
      fee: number;
      fa: string;
      ms: number;
      op?: number;
      oq?: number;
    }
  | {
      t: 'adopt';
      id: string;
      v: string;
      s: string;
      side: string;
      type: string;
      tif: string;
      px: number;
      qty: number;
      filled: number;
      st: string;
      x: string;
      ms: number;
    }
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

// ---- preformatted intent lines -------------------------------------------------------------------------------

/**
 * CRC-32 (IEEE, zlib's), slicing-by-8: the same checksum `crc32()` of node:zlib gives, over a byte range of a
 * buffer, with no allocation (zlib's needs a subarray per call) and 8 bytes per step.
 */
const CRC_T = ((): Int32Array => {
  const t = new Int32Array(8 * 256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c;
  }
  for (let n = 0; n < 256; n++) {
    let c = t[n] as number;
    for (let k = 1; k < 8; k++) {
      c = (t[c & 0xff] as number) ^ (c >>> 8);
      t[k * 256 + n] = c;
    }
  }
  return t;
})();

export function crc32Range(b: Uint8Array, from: number, to: number): number {
  const t = CRC_T;
  let c = -1;
  let i = from;
  for (; i + 8 <= to; i += 8) {
    const lo = c ^ ((b[i] as number) | ((b[i + 1] as number) << 8) | ((b[i + 2] as number) << 16) | ((b[i + 3] as number) << 24));
    c =
      (t[1792 + (lo & 0xff)] as number) ^
      (t[1536 + ((lo >>> 8) & 0xff)] as number) ^
      (t[1280 + ((lo >>> 16) & 0xff)] as number) ^
      (t[1024 + (lo >>> 24)] as number) ^
      (t[768 + (b[i + 4] as number)] as number) ^
      (t[512 + (b[i + 5] as number)] as number) ^
      (t[256 + (b[i + 6] as number)] as number) ^
      (t[b[i + 7] as number] as number);
  }
  for (; i < to; i++) c = (t[(c ^ (b[i] as number)) & 0xff] as number) ^ (c >>> 8);
  return (c ^ -1) >>> 0;
}

const HEX = [48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 97, 98, 99, 100, 101, 102];

/** true when JSON.stringify(s) is '"' + s + '"' (printable ASCII, no quote or backslash) */
function plainAscii(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c > 0x7e || c === 0x22 || c === 0x5c) return false;
  }
  return true;
}

/**
 * One intent line built in a preallocated buffer: `<crc hex8> {"t":"intent","id":..,"ms":..}\n`, the same bytes
 * as `encodeRecord` of the same record (key order of the engine's intent record). `build` returns the line's length,
 * or -1 when a field needs JSON escaping or does not fit (the caller then encodes the record the ordinary way).
 */
export class IntentLine {
  readonly buf = Buffer.allocUnsafe(1024);
  private pos = 0;
  // the template's fixed parts, encoded once (copied byte by byte: no call into C++ per part)
  private static readonly L_ID = Buffer.from('{"t":"intent","id":"', 'latin1');
  private static readonly L_V = Buffer.from('","v":"', 'latin1');
  private static readonly L_S = Buffer.from('","s":"', 'latin1');
  private static readonly L_SIDE = Buffer.from('","side":"', 'latin1');
  private static readonly L_TYPE = Buffer.from('","type":"', 'latin1');
  private static readonly L_TIF = Buffer.from('","tif":"', 'latin1');
  private static readonly L_PX = Buffer.from('","px":', 'latin1');
  private static readonly L_QTY = Buffer.from(',"qty":', 'latin1');
  private static readonly L_MANUAL_T = Buffer.from(',"manual":true,"ms":', 'latin1');
  private static readonly L_MANUAL_F = Buffer.from(',"manual":false,"ms":', 'latin1');

  private lit(l: Uint8Array): void {
    // a byte loop: for these short parts cheaper than TypedArray.prototype.set
    const b = this.buf;
    let p = this.pos;
    for (let i = 0; i < l.length; i++) b[p++] = l[i] as number;
    this.pos = p;
  }

  /** a plain-ASCII string's characters (checked by plainAscii), no quotes */
  private chars(s: string): void {
    const b = this.buf;
    let p = this.pos;
    for (let i = 0; i < s.length; i++) b[p++] = s.charCodeAt(i);
    this.pos = p;
  }

  /** JSON number text (String(n) for finite numbers; integers written digit by digit, no string) */
  private num(n: number): void {
    const b = this.buf;
    if (Number.isSafeInteger(n)) {
      let v = n;
      if (v < 0) {
        b[this.pos++] = 0x2d;
        v = -v;
      }
      let digits = 1;
      for (let x = v; x >= 10; x = Math.floor(x / 10)) digits++;
      let at = this.pos + digits;
      this.pos = at;
      do {
        b[--at] = 48 + (v % 10);
        v = Math.floor(v / 10);
      } while (v > 0);
    } else this.chars(Number.isFinite(n) ? String(n) : 'null');
  }

  build(id: string, v: string, s: string, side: string, type: string, tif: string, px: number, qty: number, manual: boolean, ms: number): number {
    if (id.length + v.length + s.length + side.length + type.length + tif.length > 600) return -1;
    if (!plainAscii(id) || !plainAscii(v) || !plainAscii(s) || !plainAscii(side) || !plainAscii(type) || !plainAscii(tif)) return -1;
    const L = IntentLine;
    this.pos = 9;
    this.lit(L.L_ID);
    this.chars(id);
    this.lit(L.L_V);
    this.chars(v);
    this.lit(L.L_S);
    this.chars(s);
    this.lit(L.L_SIDE);
    this.chars(side);
    this.lit(L.L_TYPE);
    this.chars(type);
    this.lit(L.L_TIF);
    this.chars(tif);
    this.lit(L.L_PX);
    this.num(px);
    this.lit(L.L_QTY);
    this.num(qty);
    this.lit(manual ? L.L_MANUAL_T : L.L_MANUAL_F);
    this.num(ms);
    const b = this.buf;
    b[this.pos++] = 0x7d;
    const crc = crc32Range(b, 9, this.pos);
    for (let i = 0; i < 8; i++) b[i] = HEX[(crc >>> ((7 - i) * 4)) & 15] as number;
    b[8] = 0x20;
    b[this.pos++] = 0x0a;
    return this.pos;
  }
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
  /** an fs.fsync is running in the thread pool */
  private syncing = false;
  private readonly intentLine = new IntentLine();
  /** bytes in the file (written) */
  size: number;
  records = 0;
  batches = 0;
  fsyncs = 0;
  writeErrors = 0;
  lastError = '';
  closed = false;

  private constructor(
    path: string,
    fd: number,
    size: number,
    private readonly opts: JournalOptions,
  ) {
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
    mkdirPrivate(dir);
    const path = join(dir, JOURNAL_FILE);
    const fd = openSync(path, 'a+', PRIVATE_FILE_MODE);
    fchmodSync(fd, PRIVATE_FILE_MODE); // a journal written by an older version may be 0644
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
    this.afterWriteAhead();
  }

  /**
   * `appendNow` of an intent record `{t:'intent', id, v, s, side, type, tif, px, qty, manual, ms}` without building
   * it: the line is formatted into a preallocated buffer (IntentLine) and written with one write(2), alone. Records
   * already queued for the batch (other orders' acks and fills) stay queued for the batch timer instead of being
   * written in front of it (measured in the wire-to-wire run: that flush was ~18 µs p50 of the order path): every
   * order's own records still follow its intent in the file (they can only be appended once it was sent), and
   * replay does not depend on the order between different orders' intents and events. Same line as `appendNow`.
   */
  appendIntentNow(id: string, v: string, s: string, side: string, type: string, tif: string, px: number, qty: number, manual: boolean, ms: number): void {
    if (this.closed) return;
    const line = this.intentLine;
    const len = line.build(id, v, s, side, type, tif, px, qty, manual, ms);
    this.records++;
    if (len >= 0) this.writeNow(line.buf, len);
    else {
      // a field needs JSON escaping: the ordinary encoding, still written alone
      const b = Buffer.from(encodeRecord({ t: 'intent', id, v, s, side, type, tif, px, qty, manual, ms }), 'utf8');
      this.writeNow(b, b.length);
    }
    this.afterWriteAhead();
  }

  /** one line with write(2) now, nothing else (errors counted: the kill switch fires on them) */
  private writeNow(buf: Buffer, len: number): void {
    try {
      let off = 0;
      while (off < len) off += writeSync(this.fd, buf, off, len - off);
      this.size += len;
      this.batches++;
      this.dirty = true;
    } catch (e) {
      this.writeErrors++;
      this.lastError = (e as Error).message;
    }
  }

  /** a write-ahead record waits for the batch timer's fsync (policy `batch`) */
  private afterWriteAhead(): void {
    if (this.opts.fsync === 'batch') {
      this.dirty = true;
      if (this.timer === undefined) this.timer = setTimeout(this.flushTimer, this.opts.batchMs);
    }
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
      this.dirty = true;
    } catch (e) {
      this.writeErrors++;
      this.lastError = (e as Error).message;
      return;
    }
    if (fsyncNow) this.syncIfDirty();
  }

  /**
   * fsync off the event loop: `fs.fsync` runs in the thread pool, one at a time; data written while one runs
   * stays dirty and the completion starts the next one. An error counts as a write error (the kill switch fires).
   */
  private syncIfDirty(): void {
    if (!this.dirty || this.closed || this.syncing) return;
    this.dirty = false;
    this.syncing = true;
    fsync(this.fd, this.fsyncDone);
  }

  private readonly fsyncDone = (err: NodeJS.ErrnoException | null): void => {
    this.syncing = false;
    if (this.closed) return; // close() synced synchronously
    if (err) {
      this.writeErrors++;
      this.lastError = err.message;
      return;
    }
    this.fsyncs++;
    if (this.dirty && this.opts.fsync === 'batch') this.syncIfDirty();
  };

  close(): void {
    if (this.closed) return;
    if (this.timer) clearTimeout(this.timer);
    if (this.fsyncTimer) clearInterval(this.fsyncTimer);
    // last batch and its fsync synchronously: the process may exit right after
    if (this.pending.length > 0) this.writePending(false);
    if (this.opts.fsync !== 'never' && (this.dirty || this.syncing)) {
      try {
        fsyncSync(this.fd);
        this.fsyncs++;
      } catch (e) {
        this.writeErrors++;
        this.lastError = (e as Error).message;
      }
    }
    this.dirty = false;
    this.closed = true;
    closeSync(this.fd);
  }
}
