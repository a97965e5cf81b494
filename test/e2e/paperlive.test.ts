/**
 * `tickwire run --paper` on live public data, against the simulator's public streams over real sockets: a recording
 * proxy sits between the engine and the simulator, so the test sees every HTTP request and WebSocket upgrade the
 * engine makes. The engine's config names real presets (Binance mainnet, Bybit testnet) with endpoint overrides to the
 * proxy, and the environment holds the simulator's API keys: paper must neither need nor use them.
 *
 * The market moves only when the test moves it (generator in manual mode): synthetic liquidity is set and swept on
 * the simulator's books, which publishes the depth diffs and trades a venue would.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, request as httpRequest, type IncomingMessage, type Server } from 'node:http';
import { connect } from 'node:net';
import { join } from 'node:path';
import { main as runMain, runEngine, type RunOptions } from '../../src/app/run.js';
import { startSim, type SimHandle } from '../../src/sim/index.js';
import type { MatchingBook } from '../../src/sim/core/book.js';
import type { Engine } from '../../src/engine/engine.js';
import type { LivePaperGateway } from '../../src/exchange/paperlive.js';
import type { OrderRequest } from '../../src/model/orders.js';
import { BotState, F } from '../../src/model/botstate.js';
import { HopRecorder } from '../../src/util/hops.js';
import { loadConfig } from '../../src/config/load.js';
import { accessFromConfig } from '../../src/exchange/endpoints.js';
import { wireNetwork, type Wiring } from '../../src/app/wiring.js';
import { rmDir, tmpDir } from '../core/helpers.js';

const dir = tmpDir('e2e-paperlive');
const quiet = { log: { level: 'silent', destinations: [{ to: 'stderr', level: 'silent' }] } };

interface Seen {
  kind: 'http' | 'ws';
  method: string;
  path: string;
  /** an API key header or a signature parameter: a request that logs in */
  signed: boolean;
}

