/**
 * Steps of the model-based property test: what fast-check generates, and how each one drives the engine (its
 * public OrderApi: placeManual, cancel, amend) or the exchange (the simulator's book and fault injection).
 *
 * Steps do not wait for the outcome of what they start: orders, cancels, amends, fills and disconnects overlap as
 * they would in trading. Only `settle` waits (for quiescence) and checks the three properties then.
 * Orders are picked by index at run time, among the orders the engine placed (cancel) or among the account's open
 * orders on the exchange (fill, amend, ...), so every step is always applicable (a pick in an empty list does
 * nothing) and a shrunk list of steps still runs.
 */
import fc from 'fast-check';
import type { Side } from '../../src/model/types.js';
import type { OrderRequest } from '../../src/model/orders.js';
import {
  EngineProbe,
  EngineRun,
  Exchange,
  isFutures,
  journalFills,
  SYMBOL,
  openOrderMismatches,
  positionMismatches,
  tradeMismatches,
  type ModelTransport,
  type ModelVenue,
  type Tolerate,
} from './harness.js';

export type Step =
  /** a new order: `at` deep = `ticks` behind the touch (rests), touch = at the best price of its side, cross = `ticks`
   * through the opposite best (trades; GTC rests the rest, IOC expires it, POST_ONLY is rejected); `thin` first
   * leaves one lot at the opposite best, so that a crossing order fills only in part */
  | { k: 'place'; side: Side; at: 'deep' | 'touch' | 'cross'; ticks: number; tif: 'GTC' | 'IOC' | 'POST_ONLY'; lots: number; thin: boolean }
  /** a market order (IOC) */
  | { k: 'market'; side: Side; lots: number }
  /** an order the exchange rejects (risk lets it pass): a post-only order that would take, or one the account cannot
   * have (spot: more than its balance; futures: reduce-only that would not reduce) */
  | { k: 'invalid'; side: Side; lots: number; why: 'postOnly' | 'account' }
  /** cancel one of the orders the engine placed (open, closed or not yet acknowledged) */
  | { k: 'cancel'; pick: number }
  /** fill an open order completely on the exchange, then cancel it in the same turn: the cancel is rejected */
  | { k: 'cancelFilled'; pick: number }
  /** cancel an open order while the venue answers the next REST request with 429: a cancel reject of a live order
   * (the engine then backs off for a second: its orders meanwhile are refused locally, RATE_LIMITED_LOCAL) */
  | { k: 'cancelRefused'; pick: number }
  /** amend an open order: total quantity down by `lotsDown` x 0.001 BTC (0 = the same quantity), futures' price by
   * `ticks` (spot amends quantity only: Binance's keepPriority amend) */
  | { k: 'amend'; pick: number; lotsDown: number; ticks: number }
  /** the synthetic market trades through an open order: part of it or all of it */
  | { k: 'fill'; pick: number; all: boolean }
  /** the simulator's generator takes `n` random steps (level changes, mid moves, sweeps that may fill orders) */
  | { k: 'moveMarket'; n: number }
  /** the exchange drops connections: market data, private stream, WS API, or all */
  | { k: 'disconnect'; which: 'market' | 'private' | 'wsapi' | 'all' }
  /** the venue answers the next `count` REST requests (whoever sends them: orders, cancels, queries, trade history)
   * with HTTP `status` (429: back off; 503 / 504: outcome unknown) */
  | { k: 'httpError'; status: 429 | 503 | 504; count: number }
  /** wait until every injected REST error has been answered (bounded: 3 s) */
  | { k: 'awaitHttpErrors' }
  /** let the engine and the exchange talk: up to `events` order events of the engine (each waited for 20 ms at most) */
  | { k: 'pause'; events: number }
  /** wait for quiescence and check the properties */
  | { k: 'settle' };

const side = fc.constantFrom<Side>('BUY', 'SELL');
const pick = fc.nat({ max: 1000 });

