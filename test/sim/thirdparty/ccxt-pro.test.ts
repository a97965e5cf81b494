/**
 * ccxt.pro (bundled in ccxt 4) watchOrderBook against the simulator's market streams: ccxt subscribes to the real
 * stream names, syncs its local book with the REST snapshot + diffs by the exchange's own rules (Binance U/u/pu,
 * Bybit snapshot/delta with u), and must end up with the simulator's book. Only the hosts change.
 */
import ccxt from 'ccxt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MatchingBook } from '../../../src/sim/core/book.js';
import type { SimVenueEndpoints } from '../../../src/sim/core/types.js';
import { startSim, type SimHandle } from '../../../src/sim/index.js';
import { rebase } from './helpers.js';

interface ProBook {
  bids: Array<[number, number]>;
  asks: Array<[number, number]>;
  nonce?: number;
}
interface ProEx {
  urls: Record<string, unknown>;
  loadMarkets(): Promise<unknown>;
  loadHttpProxyAgent(): Promise<unknown>;
  watchOrderBook(symbol: string, limit?: number): Promise<ProBook>;
  watchTrades(symbol: string): Promise<Array<{ price?: number; amount?: number; side?: string }>>;
  watchTicker(symbol: string): Promise<{ symbol?: string; close?: number; baseVolume?: number }>;
  watchBidsAsks(symbols: string[]): Promise<Record<string, { bid?: number; ask?: number }>>;
  close(): Promise<unknown>;
}

const LEVELS = 20;

function top(book: MatchingBook): { bids: Array<[number, number]>; asks: Array<[number, number]> } {
  const d = book.depth(LEVELS);
  const pd = 10 ** book.instrument.priceDecimals;
  const qd = 10 ** book.instrument.qtyDecimals;
  return { bids: d.bids.map(([p, q]) => [p / pd, q / qd]), asks: d.asks.map(([p, q]) => [p / pd, q / qd]) };
}

/** Drive the generator and keep watching until ccxt's book equals the simulator's top levels (bounded). */
async function converge(sim: SimHandle, ex: ProEx, symbol: string, book: MatchingBook, rounds = 30): Promise<ProBook> {
  const u0 = book.updateId;
  let ob = await ex.watchOrderBook(symbol);
  let last = '';
  for (let i = 0; i < rounds; i++) {
    sim.generator.produce(50);
    const deadline = Date.now() + 3000;
    for (;;) {
      ob = await Promise.race([ex.watchOrderBook(symbol), new Promise<ProBook>((r) => setTimeout(() => r(ob), 200))]);
      const want = top(book);
      last = JSON.stringify({ got: { bids: ob.bids.slice(0, LEVELS), asks: ob.asks.slice(0, LEVELS) }, want });
      if (JSON.stringify(ob.bids.slice(0, LEVELS)) === JSON.stringify(want.bids) && JSON.stringify(ob.asks.slice(0, LEVELS)) === JSON.stringify(want.asks)) {
        if (i >= 3 && book.updateId > u0) return ob; // converged after several rounds of diffs, not just on the snapshot
        break;
      }
      if (Date.now() > deadline) break;
    }
  }
  throw new Error('ccxt book never matched the simulator: ' + last.slice(0, 2000));
}

