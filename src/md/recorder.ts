/**
 * Raw frame recorder, off the hot path: `record()` copies the frame bytes into a preallocated chunk (a memcpy) and
 * notes conn / receive time / offset in preallocated typed arrays: no allocation, no formatting, no I/O per frame.
 * A timer (every `flushMs`) formats the lines and hands them to a buffered write stream (asynchronous: no sync write
 * per frame), in the cryptofeed "format 2" NDJSON the fixtures use and the simulator's replay reads:
 *   {"t":"header","format":2,"exchange":..,"recorded":<epoch s>,"session":..,"part":N}
 *   {"t":"connect","conn":..,"ts":..,"addr":..}
 *   {"t":"recv","conn":..,"ts":<epoch s, local receive>,"data":"<raw frame text>"}
 *   {"t":"http","conn":..,"ts":..,"url":..,"data":"<raw body>"}
 * A full chunk is flushed at once and reused (a burst larger than the chunk between two timer flushes costs one
 * synchronous format, not a new buffer).
 *
 * Rotation (`rotation`): after `maxBytes` written or `maxMs` elapsed, the current file is closed and the next one
 * (`nextFile()`) starts with the header, the open connections and `resync()`'s lines: a snapshot of every synced
 * book, so that each file replays on its own; files of one session (`session`) replay as one timeline together.
 * Files are 0600 (the caller makes the directory 0700).
 */
import { chmodSync, createWriteStream, type WriteStream } from 'node:fs';
import { PRIVATE_FILE_MODE } from '../util/private.js';
import { wallMsOf } from '../util/clock.js';

/** A line that makes a new file replayable alone: a REST depth snapshot, or a frame of the last connection. */
export type ResyncLine = { t: 'http'; conn: string; url: string; data: string } | { t: 'recv'; data: string };

export interface RecorderRotation {
  /** a new file once this many bytes went to the current one (0: no size limit) */
  maxBytes: number;
  /** a new file once the current one is this old, ms (0: no time limit) */
  maxMs: number;
  /** the path of the next file */
  nextFile: () => string;
  /** snapshot lines of the books, written at the start of each new file (cold path) */
  resync?: () => ResyncLine[];
}

export interface RecorderOptions {
  /** names the recording: the header of every file carries it (replay keeps one session's files on one timeline) */
  session?: string;
  rotation?: RecorderRotation;
}

/** `kind` of an entry: a frame in the chunk, or a queued http line (index into `httpLines`) */
const HTTP = -1;

export class FrameRecorder {
  private out: WriteStream;
  private readonly chunk: Buffer;
  private used = 0;
  /** pending entries: conn id (or HTTP), receive ns, chunk offset (or http index), length */
  private conn: Int32Array;
  private recv: Float64Array;
  private off: Int32Array;
  private len: Int32Array;
  private n = 0;
  private httpLines: string[] = [];
  private readonly conns: Array<{ name: string; addr: string }> = [];
  private timer: NodeJS.Timeout;
  private part = 0;
  private bytes = 0;
  private openedMs = Date.now();
  private closing: Array<Promise<void>> = [];
  private rotation: RecorderRotation | undefined;
  /** every file written so far, in order */
  readonly files: string[] = [];
  lines = 0;
  flushed = 0;
  /** frames larger than the chunk (not recorded) */
  dropped = 0;
  /** flushes forced by a full chunk before the timer */
  fullFlushes = 0;
  rotations = 0;

  constructor(
    file: string,
    private readonly exchange: string,
    private readonly chunkBytes = 4 * 1024 * 1024,
    flushMs = 100,
    private readonly opts: RecorderOptions = {},
  ) {
    this.rotation = opts.rotation;
    this.chunk = Buffer.allocUnsafe(chunkBytes);
    const cap = 4096;
    this.conn = new Int32Array(cap);
    this.recv = new Float64Array(cap);
    this.off = new Int32Array(cap);
    this.len = new Int32Array(cap);
    this.out = this.open(file);
    this.timer = setInterval(() => this.flush(), flushMs);
    this.timer.unref?.();
  }

  /** the file being written */
  get file(): string {
    return this.files[this.files.length - 1] ?? '';
  }

  private open(file: string): WriteStream {
    const out = createWriteStream(file, { flags: 'a', mode: PRIVATE_FILE_MODE });
    try {
      chmodSync(file, PRIVATE_FILE_MODE); // an existing recording keeps its old mode otherwise
    } catch {
      /* created asynchronously by the stream: with PRIVATE_FILE_MODE */
    }
    this.files.push(file);
    this.openedMs = Date.now();
    this.bytes = 0;
    const header: Record<string, unknown> = { t: 'header', format: 2, exchange: this.exchange, recorded: Date.now() / 1000 };
    if (this.opts.session !== undefined) Object.assign(header, { session: this.opts.session, part: this.part });
    this.write(out, JSON.stringify(header) + '\n');
    return out;
  }