/** The steps of one venue and transport, weighted towards orders and fills. */
export function stepArb(venue: ModelVenue, transport: ModelTransport): fc.Arbitrary<Step> {
  const arbs: Array<{ weight: number; arbitrary: fc.Arbitrary<Step> }> = [
    {
      weight: 10,
      arbitrary: fc.record({
        k: fc.constant('place' as const),
        side,
        at: fc.constantFrom('deep' as const, 'touch' as const, 'cross' as const),
        ticks: fc.integer({ min: 0, max: 3 }),
        tif: fc.constantFrom('GTC' as const, 'GTC' as const, 'IOC' as const, 'POST_ONLY' as const),
        lots: fc.integer({ min: 1, max: 4 }),
        thin: fc.boolean(),
      }),
    },
    { weight: 1, arbitrary: fc.record({ k: fc.constant('market' as const), side, lots: fc.integer({ min: 1, max: 3 }) }) },
    {
      weight: 1,
      arbitrary: fc.record({
        k: fc.constant('invalid' as const),
        side,
        lots: fc.integer({ min: 1, max: 3 }),
        why: fc.constantFrom('postOnly' as const, 'account' as const),
      }),
    },
    { weight: 4, arbitrary: fc.record({ k: fc.constant('cancel' as const), pick }) },
    { weight: 2, arbitrary: fc.record({ k: fc.constant('cancelFilled' as const), pick }) },
    {
      weight: 2,
      arbitrary: fc.record({
        k: fc.constant('amend' as const),
        pick,
        lotsDown: fc.integer({ min: 0, max: 2 }),
        ticks: isFutures(venue) ? fc.integer({ min: -2, max: 2 }) : fc.constant(0),
      }),
    },
    { weight: 5, arbitrary: fc.record({ k: fc.constant('fill' as const), pick, all: fc.boolean() }) },
    { weight: 1, arbitrary: fc.record({ k: fc.constant('moveMarket' as const), n: fc.integer({ min: 1, max: 30 }) }) },
    {
      weight: 1,
      arbitrary: fc.record({
        k: fc.constant('disconnect' as const),
        which: fc.constantFrom('market' as const, 'private' as const, 'wsapi' as const, 'all' as const),
      }),
    },
    {
      weight: 1,
      arbitrary: fc.record({
        k: fc.constant('httpError' as const),
        status: fc.constantFrom(429 as const, 503 as const, 504 as const),
        count: fc.integer({ min: 1, max: 2 }),
      }),
    },
    { weight: 6, arbitrary: fc.record({ k: fc.constant('pause' as const), events: fc.integer({ min: 1, max: 6 }) }) },
    { weight: 1, arbitrary: fc.constant({ k: 'settle' as const }) },
  ];
  // a 429 reaches a cancel only when it travels over REST
  if (transport === 'rest') arbs.push({ weight: 1, arbitrary: fc.record({ k: fc.constant('cancelRefused' as const), pick }) });
  return fc.oneof(...arbs);
}

export function describeStep(s: Step): string {
  const { k, ...rest } = s;
  return `${k} ${Object.entries(rest)
    .map(([a, b]) => `${a}=${String(b)}`)
    .join(' ')}`.trim();
}

/** State of one run the steps share. */
export interface RunCtx {
  x: Exchange;
  run: EngineRun;
  transport: ModelTransport;
  tolerate: Tolerate;
  /** client ids the engine accepted, in order */
  placed: string[];
  /** side and (last asked) price of each of them */
  asked: Map<string, { side: Side; price: number }>;
  /** what each step did, for the failure message */
  trace: string[];
  /** bound of each quiescence wait */
  settleMs: number;
  /** a private stream or WS API connection was dropped since the last settle (a reconciliation may be under way) */
  gap: boolean;
}

/** An order's size unit: 0.002 BTC (futures' minimum notional is 100 USDT). */
function unit(c: RunCtx): number {
  return 2 * 10 ** (c.run.ins.qtyDecimals - 3);
}