describe('ccxt.pro watchOrderBook against the simulator', () => {
  let sim: SimHandle;
  const open: ProEx[] = [];
  beforeAll(async () => {
    sim = await startSim({ venues: ['binanceSpot', 'binanceUsdm', 'bybit'], seed: 5, generatorMode: 'manual', symbols: ['BTCUSDT'], depthIntervalMs: 0 });
  });
  afterAll(async () => {
    for (const e of open) await e.close().catch(() => undefined);
    await sim?.close();
  });

  function binance(kind: 'spot' | 'usdm', ep: SimVenueEndpoints): ProEx {
    const opts = { fetchMarkets: { types: [kind === 'spot' ? 'spot' : 'linear'] }, fetchCurrencies: false };
    const ex = (kind === 'spot' ? new ccxt.pro.binance({ options: opts }) : new ccxt.pro.binanceusdm({ options: opts })) as unknown as ProEx;
    const api = ex.urls['api'] as Record<string, unknown>;
    rebase(api, ep.restBaseUrl, (k) => k !== 'ws');
    // ccxt's own future stream URL ends in /ws and it inserts /public|/market itself (2026-04 USD-M split)
    rebase(api['ws'] as Record<string, unknown>, ep.wsStreamBaseUrl);
    open.push(ex);
    return ex;
  }

  it('binance spot: btcusdt@depth diffs over the REST snapshot', async () => {
    const ex = binance('spot', sim.endpoints.binanceSpot!);
    await ex.loadHttpProxyAgent(); // ccxt needs it for plain ws:// URLs (the simulator has no TLS)
    await ex.loadMarkets();
    const book = sim.books.get('binanceSpot')!.get('BTCUSDT')!;
    const ob = await converge(sim, ex, 'BTC/USDT', book);
    expect(ob.nonce).toBe(book.updateId);
  });

  it('binance usdm: /public/ws depth diffs with pu over the REST snapshot', async () => {
    const ex = binance('usdm', sim.endpoints.binanceUsdm!);
    await ex.loadHttpProxyAgent(); // ccxt needs it for plain ws:// URLs (the simulator has no TLS)
    await ex.loadMarkets();
    const book = sim.books.get('binanceUsdm')!.get('BTCUSDT')!;
    const ob = await converge(sim, ex, 'BTC/USDT:USDT', book);
    expect(ob.nonce).toBe(book.updateId);
  });

  it('bybit spot and linear: orderbook.N snapshot + deltas', async () => {
    const ep = sim.endpoints.bybit!;
    const ex = new ccxt.pro.bybit({ options: { fetchMarkets: { types: ['spot', 'linear'] } } }) as unknown as ProEx;
    open.push(ex);
    const api = ex.urls['api'] as Record<string, unknown>;
    rebase(api, ep.restBaseUrl, (k) => k !== 'ws');
    rebase(api['ws'] as Record<string, unknown>, ep.wsStreamBaseUrl);
    await ex.loadHttpProxyAgent();
    await ex.loadMarkets();
    await converge(sim, ex, 'BTC/USDT', sim.books.get('bybitSpot')!.get('BTCUSDT')!);
    await converge(sim, ex, 'BTC/USDT:USDT', sim.books.get('bybitLinear')!.get('BTCUSDT')!);
  });

  /** Bounded wait on a watch while the generator keeps the market moving. */
  async function moving<T>(p: Promise<T>, ms = 5000): Promise<T> {
    const t = setInterval(() => sim.generator.produce(100), 50);
    try {
      return await Promise.race([p, new Promise<T>((_, j) => setTimeout(() => j(new Error('no update within ' + ms + ' ms')), ms))]);
    } finally {
      clearInterval(t);
    }
  }

  it('watchTrades, watchTicker (miniTicker), watchBidsAsks on all four markets', async () => {
    const cases: Array<[ProEx, string, MatchingBook]> = [];
    const bs = binance('spot', sim.endpoints.binanceSpot!);
    const bu = binance('usdm', sim.endpoints.binanceUsdm!);
    const ep = sim.endpoints.bybit!;
    const by = new ccxt.pro.bybit({ options: { fetchMarkets: { types: ['spot', 'linear'] } } }) as unknown as ProEx;
    open.push(by);
    rebase(by.urls['api'] as Record<string, unknown>, ep.restBaseUrl, (k) => k !== 'ws');
    rebase((by.urls['api'] as Record<string, unknown>)['ws'] as Record<string, unknown>, ep.wsStreamBaseUrl);
    for (const ex of [bs, bu, by]) {
      await ex.loadHttpProxyAgent();
      await ex.loadMarkets();
    }
    cases.push([bs, 'BTC/USDT', sim.books.get('binanceSpot')!.get('BTCUSDT')!]);
    cases.push([bu, 'BTC/USDT:USDT', sim.books.get('binanceUsdm')!.get('BTCUSDT')!]); // @trade: ccxt subscribes on /public
    cases.push([by, 'BTC/USDT', sim.books.get('bybitSpot')!.get('BTCUSDT')!]);
    cases.push([by, 'BTC/USDT:USDT', sim.books.get('bybitLinear')!.get('BTCUSDT')!]);
    for (const [ex, S, book] of cases) {
      const pd = 10 ** book.instrument.priceDecimals;
      const trades = await moving(ex.watchTrades(S));
      expect(trades.length).toBeGreaterThan(0);
      for (const t of trades) {
        expect(['buy', 'sell']).toContain(t.side);
        expect(t.amount).toBeGreaterThan(0);
        expect(Math.abs(t.price! - Number(book.instrument.initialPrice))).toBeLessThan(Number(book.instrument.initialPrice) * 0.05);
      }
      const tk = await moving(ex.watchTicker(S));
      expect(tk.symbol).toBe(S);
      expect(tk.close).toBeGreaterThan(0);
      const ba = (await moving(ex.watchBidsAsks([S])))[S]!;
      expect(ba.bid).toBeLessThan(ba.ask!);
      expect(ba.bid! * pd).toBeCloseTo(Math.round(ba.bid! * pd), 6); // on the tick grid
    }
  });

  it('binance spot and usdm: a dropped diff (sequence gap) makes ccxt resync, then it matches the book again', async () => {
    for (const [kind, market, S] of [
      ['spot', 'binanceSpot', 'BTC/USDT'],
      ['usdm', 'binanceUsdm', 'BTC/USDT:USDT'],
    ] as const) {
      const ex = binance(kind, kind === 'spot' ? sim.endpoints.binanceSpot! : sim.endpoints.binanceUsdm!);
      await ex.loadHttpProxyAgent();
      await ex.loadMarkets();
      const book = sim.books.get(market)!.get('BTCUSDT')!;
      await converge(sim, ex, S, book);
      sim.inject({ kind: 'dropDiff', market, symbol: 'BTCUSDT', count: 1 });
      let errors = 0;
      const end = Date.now() + 8000;
      // ccxt notices U != last u + 1 (spot) / pu != last u (usdm) and rejects the watch; watching again resyncs
      while (errors === 0 && Date.now() < end) {
        sim.generator.produce(50);
        try {
          await Promise.race([ex.watchOrderBook(S), new Promise((r) => setTimeout(r, 200))]);
        } catch {
          errors++;
        }
      }
      expect(errors).toBeGreaterThan(0);
      const ob = await converge(sim, ex, S, book);
      expect(ob.nonce).toBe(book.updateId);
    }
  });
});
