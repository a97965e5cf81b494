/**
 * 24 h socket limits, shortened: the simulator closes every socket 2 s after it opened (as Binance does at 24 h), the
 * gateways rotate their WS API / trade WS sessions and private streams make-before-break after 700 ms. Orders flow
 * without a pause across several rotations: every request is answered over the WS transport (none refused, none
 * falls back to REST, none with an unknown outcome), every fill is booked once and equals the exchange's, and the
 * simulator's forced close never fires on a gateway socket. Without rotation the simulator does close them (so the
 * first test can fail).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createBinanceGateway } from '../../src/exchange/binance/trade/index.js';
import { createBybitGateways } from '../../src/exchange/bybit/trade/index.js';
import type { VenueGateway } from '../../src/orders/gateway.js';
import { OrderManager } from '../../src/orders/manager.js';
import type { Instrument, VenueId } from '../../src/model/types.js';
import { wsStats } from '../../src/net/ws.js';
import { startSim, type SimHandle } from '../../src/sim/index.js';
import { Transport } from '../../src/util/hops.js';
import { bbo, instrumentOf, until, untilState } from './harness.js';
import { IpWindow } from '../../src/net/ratelimit.js';

const SIM_LIFETIME_MS = 2000;
const ROTATE_AFTER_MS = 700;
/** long enough for four rotations of every socket */
const FLOW_MS = 3800;

type Exchange = 'binanceSpot' | 'binanceUsdm' | 'bybit';

interface Rig {
  s: SimHandle;
  m: OrderManager;
  venues: VenueId[];
  /** WsStats names of the rotating sockets */
  conns: string[];
}

let rig: Rig | undefined;
afterEach(async () => {
  await rig?.m.stop();
  await rig?.s.close();
  rig = undefined;
});