function placeReq(c: RunCtx, req: Omit<OrderRequest, 'slot'>, what: string): void {
  const r = c.run.engine.placeManual({ slot: c.run.ins.slot, ...req });
  if (r.id !== null) {
    c.placed.push(r.id);
    c.asked.set(r.id, { side: req.side, price: req.type === 'MARKET' ? 0 : req.price });
  }
  c.trace.push(`${what} -> ${r.id ?? `refused (${r.refusal})`}`);
}

/**
 * With `tolerate.selfTradeLegs`: the best price a new or amended order on `side` may have without reaching one of
 * the account's own orders (open on the exchange, or placed and not yet reported terminal by the engine); undefined
 * when nothing of ours is on the other side. A buy must stay below our lowest sell, a sell above our highest buy.
 */
function selfTradeLimit(c: RunCtx, side: Side, except = ''): number | undefined {
  if (c.tolerate.selfTradeLegs !== true) return undefined;
  const other = side === 'BUY' ? 'SELL' : 'BUY';
  const prices: number[] = [];
  for (const o of c.x.openOrders()) if (o.side === other && o.id !== except) prices.push(o.price);
  for (const [id, a] of c.asked)
    if (a.side === other && id !== except && !c.run.terminal.has(id)) prices.push(a.price === 0 ? (side === 'BUY' ? 0 : Infinity) : a.price);
  if (prices.length === 0) return undefined;
  const t = c.x.book.tickUnits;
  return side === 'BUY' ? Math.min(...prices) - t : Math.max(...prices) + t;
}

function clampSelf(c: RunCtx, side: Side, price: number, except = ''): number {
  const lim = selfTradeLimit(c, side, except);
  if (lim === undefined) return price;
  return side === 'BUY' ? Math.min(price, lim) : Math.max(price, lim);
}

function pickOpen(c: RunCtx, n: number): ReturnType<Exchange['openOrders']>[number] | undefined {
  const open = c.x.openOrders();
  return open.length === 0 ? undefined : open[n % open.length];
}

/**
 * Let the synthetic market trade through an order resting at `price` on `side`: sweep the opposite way down/up to
 * its price, with what stands ahead of it (better levels, and at its level what is not ours from it on) plus `take`.
 */
function sweepInto(c: RunCtx, o: { id: string; side: Side; price: number }, take: number): number {
  const b = c.x.book;
  const d = b.depth(400);
  const levels = o.side === 'BUY' ? d.bids : d.asks;
  let ahead = 0;
  for (const [px, q] of levels) {
    const better = o.side === 'BUY' ? px > o.price : px < o.price;
    if (better) ahead += q;
    else if (px === o.price) {
      // ours from this order on (the exchange lists the account's orders in the order they arrived)
      const open = c.x.openOrders().filter((x) => x.side === o.side && x.price === o.price);
      const idx = open.findIndex((x) => x.id === o.id);
      const behind = open.slice(Math.max(0, idx)).reduce((s, x) => s + x.qty - x.filled, 0);
      ahead += q - behind;
    }
  }
  return b.sweepSynthetic(o.side === 'BUY' ? 'SELL' : 'BUY', Math.max(0, ahead) + take, o.price);
}

