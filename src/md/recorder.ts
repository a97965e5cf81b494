/**
 * Raw frame recorder, off the hot path: `record()` copies the frame bytes into a preallocated chunk (a memcpy,
 * no allocation while the chunk has room) and notes conn/time; a timer formats the lines and writes them
 * asynchronously in the cryptofeed "format 2" NDJSON the fixtures use (and the simulator's replay reads):
 *   {"t":"header","format":2,"exchange":..,"recorded":<epoch s>}
 *   {"t":"connect","conn":..,"ts":..,"addr":..}
 *   {"t":"recv","conn":..,"ts":<epoch s, local receive>,"data":"<raw frame text>"}
 *   {"t":"http","conn":..,"ts":..,"url":..,"data":"<raw body>"}
 */
import { chmodSync, createWriteStream, type WriteStream } from 'node:fs';
import { PRIVATE_FILE_MODE } from '../util/private.js';
import { wallMsOf } from '../util/clock.js';

interface Pending {
  conn: number;
  recvNs: number;
  start: number;
  len: number;
  chunk: Buffer;
  /** an http line (REST snapshot) kept in order with the frames */
  url?: string;
  body?: string;
  httpConn?: string;
}

export class FrameRecorder {
  private out: WriteStream;
  private chunk: Buffer;
  private used = 0;
  private pending: Pending[] = [];
  private readonly conns: string[] = [];
  private timer: NodeJS.Timeout;
  lines = 0;
  flushed = 0;
  dropped = 0;

  constructor(
    readonly file: string,
    exchange: string,
    private readonly chunkBytes = 4 * 1024 * 1024,
    flushMs = 100,
  ) {
    this.out = createWriteStream(file, { flags: 'a', mode: PRIVATE_FILE_MODE });
    try {
      chmodSync(file, PRIVATE_FILE_MODE); // an existing recording keeps its old mode otherwise
    } catch {
      /* created asynchronously by the stream: with PRIVATE_FILE_MODE */
    }
    this.chunk = Buffer.allocUnsafe(chunkBytes);
    this.out.write(JSON.stringify({ t: 'header', format: 2, exchange, recorded: Date.now() / 1000 }) + '\n');
    this.timer = setInterval(() => this.flush(), flushMs);
    this.timer.unref?.();
  }

  /** Register a connection name; returns its id for record(). */
  connect(conn: string, addr: string, recvNs: number): number {
    this.flush(); // keep the file in receive order
    const id = this.conns.length;
    const name = `${conn}.${id}`;
    this.conns.push(name);
    this.out.write(JSON.stringify({ t: 'connect', conn: name, ts: wallMsOf(recvNs) / 1000, addr }) + '\n');
    return id;
  }

  /** Hot path: copy the frame, no formatting. */
  record(connId: number, frame: Uint8Array, recvNs: number): void {
    const len = frame.length;
    if (this.used + len > this.chunk.length) {
      if (len > this.chunkBytes) {
        this.dropped++;
        return;
      }
      this.chunk = Buffer.allocUnsafe(this.chunkBytes);
      this.used = 0;
    }
    this.chunk.set(frame, this.used);
    this.pending.push({ conn: connId, recvNs, start: this.used, len, chunk: this.chunk });
    this.used += len;
  }

  /** A REST response (cold path), queued in order with the frames. */
  http(conn: string, url: string, body: string, recvNs: number): void {
    this.pending.push({ conn: -1, recvNs, start: 0, len: 0, chunk: this.chunk, url, body, httpConn: conn });
  }

  flush(): void {
    if (this.pending.length === 0) return;
    const batch = this.pending;
    this.pending = [];
    let text = '';
    for (const p of batch) {
      if (p.url !== undefined) {
        text += JSON.stringify({ t: 'http', conn: p.httpConn, ts: wallMsOf(p.recvNs) / 1000, url: p.url, data: p.body }) + '\n';
        continue;
      }
      const data = p.chunk.toString('utf8', p.start, p.start + p.len);
      text += JSON.stringify({ t: 'recv', conn: this.conns[p.conn] ?? String(p.conn), ts: wallMsOf(p.recvNs) / 1000, data }) + '\n';
    }
    this.lines += batch.length;
    this.flushed += batch.length;
    this.out.write(text);
  }

  close(): Promise<void> {
    clearInterval(this.timer);
    this.flush();
    return new Promise((resolve) => this.out.end(() => resolve()));
  }
}