/** A transparent HTTP + WebSocket proxy to one origin that records every request and upgrade. */
async function recordingProxy(target: string, seen: Seen[]): Promise<{ url: string; server: Server }> {
  const t = new URL(target);
  const signed = (req: IncomingMessage): boolean =>
    req.headers['x-mbx-apikey'] !== undefined || req.headers['x-bapi-api-key'] !== undefined || /[?&]signature=/.test(req.url ?? '');
  const server = createServer((req, res) => {
    seen.push({ kind: 'http', method: req.method ?? '', path: req.url ?? '', signed: signed(req) });
    const up = httpRequest({ host: t.hostname, port: t.port, method: req.method, path: req.url, headers: { ...req.headers, host: t.host } }, (r) => {
      res.writeHead(r.statusCode ?? 502, r.headers);
      r.pipe(res);
    });
    up.on('error', () => res.destroy());
    req.pipe(up);
  });
  server.on('upgrade', (req, socket, head) => {
    seen.push({ kind: 'ws', method: req.method ?? '', path: req.url ?? '', signed: signed(req) });
    const up = connect(Number(t.port), t.hostname, () => {
      let raw = `${req.method} ${req.url} HTTP/1.1\r\n`;
      for (let i = 0; i < req.rawHeaders.length; i += 2) {
        const k = req.rawHeaders[i]!;
        raw += `${k}: ${k.toLowerCase() === 'host' ? t.host : req.rawHeaders[i + 1]}\r\n`;
      }
      up.write(raw + '\r\n');
      if (head.length > 0) up.write(head);
      up.pipe(socket);
      socket.pipe(up);
    });
    up.on('error', () => socket.destroy());
    socket.on('error', () => up.destroy());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  return { url: `http://127.0.0.1:${port}`, server };
}

/** Wait until `cond` holds (checked every 10 ms), or fail naming `what` after `ms`. */
async function until(what: string, cond: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

let sim: SimHandle;
const seen: Seen[] = [];
const proxies: Server[] = [];
let endpoints: Record<string, unknown>;
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  sim = await startSim({ venues: ['binanceSpot', 'bybit'], seed: 4, generatorMode: 'manual', symbols: ['BTCUSDT'], depthIntervalMs: 0 });
  sim.generator.seedBooks();
  const via = async (u: string): Promise<string> => {
    const x = new URL(u);
    const p = await recordingProxy(`http://${x.host}`, seen);
    proxies.push(p.server);
    return `${x.protocol}//${new URL(p.url).host}${x.pathname === '/' ? '' : x.pathname}`;
  };
  const bn = sim.endpoints.binanceSpot!;
  const bb = sim.endpoints.bybit!;
  const bbWs = await via(bb.wsStreamBaseUrl);
  endpoints = {
    binance: {
      preset: 'mainnet',
      endpoints: { spotRest: await via(bn.restBaseUrl), spotWs: await via(bn.wsStreamBaseUrl), spotWsApi: await via(bn.wsApiUrl) },
    },
    bybit: {
      preset: 'testnet',
      endpoints: {
        futuresRest: await via(bb.restBaseUrl),
        futuresWs: `${bbWs}/v5/public/linear`,
        futuresWsApi: await via(bb.wsApiUrl),
        privateWs: await via(bb.wsPrivateUrl!),
      },
    },
  };
  // the simulator's real keys are in the environment: paper must not use them
  env = {
    TICKWIRE_BINANCE_API_KEY: bn.apiKey,
    TICKWIRE_BINANCE_API_SECRET: bn.apiSecret,
    TICKWIRE_BYBIT_API_KEY: bb.apiKey,
    TICKWIRE_BYBIT_API_SECRET: bb.apiSecret,
  };
}, 60_000);

afterAll(async () => {
  for (const p of proxies) p.closeAllConnections();
  await Promise.all(proxies.map((p) => new Promise((r) => p.close(r))));
  await sim?.close();
  rmDir(dir);
});

/** Run the engine with `--paper` and this scenario; the run stops when the scenario ends (or fails). */
async function paperRun(name: string, scenario: (e: Engine, w: Wiring) => Promise<void>, extra: Partial<RunOptions> = {}) {
  let done = false;
  let failure: unknown;
  const r = await runEngine({
    paper: 'live',
    durationSec: 60,
    print: false,
    signals: false,
    env,
    stopWhen: () => done,
    overrides: {
      ...quiet,
      persistence: { dir: join(dir, name) },
      exchanges: endpoints,
      instruments: [
        { venue: 'binanceSpot', symbol: 'BTCUSDT' },
        { venue: 'bybitLinear', symbol: 'BTCUSDT' },
      ],
      strategy: { name: 'none' },
      signals: { funding: false, openInterest: false },
      risk: { maxOrderQty: 0.05, maxPositionPerSymbol: 0.1, maxOrderNotional: 10_000, maxTotalNotional: 100_000 },
      paper: { fees: { binanceSpot: { maker: 0.0002, taker: 0.0007 } } },
    },
    onReady: ({ engine, wiring }) => {
      scenario(engine, wiring).then(
        () => (done = true),
        (e: unknown) => {
          failure = e;
          done = true;
        },
      );
    },
    ...extra,
  });
  if (failure) throw failure;
  return r;
}

function bookOf(market: 'binanceSpot' | 'bybitLinear'): MatchingBook {
  return sim.books.get(market)!.get('BTCUSDT')!;
}

function gatewayOf(w: Wiring, venue: string): LivePaperGateway {
  const g = w.paper?.find((p) => p.venue === venue);
  if (!g) throw new Error(`no paper gateway for ${venue}`);
  return g;
}

describe('tickwire run --paper: live public data, local matching with queue position, nothing reaches the venue', () => {
  it('a passive order fills only after the volume ahead of it traded; a marketable order walks the book; cancel works; PnL has the fills', async () => {
    const fills: Array<{ price: number; qty: number; maker: boolean; fee: number }> = [];
    let pnlAtEnd = Number.NaN;
    const r = await paperRun('binance', async (e, w) => {
      const slot = e.slotOf('binanceSpot', 'BTCUSDT');
      const ins = e.instrument(slot)!;
      const sb = bookOf('binanceSpot');
      // the simulator's units are the engine's (same decimals): prices and sizes compare as they are
      expect(ins.priceDecimals).toBe(sb.instrument.priceDecimals);
      expect(ins.qtyDecimals).toBe(sb.instrument.qtyDecimals);
      const gw = gatewayOf(w, 'binanceSpot');
      const lot = Math.round(0.001 * 10 ** ins.qtyDecimals); // 0.001 BTC in quantity units
      const bid = sb.bestBidPrice();
      const ask = sb.bestAskPrice();
      const tick = ins.tickUnits;
      // a known book: 10 lots at the best bid; asks of 2, 2 and 10 lots on the first three levels
      sb.setSynthetic('BUY', bid, 10 * lot);
      sb.setSynthetic('SELL', ask, 2 * lot);
      sb.setSynthetic('SELL', ask + tick, 2 * lot);
      sb.setSynthetic('SELL', ask + 2 * tick, 10 * lot);
      await until(
        'the engine book shows the levels set on the simulator',
        () => e.state.tradable(slot) && engineLevel(w, slot, 'SELL', ask + 2 * tick) === 10 * lot && engineLevel(w, slot, 'BUY', bid) === 10 * lot,
      );

      // 1. passive buy of 5 lots at the best bid: 10 lots ahead of it
      const place = (req: Omit<OrderRequest, 'slot'>): string => {
        const x = e.placeManual({ slot, ...req });
        if (!x.id) throw new Error(`refused: ${x.refusal}`);
        return x.id;
      };
      const passive = place({ side: 'BUY', type: 'LIMIT', tif: 'GTC', price: bid, qty: 5 * lot });
      await until('the passive order is acked', () => e.order(passive)?.state === 'ACKED');
      expect(gw.queueOf('BTCUSDT')).toEqual([{ clientOrderId: passive, price: bid, left: 5 * lot, queueAhead: 10 * lot }]);
      // 9 lots trade at its price: still 1 lot ahead, nothing filled
      expect(sb.sweepSynthetic('SELL', 9 * lot, bid)).toBe(9 * lot);
      await until('the trades reached the queue', () => gw.queueOf('BTCUSDT')[0]?.queueAhead === lot);
      expect(e.order(passive)!.filledQty).toBe(0);
      expect(e.order(passive)!.state).toBe('ACKED');
      // others join behind it (the level grows to 21 lots): its place does not change
      sb.setSynthetic('BUY', bid, 21 * lot);
      await until('the level grew', () => engineLevel(w, slot, 'BUY', bid) === 21 * lot);
      expect(gw.queueOf('BTCUSDT')[0]?.queueAhead).toBe(lot);
      // 4 lots trade: 1 lot ahead, then 3 for the order
      expect(sb.sweepSynthetic('SELL', 4 * lot, bid)).toBe(4 * lot);
      await until('a partial fill', () => e.order(passive)?.filledQty === 3 * lot);
      expect(e.order(passive)!.state).toBe('PARTIALLY_FILLED');
      // 2 more: filled
      sb.sweepSynthetic('SELL', 2 * lot, bid);
      await until('filled', () => e.order(passive)?.state === 'FILLED');
      expect(e.order(passive)!.filledQty).toBe(5 * lot);

      // 2. a market buy of 5 lots walks the asks: 2 + 2 + 1 lots, three taker fills at the levels' prices
      const mkt = place({ side: 'BUY', type: 'MARKET', tif: 'IOC', price: 0, qty: 5 * lot });
      await until('the market order filled', () => e.order(mkt)?.state === 'FILLED');
      // 3. an IOC limit at the second ask for 10 lots takes 2 + 2 and expires with the rest
      const ioc = place({ side: 'BUY', type: 'LIMIT', tif: 'IOC', price: ask + tick, qty: 10 * lot });
      await until('the IOC order expired', () => e.order(ioc)?.state === 'EXPIRED');
      expect(e.order(ioc)!.filledQty).toBe(4 * lot);
      // 4. post-only that would take: rejected; a resting sell far away: cancelled
      const po = place({ side: 'BUY', type: 'LIMIT', tif: 'POST_ONLY', price: ask, qty: lot });
      await until('the post-only order was rejected', () => e.order(po)?.state === 'REJECTED');
      const far = place({ side: 'SELL', type: 'LIMIT', tif: 'GTC', price: ask + 20 * tick, qty: lot });
      await until('the far sell is acked', () => e.order(far)?.state === 'ACKED');
      expect((await gw.openOrders()).map((o) => o.clientOrderId)).toEqual([far]);
      expect(e.cancel(far)).toBe(true);
      await until('the far sell is cancelled', () => e.order(far)?.state === 'CANCELED');
      expect(await gw.openOrders()).toEqual([]);

      for (const f of await gw.tradeHistory('BTCUSDT', 0)) fills.push({ price: f.price, qty: f.qty, maker: f.maker, fee: f.fee });
      const px = (p: number) => p / 10 ** ins.priceDecimals;
      const q = (x: number) => x / 10 ** ins.qtyDecimals;
      // fills: 3 + 2 lots passive at the bid (maker); 2 @ask, 2 @ask+1, 1 @ask+2 (market); 2 @ask, 2 @ask+1 (IOC)
      expect(fills.map((f) => [f.price, f.qty / lot, f.maker])).toEqual([
        [bid, 3, true],
        [bid, 2, true],
        [ask, 2, false],
        [ask + tick, 2, false],
        [ask + 2 * tick, 1, false],
        [ask, 2, false],
        [ask + tick, 2, false],
      ]);
      for (const f of fills) expect(f.fee).toBeCloseTo(px(f.price) * q(f.qty) * (f.maker ? 0.0002 : 0.0007), 10);
      // the order owner booked them: cash, fees and the PnL it reports
      const spent = fills.reduce((a, f) => a + px(f.price) * q(f.qty), 0);
      const fees = fills.reduce((a, f) => a + f.fee, 0);
      expect(e.portfolio.cash[slot]).toBeCloseTo(-spent, 8);
      expect(e.portfolio.fees[slot]).toBeCloseTo(fees, 10);
      expect(e.portfolio.positionReal(slot)).toBeCloseTo(0.014, 12);
      pnlAtEnd = e.pnl();
      expect(pnlAtEnd).toBeCloseTo(-spent - fees + 0.014 * px(e.state.get(slot, F.mid)), 6);

      // Bybit linear: a passive sell at the best ask, queue 4 lots; 3 trade (nothing), then 2 (1 for the order)
      const bs = e.slotOf('bybitLinear', 'BTCUSDT');
      const bins = e.instrument(bs)!;
      const bb = bookOf('bybitLinear');
      const bl = Math.round(0.001 * 10 ** bins.qtyDecimals);
      const bask = bb.bestAskPrice();
      bb.setSynthetic('SELL', bask, 4 * bl);
      await until('the Bybit book shows the level', () => e.state.tradable(bs) && engineLevel(w, bs, 'SELL', bask) === 4 * bl);
      const bgw = gatewayOf(w, 'bybitLinear');
      const x = e.placeManual({ slot: bs, side: 'SELL', type: 'LIMIT', tif: 'GTC', price: bask, qty: 2 * bl });
      const sell = x.id!;
      await until('the Bybit sell is acked', () => e.order(sell)?.state === 'ACKED');
      expect(bgw.queueOf('BTCUSDT')[0]?.queueAhead).toBe(4 * bl);
      bb.sweepSynthetic('BUY', 3 * bl, bask);
      await until('the Bybit trades reached the queue', () => bgw.queueOf('BTCUSDT')[0]?.queueAhead === bl);
      expect(e.order(sell)!.filledQty).toBe(0);
      bb.setSynthetic('SELL', bask, 5 * bl); // 1 lot left + 4 joining behind
      bb.sweepSynthetic('BUY', 2 * bl, bask);
      await until('the Bybit sell partly filled', () => e.order(sell)?.filledQty === bl);
      expect(e.order(sell)!.state).toBe('PARTIALLY_FILLED');
      expect(e.portfolio.positionReal(bs)).toBeCloseTo(-0.001, 12);
      // the simulator's books never held an order of the engine's
      for (const book of [sb, bb]) for (const k of [sim.endpoints.binanceSpot!.apiKey, sim.endpoints.bybit!.apiKey]) expect(book.openCountOf(k)).toBe(0);
    });
    expect(r.code).toBe(0);
    const s = r.summary;
    expect(s.mode).toContain('paper');
    // 8 fills through the order owner (7 Binance, 1 Bybit), positions and PnL from them; the stop cancelled the rest
    expect(s.fills).toBe(8);
    expect(s.positions['binanceSpot:BTCUSDT']).toBeCloseTo(0.014, 12);
    expect(s.positions['bybitLinear:BTCUSDT']).toBeCloseTo(-0.001, 12);
    expect(s.orders.rejected).toBe(1);
    expect(s.orders.openAtEnd).toBe(0);
    expect(Number.isFinite(s.pnlQuote)).toBe(true);
    expect(pnlAtEnd).toBeLessThan(0); // the fees and the spread crossed
  }, 90_000);

  it('fail closed in the wiring too: endpoints that carry keys build no venue gateway, only the paper matchers', async () => {
    const cfg = loadConfig({ env: {}, overrides: { ...quiet, exchanges: endpoints } });
    const keys = {
      binance: { apiKey: env['TICKWIRE_BINANCE_API_KEY']!, apiSecret: env['TICKWIRE_BINANCE_API_SECRET']! },
      bybit: { apiKey: env['TICKWIRE_BYBIT_API_KEY']!, apiSecret: env['TICKWIRE_BYBIT_API_SECRET']! },
    };
    const access = accessFromConfig(cfg, keys);
    expect(access.binanceSpot?.apiKey).toBe(keys.binance.apiKey);
    expect(access.bybitLinear?.wsPrivateUrl).toBeDefined();
    const state = BotState.create(2);
    const w = await wireNetwork({
      refs: [
        { venue: 'binanceSpot', symbol: 'BTCUSDT' },
        { venue: 'bybitLinear', symbol: 'BTCUSDT' },
      ],
      state,
      hops: new HopRecorder(),
      access,
      ephemeral: true,
      describe: {},
      signals: { funding: false, openInterest: false, intervalMs: 30_000 },
      paper: { fees: {} },
    });
    try {
      expect(w.kind).toBe('paper');
      expect(w.paper?.map((p) => p.venue)).toEqual(['binanceSpot', 'bybitLinear']);
      expect(w.describe()['gateways']).toEqual(['binanceSpot', 'bybitLinear']);
      expect(await w.checkAccounts()).toEqual([]);
      await w.start();
      const sb = bookOf('binanceSpot');
      const far = sb.bestBidPrice() - 200;
      let n = 0;
      await until('both books in sync', () => {
        sb.setSynthetic('BUY', far, (1 + (n++ % 5)) * 1000);
        return state.tradable(0) && state.tradable(1);
      });
      const id = w.orders.place({ slot: 1, side: 'BUY', type: 'MARKET', tif: 'IOC', price: 0, qty: 1 });
      await until('the paper market order filled', () => w.orders.order(id!)?.state === 'FILLED');
    } finally {
      await w.stop();
    }
  });

  it('fail closed: the venue saw only public market data (no signed request, no order, no private stream or WS API session)', () => {
    expect(seen.length).toBeGreaterThan(0);
    const ws = seen.filter((x) => x.kind === 'ws').map((x) => x.path);
    const http = seen.filter((x) => x.kind === 'http');
    expect(seen.filter((x) => x.signed)).toEqual([]);
    expect(http.filter((x) => x.method !== 'GET')).toEqual([]);
    // only reference data and depth snapshots over REST, only the public market streams over WebSocket
    expect(http.filter((x) => !/^\/(api\/v3\/(exchangeInfo|depth)|v5\/market\/)/.test(x.path))).toEqual([]);
    expect(ws.length).toBeGreaterThanOrEqual(2);
    expect(ws.filter((p) => !/^\/(stream\?streams=|v5\/public\/linear)/.test(p))).toEqual([]);
  });

  it('a real preset with --paper needs no credentials (without --paper the same config is refused naming secretsFile)', async () => {
    await expect(
      runEngine({
        print: false,
        signals: false,
        env: {},
        durationSec: 1,
        overrides: { ...quiet, persistence: { dir: join(dir, 'nokeys') }, exchanges: endpoints },
      }),
    ).rejects.toThrow(/secretsFile/);
    let ok = false;
    const r = await paperRun(
      'nokeys',
      async (e) => {
        const slot = e.slotOf('binanceSpot', 'BTCUSDT');
        // Binance's book syncs on the first diff after its snapshot: move a far level until it has
        const sb = bookOf('binanceSpot');
        const far = sb.bestBidPrice() - 100 * e.instrument(slot)!.tickUnits;
        let n = 0;
        await until('the book is in sync', () => {
          sb.setSynthetic('BUY', far, (1 + (n++ % 5)) * 1000);
          return e.state.tradable(slot);
        });
        const id = e.placeManual({
          slot,
          side: 'BUY',
          type: 'LIMIT',
          tif: 'GTC',
          price: sb.bestBidPrice(),
          qty: 0.001 * 10 ** e.instrument(slot)!.qtyDecimals,
        }).id;
        await until('acked', () => e.order(id!)?.state === 'ACKED');
        ok = true;
      },
      { env: {} },
    );
    expect(ok).toBe(true);
    expect(r.code).toBe(0);
  }, 60_000);
});

/** The engine's own book: size at a price on one side (via the paper gateway's view of the feed) */
function engineLevel(w: Wiring, slot: number, side: 'BUY' | 'SELL', px: number): number {
  const g = w.paper?.find((p) => p.hasSlot(slot));
  return g ? g.levelAt(slot, side, px) : -1;
}

describe('tickwire run --paper: the flag', () => {
  it('--paper takes no value or =live / =offline; anything else is a usage error (exit 2) naming the choices', async () => {
    const err: string[] = [];
    const write = process.stderr.write.bind(process.stderr);
    process.stderr.write = ((c: string) => (err.push(String(c)), true)) as typeof process.stderr.write;
    try {
      expect(await runMain(['--paper=maybe'])).toBe(2);
    } finally {
      process.stderr.write = write;
    }
    expect(err.join('')).toMatch(/--paper takes no value, or =live or =offline/);
  });
});