export async function runStep(c: RunCtx, s: Step): Promise<void> {
  const { x, run } = c;
  const e = run.engine;
  const b = x.book;
  const tick = b.tickUnits;
  const u = unit(c);
  switch (s.k) {
    case 'place': {
      const bid = b.bestBidPrice();
      const ask = b.bestAskPrice();
      if (!(bid > 0 && ask > 0)) return;
      const buy = s.side === 'BUY';
      let price: number;
      if (s.at === 'deep') price = buy ? bid - (s.ticks + 1) * tick : ask + (s.ticks + 1) * tick;
      else if (s.at === 'touch') price = buy ? bid : ask;
      else {
        if (s.thin) b.setSynthetic(buy ? 'SELL' : 'BUY', buy ? ask : bid, b.stepUnits);
        price = buy ? ask + s.ticks * tick : bid - s.ticks * tick;
      }
      price = clampSelf(c, s.side, price);
      if (!(price > 0)) return;
      placeReq(c, { side: s.side, type: 'LIMIT', tif: s.tif, price, qty: s.lots * u }, describeStep(s) + ` @${price}`);
      return;
    }
    case 'market':
      if (selfTradeLimit(c, s.side) !== undefined) {
        c.trace.push(`${describeStep(s)}: skipped (it could trade with an order of ours)`);
        return;
      }
      placeReq(c, { side: s.side, type: 'MARKET', tif: 'IOC', price: 0, qty: s.lots * u }, describeStep(s));
      return;
    case 'invalid': {
      const bid = b.bestBidPrice();
      const ask = b.bestAskPrice();
      const buy = s.side === 'BUY';
      if (s.why === 'postOnly') placeReq(c, { side: s.side, type: 'LIMIT', tif: 'POST_ONLY', price: buy ? ask : bid, qty: s.lots * u }, describeStep(s));
      else if (isFutures(x.venue)) {
        // reduce-only on the side that would grow the position (or open one): the venue refuses it
        const pos = x.position();
        const grow: Side = pos > 0 ? 'BUY' : pos < 0 ? 'SELL' : s.side;
        const px = grow === 'BUY' ? bid - 3 * tick : ask + 3 * tick;
        placeReq(c, { side: grow, type: 'LIMIT', tif: 'GTC', price: px, qty: s.lots * u, reduceOnly: true }, describeStep(s) + ` reduce-only ${grow}`);
      } else {
        // more than the spot account holds (100 BTC, 1,000,000 USDT): insufficient balance
        const qty = (buy ? 20 : 150) * 10 ** c.run.ins.qtyDecimals;
        placeReq(c, { side: s.side, type: 'LIMIT', tif: 'GTC', price: buy ? bid - 3 * tick : ask + 3 * tick, qty }, describeStep(s) + ` qty ${qty}`);
      }
      return;
    }
    case 'cancel': {
      if (c.placed.length === 0) return;
      const id = c.placed[s.pick % c.placed.length]!;
      c.trace.push(`${describeStep(s)}: ${id} -> ${e.cancel(id)}`);
      return;
    }
    case 'cancelFilled': {
      const o = pickOpen(c, s.pick);
      if (!o) return;
      const took = sweepInto(c, o, o.qty - o.filled);
      // the engine has not heard of the fill yet (the private event is still on its way): its cancel is rejected
      c.trace.push(`${describeStep(s)}: ${o.id} swept ${took}, cancel -> ${e.cancel(o.id)}`);
      return;
    }
    case 'cancelRefused': {
      const o = pickOpen(c, s.pick);
      if (!o) return;
      if (c.gap && c.tolerate.reconcileNotRetried === true) {
        c.trace.push(`${describeStep(s)}: skipped (a reconciliation after a stream gap may be under way: the 429 could hit it)`);
        return;
      }
      x.sim.inject({ kind: 'httpStatus', market: x.market, status: 429, count: 1, retryAfterSec: 0 });
      const sent = e.cancel(o.id);
      c.trace.push(`${describeStep(s)}: ${o.id} (${o.state}) cancel under 429 -> ${sent}`);
      return;
    }
    case 'amend': {
      const o = pickOpen(c, s.pick);
      if (!o) return;
      const qty = Math.max(u / 2, o.qty - s.lotsDown * (u / 2));
      const price = s.ticks === 0 ? o.price : clampSelf(c, o.side, o.price + s.ticks * tick, o.id);
      c.asked.set(o.id, { side: o.side, price });
      c.trace.push(`${describeStep(s)}: ${o.id} ${o.price}x${o.qty} -> ${price}x${qty}: ${e.amend(o.id, price, qty)}`);
      return;
    }
    case 'fill': {
      const o = pickOpen(c, s.pick);
      if (!o) return;
      const left = o.qty - o.filled;
      const take = s.all ? left : Math.max(b.stepUnits, Math.floor(left / 2 / b.stepUnits) * b.stepUnits);
      c.trace.push(`${describeStep(s)}: ${o.id} take ${take} of ${left}: swept ${sweepInto(c, o, take)}`);
      return;
    }
    case 'httpError': {
      if (c.gap && c.tolerate.reconcileNotRetried === true) {
        c.trace.push(`${describeStep(s)}: skipped (a reconciliation after a stream gap may be under way)`);
        return;
      }
      const status = c.tolerate.cancelUnknownStuck === true ? 429 : s.status;
      x.sim.inject({ kind: 'httpStatus', market: x.market, status, count: s.count, ...(status === 429 ? { retryAfterSec: 0 } : {}) });
      c.trace.push(describeStep(s) + (status !== s.status ? ` (as ${status})` : ''));
      return;
    }
    case 'awaitHttpErrors': {
      const end = Date.now() + 3000;
      while (x.sim.faults.peekFault(x.market, 'httpStatus') !== undefined && Date.now() < end) await new Promise((r) => setTimeout(r, 5));
      c.trace.push(`${describeStep(s)}: ${x.sim.faults.peekFault(x.market, 'httpStatus') === undefined ? 'all answered' : 'some left'}`);
      return;
    }
    case 'moveMarket':
      x.sim.generator.produce(s.n);
      c.trace.push(describeStep(s));
      return;
    case 'disconnect':
      x.sim.inject({ kind: 'closeConnections', market: x.market, which: s.which });
      if (s.which !== 'market') {
        c.gap = true;
        // a REST error still pending would meet the reconciliation that follows the gap (see reconcileNotRetried)
        if (c.tolerate.reconcileNotRetried === true)
          while (x.sim.faults.takeFault(x.market, 'httpStatus'))
            c.trace.push('(a pending REST error was cleared: the reconciliation after the gap would meet it)');
      }
      c.trace.push(describeStep(s));
      return;
    case 'pause':
      for (let i = 0; i < s.events; i++) await run.nextEvent(20);
      return;
    case 'settle': {
      const p = await settle(c, c.settleMs);
      c.gap = false;
      c.trace.push(`settle: ${p.length === 0 ? 'ok' : 'MISMATCH'}`);
      if (p.length > 0) throw new ModelFailure(p, c.trace);
      return;
    }
  }
}

