/**
 * Minimal RFC 6455 client on node:net / node:tls, written to compete with `ws` on the receive path:
 * a complete unfragmented server frame inside one socket chunk is delivered as (chunk, start, end) with no copy
 * and no per-message object; frames split across chunks (or fragmented messages) are assembled in one reusable
 * buffer. Answers pings, replies to close, masks what it sends. No extensions (permessage-deflate is never
 * offered), no subprotocols. Benchmarked against `ws` and undici's WebSocket in bench/suites/md-ws.ts.
 */
import { createHash, randomBytes } from 'node:crypto';
import net from 'node:net';
import tls from 'node:tls';

export interface RawWsOptions {
  url: string;
  /** one complete message: bytes [start, end) of buf (valid only during the call) */
  onMessage(buf: Buffer, start: number, end: number, opcode: number): void;
  onClose?(code: number, reason: string): void;
  headers?: Record<string, string>;
  maxPayload?: number;
  handshakeTimeoutMs?: number;
}

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

export class RawWs {
  private sock: net.Socket | undefined;
  private open = false;
  private closed = false;
  /** leftover bytes of an incomplete frame */
  private acc: Buffer = Buffer.allocUnsafe(64 * 1024);
  private accLen = 0;
  /** fragmented message being assembled */
  private frag: Buffer = Buffer.allocUnsafe(0);
  private fragLen = 0;
  private fragOpcode = 0;
  private readonly maxPayload: number;

  constructor(readonly opts: RawWsOptions) {
    this.maxPayload = opts.maxPayload ?? 64 * 1024 * 1024;
  }

  get isOpen(): boolean {
    return this.open;
  }