  private write(out: WriteStream, text: string): void {
    this.bytes += Buffer.byteLength(text);
    out.write(text);
  }

  /** Register a connection name; returns its id for record(). */
  connect(conn: string, addr: string, recvNs: number): number {
    this.flush(); // keep the file in receive order
    const id = this.conns.length;
    const name = `${conn}.${id}`;
    this.conns.push({ name, addr });
    this.write(this.out, JSON.stringify({ t: 'connect', conn: name, ts: wallMsOf(recvNs) / 1000, addr }) + '\n');
    return id;
  }

  /** Hot path: copy the frame and note where it is; nothing else. */
  record(connId: number, frame: Uint8Array, recvNs: number): void {
    const len = frame.length;
    if (len > this.chunkBytes) {
      this.dropped++;
      return;
    }
    if (this.used + len > this.chunkBytes) {
      this.fullFlushes++;
      this.flush();
    }
    if (this.n === this.conn.length) this.grow();
    const i = this.n++;
    this.chunk.set(frame, this.used);
    this.conn[i] = connId;
    this.recv[i] = recvNs;
    this.off[i] = this.used;
    this.len[i] = len;
    this.used += len;
  }

  private grow(): void {
    const cap = this.conn.length * 2;
    const c = new Int32Array(cap);
    c.set(this.conn);
    this.conn = c;
    const r = new Float64Array(cap);
    r.set(this.recv);
    this.recv = r;
    const o = new Int32Array(cap);
    o.set(this.off);
    this.off = o;
    const l = new Int32Array(cap);
    l.set(this.len);
    this.len = l;
  }

  /** A REST response (cold path), queued in order with the frames. */
  http(conn: string, url: string, body: string, recvNs: number): void {
    if (this.n === this.conn.length) this.grow();
    const i = this.n++;
    this.conn[i] = HTTP;
    this.recv[i] = recvNs;
    this.off[i] = this.httpLines.length;
    this.len[i] = 0;
    this.httpLines.push(JSON.stringify({ t: 'http', conn, ts: wallMsOf(recvNs) / 1000, url, data: body }) + '\n');
  }

  /** Format what is pending and hand it to the write stream (asynchronous); then rotate if the file is full or old. */
  flush(): void {
    if (this.n > 0) {
      let text = '';
      const n = this.n;
      for (let i = 0; i < n; i++) {
        const c = this.conn[i] as number;
        if (c === HTTP) {
          text += this.httpLines[this.off[i] as number];
          continue;
        }
        const off = this.off[i] as number;
        const data = this.chunk.toString('utf8', off, off + (this.len[i] as number));
        text += JSON.stringify({ t: 'recv', conn: this.conns[c]?.name ?? String(c), ts: wallMsOf(this.recv[i] as number) / 1000, data }) + '\n';
      }
      this.n = 0;
      this.used = 0;
      this.httpLines = [];
      this.lines += n;
      this.flushed += n;
      this.write(this.out, text);
    }
    const r = this.rotation;
    if (r && ((r.maxBytes > 0 && this.bytes >= r.maxBytes) || (r.maxMs > 0 && Date.now() - this.openedMs >= r.maxMs))) this.rotate(r);
  }

  /** Close the current file, start the next: header, the open connections, a snapshot of every synced book. */
  private rotate(r: RecorderRotation): void {
    const old = this.out;
    this.closing.push(new Promise<void>((resolve) => old.end(() => resolve())));
    this.part++;
    this.rotations++;
    this.out = this.open(r.nextFile());
    const tsNow = Date.now() / 1000;
    let text = '';
    for (const c of this.conns) text += JSON.stringify({ t: 'connect', conn: c.name, ts: tsNow, addr: c.addr }) + '\n';
    const last = this.conns[this.conns.length - 1]?.name ?? 'conn';
    for (const l of r.resync?.() ?? []) {
      text +=
        JSON.stringify(l.t === 'http' ? { t: 'http', conn: l.conn, ts: tsNow, url: l.url, data: l.data } : { t: 'recv', conn: last, ts: tsNow, data: l.data }) +
        '\n';
    }
    this.write(this.out, text);
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    // the last flush writes what is pending; no rotation into an empty file at the end
    this.rotation = undefined;
    this.flush();
    await new Promise<void>((resolve) => this.out.end(() => resolve()));
    await Promise.all(this.closing);
  }
}