export class ModelFailure extends Error {
  constructor(
    readonly problems: string[],
    trace: string[],
  ) {
    super(`the engine and the exchange disagree at quiescence:\n  ${problems.join('\n  ')}\nsteps:\n  ${trace.join('\n  ')}`);
    this.name = 'ModelFailure';
  }
}

/**
 * For `it.fails` tests of known bugs: awaits the run and rethrows only a ModelFailure whose every problem matches
 * `bug`, so that the test "fails as expected" only for that bug; any other outcome (no failure: the bug is fixed; or
 * another failure) returns, and `it.fails` then reports it.
 */
export async function failsWith(bug: RegExp, run: Promise<unknown>): Promise<void> {
  try {
    await run;
  } catch (e) {
    if (e instanceof ModelFailure && e.problems.length > 0 && e.problems.every((m) => bug.test(m))) throw e;
    process.stderr.write(`not the known bug ${String(bug)}: ${String(e)}\n`);
  }
}

/** How long quiescence may take (reconnects included) before the properties are asserted as they are. */
export const SETTLE_MS = 8_000;

/**
 * Wait for quiescence (no order or amend in flight in any record, and the engine agreeing with the exchange), woken
 * by every order event of the engine (a 25 ms poll covers reconnects, which are no order events); give up after
 * SETTLE_MS. Returns the mismatches left (none = every property holds).
 */
