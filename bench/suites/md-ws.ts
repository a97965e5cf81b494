/**
 * WebSocket client candidates on loopback against a uWS server in the same process (one event loop, one vCPU:
 * no cross-core wake-ups in the numbers, see ../shared/perf-notes.md):
 *  - "md ws: <client> rtt 1.2KB"          client sends 1 byte, server answers one 1.2 KB depth frame; time until
 *                                         the client's message callback ran (round trip, both sides included)
 *  - "md ws: <client> burst 1.2KB (x100)" client asks for 100 frames, server sends them corked; per frame
 * Clients: `ws` 8 (with bufferutil, no UTF-8 validation, no deflate), undici 7 WebSocket (WHATWG API: text
 * frames become JS strings), and RawWs (src/net/wsraw.ts, node:net, frames delivered in place).
 * Run: npm run bench -- --filter md-ws
 */
import type { Bench } from 'tinybench';
import WebSocket from 'ws';
import { WebSocket as UndiciWebSocket } from 'undici';
import { uws } from '../../src/util/uws.js';
import { RawWs } from '../wsraw.js';
import { binanceDepthDriver } from '../benchframes.js';

interface Client {
  name: string;
  send(s: string): void;
  close(): void;
}

export default async function register(bench: Bench): Promise<void> {
  const frame = binanceDepthDriver().text;
  const app = uws().App();
  app.ws('/*', {
    maxPayloadLength: 1 << 20,
    message: (ws, msg) => {
      const c = new Uint8Array(msg)[0];
      if (c === 98 /* b */) {
        ws.cork(() => {
          for (let i = 0; i < 100; i++) ws.send(frame, false);
        });
      } else ws.send(frame, false);
    },
  });
  let listenSocket: import('../../src/util/uws.js').ListenSocket | undefined;
  const port = await new Promise<number>((resolve, reject) => {
    app.listen('127.0.0.1', 0, (ls) => {
      if (!ls) reject(new Error('listen failed'));
      else {
        listenSocket = ls;
        resolve(uws().us_socket_local_port(ls));
      }
    });
  });
  const url = `ws://127.0.0.1:${port}/bench`;

  let waiting = 0;
  let done: (() => void) | undefined;
  const onMsg = (): void => {
    if (--waiting === 0 && done) {
      const d = done;
      done = undefined;
      d();
    }
  };
  const ask = (c: Client, what: string, n: number): Promise<void> =>
    new Promise<void>((resolve) => {
      waiting = n;
      done = resolve;
      c.send(what);
    });

  const clients: Client[] = [];
  // ws
  const a = new WebSocket(url, { perMessageDeflate: false, skipUTF8Validation: true });
  a.binaryType = 'nodebuffer';
  a.on('message', onMsg);
  await new Promise<void>((r, j) => {
    a.once('open', () => r());
    a.once('error', j);
  });
  clients.push({ name: 'ws', send: (s) => a.send(s), close: () => a.terminate() });
  // undici
  const u = new UndiciWebSocket(url);
  u.binaryType = 'arraybuffer';
  u.addEventListener('message', onMsg);
  await new Promise<void>((r, j) => {
    u.addEventListener('open', () => r(), { once: true });
    u.addEventListener('error', () => j(new Error('undici ws error')), { once: true });
  });
  clients.push({ name: 'undici', send: (s) => u.send(s), close: () => u.close() });
  // raw
  const raw = new RawWs({ url, onMessage: onMsg });
  await raw.connect();
  clients.push({ name: 'raw(net)', send: (s) => raw.send(s), close: () => raw.terminate() });

  for (const c of clients) {
    bench.add(`md ws: ${c.name} rtt 1.2KB`, () => ask(c, 'r', 1));
    bench.add(`md ws: ${c.name} burst 1.2KB (x100)`, () => ask(c, 'b', 100));
  }
  bench.addEventListener('complete', () => {
    for (const c of clients) c.close();
    if (listenSocket) uws().us_listen_socket_close(listenSocket);
  });
}
