/**
 * Connection lifetime, shortened: the simulator closes every socket at the end of its lifetime, as Binance does at
 * 24 h (default; "a single connection is only valid for 24 hours"), with close code 1000, counted by kind. Bybit
 * documents no lifetime: off by default, on when configured.
 */
import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { startSim } from '../../../src/sim/index.js';

const LIFE_MS = 300;

/** open a socket; resolves with it and a promise of its close (code, reason, ms since the connect began) */
async function open(url: string): Promise<{ ws: WebSocket; closed: Promise<{ code: number; reason: string; afterMs: number }> }> {
  const t0 = Date.now(); // before the connect: the server's clock for this socket starts later
  const ws = new WebSocket(url);
  ws.on('error', () => {});
  await new Promise<void>((res, rej) => {
    ws.once('open', () => res());
    ws.once('unexpected-response', (_q, r) => rej(new Error(`HTTP ${r.statusCode}`)));
  });
  const closed = new Promise<{ code: number; reason: string; afterMs: number }>((res) =>
    ws.once('close', (code, reason) => res({ code, reason: reason.toString(), afterMs: Date.now() - t0 })),
  );
  return { ws, closed };
}

describe('sim connection lifetime', () => {
  it('Binance: market streams, WS API and USD-M private streams are closed at the end of their lifetime (1000), counted by kind', async () => {
    const sim = await startSim({
      venues: ['binanceSpot', 'binanceUsdm'],
      generatorMode: 'manual',
      symbols: ['BTCUSDT'],
      venueOptions: { binanceSpot: { connLifetimeMs: LIFE_MS }, binanceUsdm: { connLifetimeMs: LIFE_MS } },
    });
    try {
      const spot = sim.endpoints.binanceSpot!;
      const usdm = sim.endpoints.binanceUsdm!;
      const lk = (await (await fetch(`${usdm.restBaseUrl}/fapi/v1/listenKey`, { method: 'POST', headers: { 'x-mbx-apikey': usdm.apiKey } })).json()) as {
        listenKey: string;
      };
      const socks = await Promise.all([
        open(`${spot.wsStreamBaseUrl}/ws/btcusdt@bookTicker`),
        open(spot.wsApiUrl),
        open(`${usdm.wsStreamBaseUrl}/private/ws?listenKey=${lk.listenKey}`),
        open(usdm.wsApiUrl),
      ]);
      for (const s of socks) {
        const c = await s.closed;
        expect(c.code).toBe(1000);
        expect(c.reason).toBe('connection lifetime exceeded');
        expect(c.afterMs).toBeGreaterThanOrEqual(LIFE_MS); // never before its time
      }
      expect(sim.venueHandles.binanceSpot!.lifetimeCloses!()).toEqual({ market: 1, private: 0, wsapi: 1 });
      expect(sim.venueHandles.binanceUsdm!.lifetimeCloses!()).toEqual({ market: 0, private: 1, wsapi: 1 });
    } finally {
      await sim.close();
    }
  });

  it('Binance defaults to 24 h; Bybit to none, and closes public, private and trade sockets when configured', async () => {
    const sim = await startSim({
      venues: ['binanceSpot', 'bybit'],
      generatorMode: 'manual',
      symbols: ['BTCUSDT'],
      venueOptions: { bybit: { connLifetimeMs: LIFE_MS } },
    });
    try {
      const keep = await open(sim.endpoints.binanceSpot!.wsApiUrl);
      const by = sim.endpoints.bybit!;
      const socks = await Promise.all([open(`${by.wsStreamBaseUrl}/v5/public/linear`), open(by.wsPrivateUrl!), open(by.wsApiUrl)]);
      for (const s of socks) expect((await s.closed).code).toBe(1000);
      expect(sim.venueHandles.bybit!.lifetimeCloses!()).toEqual({ public: 1, private: 1, trade: 1 });
      expect(keep.ws.readyState).toBe(WebSocket.OPEN);
      expect(sim.venueHandles.binanceSpot!.lifetimeCloses!()).toEqual({ market: 0, private: 0, wsapi: 0 });
      keep.ws.close();
    } finally {
      await sim.close();
    }
    const plain = await startSim({ venues: ['bybit'], generatorMode: 'manual', symbols: ['BTCUSDT'] });
    try {
      const s = await open(plain.endpoints.bybit!.wsApiUrl);
      await new Promise((r) => setTimeout(r, LIFE_MS * 2));
      expect(s.ws.readyState).toBe(WebSocket.OPEN);
      expect(plain.venueHandles.bybit!.lifetimeCloses!()).toEqual({ public: 0, private: 0, trade: 0 });
      s.ws.close();
    } finally {
      await plain.close();
    }
  });
});