export async function settle(c: RunCtx, ms = SETTLE_MS): Promise<string[]> {
  const { x, run } = c;
  const e = run.engine;
  // a 429 meant for a cancel that did not go out must not answer the test's own trade-history request
  while (x.sim.faults.takeFault(x.market, 'httpStatus')) c.trace.push('(a pending 429 was not used: cleared)');
  const end = Date.now() + ms;
  let problems: string[];
  for (;;) {
    const pending = EngineProbe.pending(e).map((p) => `still in flight: ${p}`);
    problems = [
      ...pending,
      ...openOrderMismatches(x.openOrders(), EngineProbe.records(e), c.tolerate),
      ...positionMismatches(x.position(), EngineProbe.positions(e, run.ins)),
    ];
    if (problems.length === 0 || Date.now() > end) break;
    await run.nextEvent(25);
  }
  for (;;) {
    e.journal?.flush();
    const st = e.status() as { fills: number };
    const t = tradeMismatches(await x.trades(), journalFills(run.dir), st.fills, c.tolerate);
    if (t.length === 0 || problems.length > 0 || Date.now() > end) return [...problems, ...t];
    await run.nextEvent(25);
  }
}

/**
 * One run: a fresh simulator (seed `simSeed`) and a fresh engine (data dir `dir`), the steps (one event-loop turn
 * between two, unless `noYield`), quiescence and the three properties, the engine's graceful stop (cancel-all,
 * verified), the properties again. Throws a ModelFailure naming every mismatch and the steps' trace. Returns the
 * number of steps run.
 */
export async function runSequence(
  dir: string,
  venue: ModelVenue,
  transport: ModelTransport,
  simSeed: number,
  steps: readonly Step[],
  tolerate: Tolerate,
  opts: { noYield?: boolean; coverage?: Map<string, number>; settleMs?: number } = {},
): Promise<number> {
  const x = await Exchange.start(venue, simSeed);
  let run: EngineRun | undefined;
  const trace: string[] = [`${venue} over ${transport}, sim seed ${simSeed}`];
  const t0 = performance.now();
  const ms = (): string => (performance.now() - t0).toFixed(0);
  try {
    run = await EngineRun.start(x, dir, transport);
    trace.push(`engine ready at ${ms()} ms`);
    const c: RunCtx = { x, run, transport, tolerate, placed: [], asked: new Map(), trace, settleMs: opts.settleMs ?? SETTLE_MS, gap: false };
    for (const s of steps) {
      await runStep(c, s);
      // one turn of the event loop between steps: sockets get a chance, round trips do not (pause steps wait longer)
      if (opts.noYield !== true) await new Promise((r) => setImmediate(r));
    }
    trace.push(`steps done at ${ms()} ms`);
    const p = await settle(c, c.settleMs);
    trace.push(`settled at ${ms()} ms`);
    if (p.length > 0) throw new ModelFailure(p, trace);
    for (const [k, n] of run.kinds) opts.coverage?.set(k, (opts.coverage.get(k) ?? 0) + n);
    if (process.env['MODEL_TRACE'] === '1')
      process.stdout.write(`${trace.join('\n')}\nrejects ${JSON.stringify(Object.fromEntries(run.engine.rejectsByReason))}\n`);
    // the graceful stop cancels everything and verifies it: nothing open anywhere, positions and fills still agree
    const r = await run.stop();
    trace.push(`graceful stop done at ${ms()} ms`);
    const after = [
      ...(r.code !== 0 ? [`the engine's stop exited ${r.code}`] : []),
      ...openOrderMismatches(x.openOrders(), EngineProbe.records(run.engine), tolerate),
      ...(r.summary.orders.openAtEnd !== 0 ? [`summary: ${r.summary.orders.openAtEnd} orders open at the end`] : []),
      ...positionMismatches(x.position(), { summary: (r.summary.positions[`${venue}:${SYMBOL}`] ?? 0) * 10 ** run.ins.qtyDecimals }),
      ...tradeMismatches(await x.trades(), journalFills(dir), r.summary.fills, tolerate),
    ];
    if (after.length > 0) throw new ModelFailure(after, trace);
    return steps.length;
  } finally {
    await run?.stop().catch(() => undefined);
    await x.close();
  }
}
