/**
 * REST transport (src/net/rest.ts): requests leave inside `request()` once a pooled connection is idle and has
 * been read through a check phase (undici >= 7.28 alone defers them to a setImmediate), responses and failures are
 * what they were, and a connection that receives unsolicited bytes while idle is never written to again.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBinanceGateway } from '../../src/exchange/binance/trade/index.js';
import { RestClient, RestError } from '../../src/net/rest.js';
import { bbo, instrumentOf, manager, sim, until, type SimHandle } from './harness.js';

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('RestClient against the simulator', () => {
  let s: SimHandle;
  let base = '';
  beforeAll(async () => {
    s = await sim(['binanceSpot']);
    base = s.endpoints.binanceSpot!.restBaseUrl;
  });
  afterAll(async () => {
    await s?.close();
  });

  it('writes each request inside request() on a warm keep-alive pool, and answers as before', async () => {
    const c = new RestClient(base, { connections: 2 });
    try {
      await c.warm('/api/v3/ping');
      await pause(5);
      const w0 = c.stats.written;
      const d0 = c.stats.deferred;
      for (let i = 0; i < 20; i++) {
        const p = c.request('GET', '/api/v3/time');
        const r = await p;
        expect(r.status).toBe(200);
        expect(typeof (JSON.parse(r.text) as { serverTime: number }).serverTime).toBe('number');
        expect(r.headers['content-type']).toMatch(/json/);
        await pause(2); // the next request comes in a later turn, after the connection's last bytes were read
      }
      expect(c.stats.written - w0).toBe(20);
      expect(c.stats.deferred - d0).toBe(0);
      // a POST with a body (an unsigned one: the venue's error answer comes back as a response, not a throw)
      const r = await c.request('POST', '/api/v3/order', {
        body: Buffer.from('symbol=BTCUSDT'),
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      });
      expect(r.status).toBeGreaterThanOrEqual(400);
      expect(typeof (JSON.parse(r.text) as { code: number }).code).toBe('number');
    } finally {
      await c.close();
    }
  });

  it('a Binance REST place leaves inside the engine call: orders acknowledged, none deferred', async () => {
    const ep = s.endpoints.binanceSpot!;
    const i = instrumentOf(s, 'binanceSpot');
    const gw = createBinanceGateway({
      venue: 'binanceSpot',
      restBaseUrl: ep.restBaseUrl,
      wsApiUrl: ep.wsApiUrl,
      wsStreamBaseUrl: ep.wsStreamBaseUrl,
      apiKey: ep.apiKey,
      apiSecret: ep.apiSecret,
      instruments: [{ symbol: i.symbol, priceDecimals: i.priceDecimals, qtyDecimals: i.qtyDecimals }],
      transport: 'rest',
      timeoutMs: 1000,
      userStream: false,
    });
    const { m } = manager(i, gw);
    await m.start();
    try {
      await pause(5);
      const d0 = gw.rest.stats.deferred;
      const w0 = gw.rest.stats.written;
      for (let k = 0; k < 5; k++) {
        const { bid } = bbo(s, 'binanceSpot');
        const id = m.place({ slot: 0, side: 'BUY', type: 'LIMIT', tif: 'GTC', price: Math.max(1, bid - 500), qty: 10 ** Math.max(0, i.qtyDecimals - 3) })!;
        await until(() => m.order(id)?.state === 'ACKED' || m.order(id)?.state === 'REJECTED', 4000, `${id} answered`);
        expect(m.order(id)!.state).toBe('ACKED'); // the venue verified the signature over the bytes sent
        await pause(2);
      }
      expect(gw.rest.stats.deferred - d0).toBe(0);
      expect(gw.rest.stats.written - w0).toBeGreaterThanOrEqual(5);
      await gw.cancelAll();
    } finally {
      await m.stop();
    }
  });

  it('without eagerWrite, undici defers every request on a reused idle socket (the behaviour this module works around)', async () => {
    const c = new RestClient(base.replace('127.0.0.1', 'localhost'), { connections: 1, eagerWrite: false }); // its own pool
    try {
      await c.request('GET', '/api/v3/ping');
      await pause(5);
      const d0 = c.stats.deferred;
      for (let i = 0; i < 5; i++) {
        expect((await c.request('GET', '/api/v3/ping')).status).toBe(200);
        await pause(2);
      }
      expect(c.stats.deferred - d0).toBe(5);
    } finally {
      await c.close();
    }
  });
});

describe('RestClient against a misbehaving server', () => {
  let srv: Server;
  let port = 0;
  const sockets = new Set<Socket>();
  let connections = 0;
  beforeAll(async () => {
    srv = createServer((sock) => {
      connections++;
      sockets.add(sock);
      sock.on('close', () => sockets.delete(sock));
      let n = 0;
      sock.on('data', (d) => {
        if (!d.includes('\r\n\r\n')) return;
        n++;
        const body = `{"conn":${connections},"n":${n}}`;
        sock.write(
          `HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\nx-mbx-used-weight-1m: 7\r\nx-mbx-used-weight-1m: 8\r\n\r\n${body}`,
        );
        // the first response on each connection is followed, a little later, by an unsolicited one
        if (n === 1) setTimeout(() => sock.write('HTTP/1.1 200 OK\r\ncontent-length: 6\r\n\r\nPOISON'), 2);
      });
    });
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    port = (srv.address() as { port: number }).port;
  });
  afterAll(async () => {
    for (const x of sockets) x.destroy();
    await new Promise((r) => srv.close(r));
  });

  it('drops a connection that sent unsolicited bytes while idle; the next request gets its own answer', async () => {
    const c = new RestClient(`http://127.0.0.1:${port}`, { connections: 1 });
    try {
      const a = await c.request('GET', '/x');
      expect(JSON.parse(a.text)).toEqual({ conn: 1, n: 1 });
      expect(a.headers['x-mbx-used-weight-1m']).toEqual(['7', '8']); // repeated header: an array, as undici's request() gave it
      await pause(20); // the unsolicited response arrives and is read while idle
      const b = await c.request('GET', '/y');
      expect(b.text).not.toContain('POISON');
      expect(JSON.parse(b.text)).toEqual({ conn: 2, n: 1 });
    } finally {
      await c.close();
    }
  });

  it('classifies a refused connection as notSent', async () => {
    const dead = createServer();
    await new Promise<void>((r) => dead.listen(0, '127.0.0.1', r));
    const deadPort = (dead.address() as { port: number }).port;
    await new Promise((r) => dead.close(r));
    const c = new RestClient(`http://127.0.0.1:${deadPort}`, { connections: 1 });
    try {
      const err = await c.request('POST', '/order', { body: 'a=1' }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(RestError);
      expect((err as RestError).kind).toBe('notSent');
      expect((err as RestError).causeCode).toBe('ECONNREFUSED');
    } finally {
      await c.close();
    }
  });

  it('classifies a timeout after the bytes left as unknown', async () => {
    const held = new Set<Socket>();
    const quiet = createServer((sock) => {
      held.add(sock);
      sock.on('data', () => undefined);
    });
    await new Promise<void>((r) => quiet.listen(0, '127.0.0.1', r));
    const c = new RestClient(`http://127.0.0.1:${(quiet.address() as { port: number }).port}`, { connections: 1, timeoutMs: 100 });
    try {
      const err = await c.request('POST', '/order', { body: 'a=1' }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(RestError);
      expect((err as RestError).kind).toBe('unknown');
      expect((err as RestError).causeCode).toBe('UND_ERR_HEADERS_TIMEOUT');
    } finally {
      await c.close();
      for (const x of held) x.destroy();
      await new Promise((r) => quiet.close(r));
    }
  });
});