  connect(): Promise<void> {
    const u = new URL(this.opts.url);
    const secure = u.protocol === 'wss:';
    const port = Number(u.port || (secure ? 443 : 80));
    const key = randomBytes(16).toString('base64');
    const expectAccept = createHash('sha1')
      .update(key + GUID)
      .digest('base64');
    return new Promise<void>((resolve, reject) => {
      const sock = secure ? tls.connect({ host: u.hostname, port, servername: u.hostname }) : net.connect({ host: u.hostname, port });
      this.sock = sock;
      sock.setNoDelay(true);
      let head = Buffer.alloc(0);
      const timer = setTimeout(() => {
        sock.destroy();
        reject(new Error('websocket handshake timeout'));
      }, this.opts.handshakeTimeoutMs ?? 10_000);
      const onConnect = () => {
        let req =
          `GET ${u.pathname}${u.search} HTTP/1.1\r\nHost: ${u.host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
          `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n`;
        for (const [k, v] of Object.entries(this.opts.headers ?? {})) req += `${k}: ${v}\r\n`;
        sock.write(req + '\r\n');
      };
      sock.once(secure ? 'secureConnect' : 'connect', onConnect);
      const onHandshake = (chunk: Buffer) => {
        head = Buffer.concat([head, chunk]);
        const end = head.indexOf('\r\n\r\n');
        if (end < 0) return;
        sock.off('data', onHandshake);
        clearTimeout(timer);
        const text = head.subarray(0, end).toString('latin1');
        const status = /^HTTP\/1\.1 (\d+)/.exec(text)?.[1];
        const accept = /\r\nsec-websocket-accept:\s*(\S+)/i.exec(text)?.[1];
        if (status !== '101' || accept !== expectAccept) {
          sock.destroy();
          reject(new Error(`websocket handshake failed: ${text.split('\r\n')[0] ?? ''}`));
          return;
        }
        this.open = true;
        sock.on('data', (c: Buffer) => this.onData(c));
        const rest = head.subarray(end + 4);
        resolve();
        if (rest.length > 0) this.onData(rest);
      };
      sock.on('data', onHandshake);
      sock.on('error', (e) => {
        clearTimeout(timer);
        if (!this.open) reject(e);
      });
      sock.on('close', () => {
        clearTimeout(timer);
        const was = this.open;
        this.open = false;
        if (!this.closed && was) this.opts.onClose?.(1006, 'socket closed');
        else if (this.closed) this.opts.onClose?.(1000, '');
      });
    });
  }

  /** Send a text (or binary) message, masked as the RFC requires of clients. */
  send(data: string | Buffer, opcode = 1): boolean {
    if (!this.open || !this.sock) return false;
    const payload = typeof data === 'string' ? Buffer.from(data) : data;
    this.sock.write(frame(opcode, payload));
    return true;
  }

  close(code = 1000): void {
    if (this.closed) return;
    this.closed = true;
    if (this.open && this.sock) {
      const p = Buffer.allocUnsafe(2);
      p.writeUInt16BE(code, 0);
      this.sock.write(frame(8, p));
      this.sock.end();
      setTimeout(() => this.sock?.destroy(), 1000).unref();
    } else this.sock?.destroy();
  }

  terminate(): void {
    this.sock?.destroy();
  }

  private onData(chunk: Buffer): void {
    let buf = chunk;
    let len = chunk.length;
    if (this.accLen > 0) {
      // append to the leftover of the previous chunk (one copy, only for frames that span chunks)
      const need = this.accLen + chunk.length;
      if (need > this.acc.length) {
        const n = Buffer.allocUnsafe(Math.max(need, this.acc.length * 2));
        this.acc.copy(n, 0, 0, this.accLen);
        this.acc = n;
      }
      chunk.copy(this.acc, this.accLen);
      buf = this.acc;
      len = need;
      this.accLen = 0;
    }
    let p = 0;
    while (p < len) {
      if (len - p < 2) break;
      const b0 = buf[p] as number;
      const b1 = buf[p + 1] as number;
      let plen = b1 & 0x7f;
      let h = 2;
      if (plen === 126) {
        if (len - p < 4) break;
        plen = buf.readUInt16BE(p + 2);
        h = 4;
      } else if (plen === 127) {
        if (len - p < 10) break;
        plen = buf.readUInt32BE(p + 2) * 4294967296 + buf.readUInt32BE(p + 6);
        h = 10;
      }
      const masked = (b1 & 0x80) !== 0;
      if (masked) h += 4; // servers must not mask; tolerate it
      if (plen > this.maxPayload) {
        this.fail(1009, 'message too big');
        return;
      }
      if (len - p < h + plen) break;
      const s = p + h;
      const e = s + plen;
      if (masked) {
        for (let i = 0; i < plen; i++) buf[s + i] = (buf[s + i] as number) ^ (buf[s - 4 + (i & 3)] as number);
      }
      this.onFrame(b0, buf, s, e);
      if (!this.open) return;
      p = e;
    }
    if (p < len) {
      // keep the incomplete frame for the next chunk
      const rest = len - p;
      if (buf === this.acc) this.acc.copy(this.acc, 0, p, len);
      else {
        if (rest > this.acc.length) this.acc = Buffer.allocUnsafe(Math.max(rest, this.acc.length * 2));
        buf.copy(this.acc, 0, p, len);
      }
      this.accLen = rest;
    }
  }

  private onFrame(b0: number, buf: Buffer, s: number, e: number): void {
    const fin = (b0 & 0x80) !== 0;
    const op = b0 & 0x0f;
    if (op === 1 || op === 2) {
      if (fin) this.opts.onMessage(buf, s, e, op);
      else {
        this.fragOpcode = op;
        this.fragLen = 0;
        this.appendFrag(buf, s, e);
      }
    } else if (op === 0) {
      this.appendFrag(buf, s, e);
      if (fin) {
        this.opts.onMessage(this.frag, 0, this.fragLen, this.fragOpcode);
        this.fragLen = 0;
      }
    } else if (op === 9) {
      this.sock?.write(frame(10, Buffer.from(buf.subarray(s, e))));
    } else if (op === 8) {
      const code = e - s >= 2 ? buf.readUInt16BE(s) : 1005;
      if (!this.closed) {
        this.closed = true;
        const p = Buffer.allocUnsafe(2);
        p.writeUInt16BE(code === 1005 ? 1000 : code, 0);
        this.sock?.write(frame(8, p));
        this.sock?.end();
        this.open = false;
        this.opts.onClose?.(code, buf.toString('utf8', s + 2, e));
      }
    }
    // op 10 (pong): nothing to do
  }

  private appendFrag(buf: Buffer, s: number, e: number): void {
    const need = this.fragLen + (e - s);
    if (need > this.maxPayload) {
      this.fail(1009, 'message too big');
      return;
    }
    if (need > this.frag.length) {
      const n = Buffer.allocUnsafe(Math.max(need, this.frag.length * 2, 4096));
      this.frag.copy(n, 0, 0, this.fragLen);
      this.frag = n;
    }
    buf.copy(this.frag, this.fragLen, s, e);
    this.fragLen = need;
  }

  private fail(code: number, reason: string): void {
    this.open = false;
    this.sock?.destroy();
    this.opts.onClose?.(code, reason);
  }
}

/** A masked client frame. */
function frame(opcode: number, payload: Buffer): Buffer {
  const n = payload.length;
  const h = n < 126 ? 2 : n < 65536 ? 4 : 10;
  const out = Buffer.allocUnsafe(h + 4 + n);
  out[0] = 0x80 | opcode;
  if (n < 126) out[1] = 0x80 | n;
  else if (n < 65536) {
    out[1] = 0x80 | 126;
    out.writeUInt16BE(n, 2);
  } else {
    out[1] = 0x80 | 127;
    out.writeUInt32BE(Math.floor(n / 4294967296), 2);
    out.writeUInt32BE(n >>> 0, 6);
  }
  const mask = randomBytes(4);
  mask.copy(out, h);
  for (let i = 0; i < n; i++) out[h + 4 + i] = (payload[i] as number) ^ (mask[i & 3] as number);
  return out;
}