async function start(ex: Exchange, rotateAfterMs: number): Promise<Rig> {
  const s = await startSim({
    venues: [ex],
    seed: 11,
    symbols: ['BTCUSDT'],
    rate: 200,
    // order-rate limits lifted: the test is about sockets, and needs more orders per rotation than 50 / 10 s
    venueOptions:
      ex === 'bybit'
        ? {
            bybit: {
              connLifetimeMs: SIM_LIFETIME_MS,
              rateLimits: { create: { linear: 1000, spot: 1000 }, cancel: { linear: 1000, spot: 1000 }, query: 100_000, ipPer5s: 100_000 },
            },
          }
        : { [ex]: { connLifetimeMs: SIM_LIFETIME_MS, limits: { orders10s: 100_000, ordersLong: 10_000_000, weightPerMin: 1_000_000 } } },
  });
  let gateways: VenueGateway[];
  let venues: VenueId[];
  let conns: string[];
  const tmpl = (i: Instrument) => [{ symbol: i.symbol, priceDecimals: i.priceDecimals, qtyDecimals: i.qtyDecimals }];
  if (ex === 'bybit') {
    const ep = s.endpoints.bybit!;
    venues = ['bybitLinear', 'bybitSpot'];
    gateways = createBybitGateways(
      venues.map((v) => ({
        category: v === 'bybitSpot' ? ('spot' as const) : ('linear' as const),
        restBaseUrl: ep.restBaseUrl,
        wsApiUrl: ep.wsApiUrl,
        wsPrivateUrl: ep.wsPrivateUrl!,
        apiKey: ep.apiKey,
        apiSecret: ep.apiSecret,
        instruments: tmpl(instrumentOf(s, v)),
        transport: 'ws' as const,
        timeoutMs: 2000,
        recovery: { queryDelayMs: 10 },
        socketLifetimeMs: rotateAfterMs,
        // the simulator's IP limit is lifted (ipPer5s above); the engine's IP window likewise (queryDelayMs 10 makes
        // hundreds of order queries per second)
        ipWindow: new IpWindow(100_000, 5000),
      })),
    );
    conns = ['bybitLinear-trade', 'bybitSpot-trade', 'bybit-private'];
  } else {
    const ep = s.endpoints[ex]!;
    venues = [ex];
    gateways = [
      createBinanceGateway({
        venue: ex,
        restBaseUrl: ep.restBaseUrl,
        wsApiUrl: ep.wsApiUrl,
        wsStreamBaseUrl: ep.wsStreamBaseUrl,
        apiKey: ep.apiKey,
        apiSecret: ep.apiSecret,
        ed25519ApiKey: ep.ed25519ApiKey!,
        ed25519PrivateKeyPem: ep.ed25519PrivateKeyPem!,
        instruments: tmpl(instrumentOf(s, ex)),
        transport: 'wsapi',
        limits: { weightPerMinute: 1_000_000, ordersPer10s: 100_000, ordersPerMinute: 10_000_000, headroom: 0.95 },
        timeoutMs: 2000,
        recovery: { queryDelayMs: 10 },
        socketLifetimeMs: rotateAfterMs,
      }),
    ];
    conns = [`${ex}-wsapi`, `${ex}-user`];
  }
  const m = new OrderManager({ instruments: venues.map((v, slot) => instrumentOf(s, v, slot)), gateways });
  await m.start();
  return { s, m, venues, conns };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Orders without a pause on every venue, three workers each: a marketable IOC (buy, then sell) and a resting GTC that
 * is cancelled once acknowledged. Returns the ids.
 */
async function flow(r: Rig, ms: number): Promise<string[]> {
  const ids: string[] = [];
  const end = Date.now() + ms;
  const worker = async (slot: number, venue: VenueId, w: number): Promise<void> => {
    const ins = instrumentOf(r.s, venue, slot);
    const lot = 2 * 10 ** Math.max(0, ins.qtyDecimals - 3); // 0.002 (USD-M min notional 100)
    for (let k = 0; Date.now() < end; k++) {
      const { bid, ask } = bbo(r.s, venue);
      const resting = (k + w) % 3 === 2;
      const buy = resting || k % 2 === 0;
      const id = resting
        ? r.m.place({ slot, side: 'BUY', type: 'LIMIT', tif: 'GTC', price: Math.max(1, bid - 300), qty: lot })
        : r.m.place({ slot, side: buy ? 'BUY' : 'SELL', type: 'LIMIT', tif: 'IOC', price: buy ? ask + 200 : Math.max(1, bid - 200), qty: lot });
      expect(id, 'refused locally').toBeTruthy();
      ids.push(id!);
      if (resting) {
        await untilState(r.m, id!, ['ACKED', 'PARTIALLY_FILLED', 'FILLED', 'REJECTED'], 6000);
        if (r.m.order(id!)!.state !== 'FILLED' && r.m.order(id!)!.state !== 'REJECTED') expect(r.m.cancel(id!)).toBe(true);
      }
      await untilState(r.m, id!, ['FILLED', 'CANCELED', 'EXPIRED', 'REJECTED'], 6000);
      await sleep(5);
    }
  };
  await Promise.all(r.venues.flatMap((v, slot) => [0, 1, 2].map((w) => worker(slot, v, w))));
  return ids;
}

const lifetimeCloses = (r: Rig): number =>
  Object.values(r.s.venueHandles[r.s.endpoints.bybit ? 'bybit' : (r.venues[0] as 'binanceSpot' | 'binanceUsdm')]?.lifetimeCloses?.() ?? {}).reduce(
    (a, b) => a + b,
    0,
  );

describe.each(['binanceSpot', 'binanceUsdm', 'bybit'] as const)('%s: sockets rotate before the venue closes them', (ex) => {
  it('orders flow across several rotations: nothing refused, lost or booked twice; no forced close', async () => {
    const before = new Map<string, { rotations: number; disconnects: number }>();
    rig = await start(ex, ROTATE_AFTER_MS);
    const r = rig;
    for (const c of r.conns) before.set(c, { rotations: wsStats(c).rotations, disconnects: wsStats(c).disconnects });

    const ids = await flow(r, FLOW_MS);
    expect(ids.length).toBeGreaterThan(30);

    // every request answered over WS: no reject, no REST fallback, no unknown outcome
    for (const id of ids) {
      const o = r.m.order(id)!;
      expect(o.state, `${id}: ${o.reason}`).not.toBe('REJECTED');
      expect(o.code, `${id}: ${o.reason}`).toBe(0);
      expect(o.sentVia, `${id} sent over WS`).toBe(Transport.Ws);
    }
    // rotations happened on every socket, none was dropped, and the simulator never had to close one
    for (const c of r.conns) {
      const b = before.get(c)!;
      expect(wsStats(c).rotations - b.rotations, `${c} rotations`).toBeGreaterThanOrEqual(3);
      expect(wsStats(c).disconnects - b.disconnects, `${c} disconnects`).toBe(0);
    }
    expect(lifetimeCloses(r)).toBe(0);

    // every fill the exchange made was booked once: the engine's filled quantity is the exchange's, per order
    const filled = ids.filter((id) => r.m.order(id)!.filledQty > 0 || r.m.order(id)!.state === 'FILLED');
    expect(filled.length).toBeGreaterThan(5);
    const byVenue = new Map<VenueId, number>();
    for (const id of filled) {
      const o = r.m.order(id)!;
      const ex2 = (await r.m.queryOrder(id, o.venue, o.symbol))!;
      await until(() => r.m.order(id)!.filledQty === ex2.filledQty, 4000, `${id}: engine ${r.m.order(id)!.filledQty} = exchange ${ex2.filledQty}`);
      // a spot buy pays its fee in the base asset: the position received is smaller by it (fee units x 10^qtyDecimals)
      const ins = instrumentOf(r.s, o.venue, r.venues.indexOf(o.venue));
      const spot = o.venue === 'binanceSpot' || o.venue === 'bybitSpot';
      const baseFee = spot && o.side === 'BUY' ? o.fees * 10 ** ins.qtyDecimals : 0;
      byVenue.set(o.venue, (byVenue.get(o.venue) ?? 0) + (o.side === 'BUY' ? ex2.filledQty - baseFee : -ex2.filledQty));
    }
    for (const [v, q] of byVenue) expect(r.m.portfolio.of(v, 'BTCUSDT').qty, `${v} position`).toBeCloseTo(q, 6);
  }, 30_000);
});

describe.each(['binanceSpot', 'bybit'] as const)('%s: without rotation', (ex) => {
  it('the simulator closes the sockets at the end of their lifetime', async () => {
    rig = await start(ex, 60_000);
    const r = rig;
    const before = r.conns.map((c) => wsStats(c).disconnects);
    await until(() => lifetimeCloses(r) >= r.conns.length, SIM_LIFETIME_MS * 4, 'forced closes');
    await until(() => r.conns.every((c, i) => wsStats(c).disconnects > before[i]!), 4000, 'disconnects seen by the gateways');
    expect(wsStats(r.conns[0]!).byCode.get(1000)).toBeGreaterThan(0);
  }, 20_000);
});
