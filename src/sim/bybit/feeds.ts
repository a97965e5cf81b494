/**
 * Bybit public market data: `orderbook.{1,50,200,1000}.{SYMBOL}` and `publicTrade.{SYMBOL}` per category.
 *
 * One `DepthFeed` per topic. Every push interval it takes the book's top N per side and diffs it against the
 * window it published last; the delta is exactly what a client needs to turn its copy of the previous window
 * into the new one, including the deletes ("0") of levels that left the top N and the inserts of levels that
 * entered it (as Bybit does: replaying the real capture keeps exactly N levels per side).
 * `u` is +1 per message per topic; `seq` is the book's cross sequence (comparable across depths); `cts` is the
 * matching time of the last batch included; `ts` the server time at push.
 *
 * The work is O(N) per push and independent of the generator's update rate; frames are built as strings.
 */
import type { SimBook, SimMarketId, SimPublicTrade } from '../core/types.js';
import type { Category, InstrumentFmt } from './common.js';
import { uuidFromCounter } from './common.js';

export const DEPTHS = [1, 50, 200, 1000] as const;
export type Depth = (typeof DEPTHS)[number];

/** Bybit's push intervals (linear and spot, 2026-07 docs). */
export const BASE_INTERVAL_MS: Record<Depth, number> = { 1: 10, 50: 20, 200: 100, 1000: 200 };
export const L1_RESEND_MS = 3000;
/** offset added to the book's updateId so seq looks like Bybit's (~1e11) */
export const SEQ_BASE: Record<Category, number> = { spot: 112_000_000_000, linear: 753_000_000_000 };

export interface FeedSink {
  /** send `frame` to every subscriber of `topicKey` */
  publish(topicKey: string, frame: string): void;
  nowMs(market: SimMarketId): number;
}

/** What a fault asks the next delta frame to become. */
export type FrameFate = 'send' | 'drop' | 'duplicate' | 'holdForReorder' | 'malformed' | 'oversized';

export class DepthFeed {
  readonly topic: string;
  readonly key: string; // pub/sub key: category|topic
  u = 0;
  subscribers = 0;
  /** kept running without subscribers (the 1000 feed after a REST orderbook request) */
  pinned = false;
  active = false;
  /** last published window, flat [price, qty, price, qty, ...] best first */
  bids: number[] = [];
  asks: number[] = [];
  seq = 0;
  cts = 0;
  lastSendMs = 0;
  /** updateId of the book at the last push */
  lastUpdateId = -1;
  /** frame held back by a reorderDiff fault */
  held: string | undefined;

  constructor(
    readonly category: Category,
    readonly symbol: string,
    readonly depth: Depth,
    readonly book: SimBook,
    readonly fmt: InstrumentFmt,
  ) {
    this.topic = `orderbook.${depth}.${symbol}`;
    this.key = `${category}|${this.topic}`;
  }

  /** Take the current window as the published one (on activation, fresh snapshot, restart). */
  resync(cts: number): void {
    const d = this.book.depth(this.depth);
    this.bids = flatten(d.bids);
    this.asks = flatten(d.asks);
    this.lastUpdateId = d.updateId;
    this.seq = SEQ_BASE[this.category] + d.updateId;
    this.cts = cts;
  }

  snapshotFrame(ts: number): string {
    return this.frame('snapshot', ts, levelsJson(this.bids, this.fmt), levelsJson(this.asks, this.fmt));
  }

  frame(type: 'snapshot' | 'delta', ts: number, b: string, a: string): string {
    const data = `{"s":"${this.symbol}","b":${b},"a":${a},"u":${this.u},"seq":${this.seq}}`;
    // key order as captured: linear topic,type,ts; spot and every L1 topic,ts,type
    if (this.category === 'linear' && this.depth !== 1) {
      return `{"topic":"${this.topic}","type":"${type}","ts":${ts},"data":${data},"cts":${this.cts}}`;
    }
    return `{"topic":"${this.topic}","ts":${ts},"type":"${type}","data":${data},"cts":${this.cts}}`;
  }

  /**
   * Compute the next message if the window changed. Returns the frame (u already advanced) or undefined.
   * L1 is snapshot-only: a changed top gives a new snapshot with u+1; an unchanged one is re-sent every 3 s.
   */
  next(ts: number, cts: number): string | undefined {
    if (this.book.updateId === this.lastUpdateId) {
      if (this.depth === 1 && ts - this.lastSendMs >= L1_RESEND_MS && this.u > 0) {
        this.lastSendMs = ts;
        return this.snapshotFrame(ts);
      }
      return undefined;
    }
    const d = this.book.depth(this.depth);
    this.lastUpdateId = d.updateId;
    const nb = flatten(d.bids);
    const na = flatten(d.asks);
    const db = diff(this.bids, nb, true, this.fmt);
    const da = diff(this.asks, na, false, this.fmt);
    this.bids = nb;
    this.asks = na;
    if (db === '[]' && da === '[]') {
      if (this.depth === 1 && ts - this.lastSendMs >= L1_RESEND_MS && this.u > 0) {
        this.lastSendMs = ts;
        return this.snapshotFrame(ts);
      }
      return undefined;
    }
    this.u++;
    this.seq = SEQ_BASE[this.category] + d.updateId;
    this.cts = cts;
    this.lastSendMs = ts;
    if (this.depth === 1) return this.snapshotFrame(ts);
    return this.frame('delta', ts, db, da);
  }
}

function flatten(levels: Array<[number, number]>): number[] {
  const out = new Array<number>(levels.length * 2);
  for (let i = 0; i < levels.length; i++) {
    const l = levels[i]!;
    out[2 * i] = l[0];
    out[2 * i + 1] = l[1];
  }
  return out;
}

export function levelsJson(flat: number[], fmt: InstrumentFmt): string {
  if (flat.length === 0) return '[]';
  let s = '[';
  for (let i = 0; i < flat.length; i += 2) {
    if (i > 0) s += ',';
    s += '["' + fmt.price(flat[i]!) + '","' + fmt.qty(flat[i + 1]!) + '"]';
  }
  return s + ']';
}

/** Merge-walk two windows sorted best first; emit changed / new levels and "0" for levels that left. */
function diff(old: number[], cur: number[], bids: boolean, fmt: InstrumentFmt): string {
  let i = 0;
  let j = 0;
  let s = '[';
  let first = true;
  const emit = (p: number, qty: string): void => {
    s += (first ? '["' : ',["') + fmt.price(p) + '","' + qty + '"]';
    first = false;
  };
  while (i < old.length || j < cur.length) {
    if (i >= old.length) {
      emit(cur[j]!, fmt.qty(cur[j + 1]!));
      j += 2;
    } else if (j >= cur.length) {
      emit(old[i]!, '0');
      i += 2;
    } else {
      const po = old[i]!;
      const pc = cur[j]!;
      if (po === pc) {
        if (old[i + 1] !== cur[j + 1]) emit(pc, fmt.qty(cur[j + 1]!));
        i += 2;
        j += 2;
      } else if (bids ? pc > po : pc < po) {
        emit(pc, fmt.qty(cur[j + 1]!));
        j += 2;
      } else {
        emit(po, '0');
        i += 2;
      }
    }
  }
  return s + ']';
}

/** `publicTrade.{SYMBOL}` frames; tick direction tracked per symbol. */
export class TradeFeed {
  readonly topic: string;
  readonly key: string;
  subscribers = 0;
  private lastPx = 0;
  private lastDir = 'ZeroPlusTick';
  constructor(
    readonly category: Category,
    readonly symbol: string,
    readonly fmt: InstrumentFmt,
  ) {
    this.topic = `publicTrade.${symbol}`;
    this.key = `${category}|${this.topic}`;
  }

  frame(t: SimPublicTrade, ts: number, seq: number): string {
    const S = t.takerSide === 'BUY' ? 'Buy' : 'Sell';
    const p = this.fmt.price(t.priceTicks);
    const v = this.fmt.qty(t.qtyLots);
    if (this.category === 'spot') {
      // spot: numeric trade ids, no tick direction (as captured)
      const id = '229' + String(t.tradeId).padStart(16, '0');
      return `{"topic":"${this.topic}","ts":${ts},"type":"snapshot","data":[{"i":"${id}","T":${t.timeMs},"p":"${p}","v":"${v}","S":"${S}","seq":${seq},"s":"${this.symbol}","BT":false,"RPI":false}]}`;
    }
    let dir: string;
    if (this.lastPx === 0 || t.priceTicks === this.lastPx)
      dir = this.lastDir.startsWith('Minus') || this.lastDir === 'ZeroMinusTick' ? 'ZeroMinusTick' : 'ZeroPlusTick';
    else dir = t.priceTicks > this.lastPx ? 'PlusTick' : 'MinusTick';
    if (this.lastPx === 0) dir = 'ZeroPlusTick';
    this.lastPx = t.priceTicks;
    this.lastDir = dir;
    const id = uuidFromCounter(0x9188a0a, t.tradeId);
    return `{"topic":"${this.topic}","type":"snapshot","ts":${ts},"data":[{"T":${t.timeMs},"s":"${this.symbol}","S":"${S}","v":"${v}","p":"${p}","L":"${dir}","i":"${id}","BT":false,"RPI":false,"seq":${seq}}]}`;
  }
}

/**
 * `tickers.{SYMBOL}`: linear = one snapshot then sparse deltas of the fields that changed (merge non-empty fields),
 * top-level `cs` and `ts`; spot = snapshot-only (no bid/ask fields). Field sets as in the 2026-08 capture.
 * 24h statistics are kept since the venue started (the simulator has no 24 h history).
 */
export class TickerFeed {
  readonly topic: string;
  readonly key: string;
  subscribers = 0;
  lastPx = 0;
  prevPx: number;
  high = 0;
  low = 0;
  volumeLots = 0;
  turnover = 0;
  tickDir = 'ZeroPlusTick';
  /** last values sent, by field (linear deltas) */
  private sent = new Map<string, string>();
  dirty = false;

  constructor(
    readonly category: Category,
    readonly symbol: string,
    readonly fmt: InstrumentFmt,
    readonly book: SimBook,
  ) {
    this.topic = `tickers.${symbol}`;
    this.key = `${category}|${this.topic}`;
    const b = book.bestBid();
    const a = book.bestAsk();
    this.prevPx = b && a ? Math.round((b.priceTicks + a.priceTicks) / 2) : ((b ?? a)?.priceTicks ?? 0);
    this.lastPx = this.prevPx;
    this.high = this.prevPx;
    this.low = this.prevPx;
  }

  onTrade(t: SimPublicTrade): void {
    if (t.priceTicks > this.lastPx) this.tickDir = 'PlusTick';
    else if (t.priceTicks < this.lastPx) this.tickDir = 'MinusTick';
    else this.tickDir = this.tickDir === 'MinusTick' || this.tickDir === 'ZeroMinusTick' ? 'ZeroMinusTick' : 'ZeroPlusTick';
    this.lastPx = t.priceTicks;
    if (t.priceTicks > this.high) this.high = t.priceTicks;
    if (this.low === 0 || t.priceTicks < this.low) this.low = t.priceTicks;
    this.volumeLots += t.qtyLots;
    this.turnover += this.fmt.priceFloat(t.priceTicks) * this.fmt.qtyFloat(t.qtyLots);
    this.dirty = true;
  }

  private fields(): Array<[string, string]> {
    const f = this.fmt;
    const pct = this.prevPx > 0 ? ((this.lastPx - this.prevPx) / this.prevPx).toFixed(6) : '0';
    const amt = (v: number, d: number) => trimTo(v, d);
    if (this.category === 'spot') {
      return [
        ['symbol', this.symbol],
        ['lastPrice', f.price(this.lastPx)],
        ['highPrice24h', f.price(this.high)],
        ['lowPrice24h', f.price(this.low)],
        ['prevPrice24h', f.price(this.prevPx)],
        ['volume24h', f.qty(this.volumeLots)],
        ['turnover24h', amt(this.turnover, 8)],
        ['price24hPcnt', trimTo(Number(pct), 4)],
        ['usdIndexPrice', f.price(this.lastPx)],
      ];
    }
    const b = this.book.bestBid();
    const a = this.book.bestAsk();
    const mark = b && a ? Math.round((b.priceTicks + a.priceTicks) / 2) : this.lastPx;
    const oi = this.volumeLots;
    return [
      ['symbol', this.symbol],
      ['tickDirection', this.tickDir],
      ['price24hPcnt', pct],
      ['lastPrice', f.price(this.lastPx)],
      ['prevPrice24h', f.price(this.prevPx)],
      ['highPrice24h', f.price(this.high)],
      ['lowPrice24h', f.price(this.low)],
      ['prevPrice1h', f.price(this.prevPx)],
      ['markPrice', f.price(mark)],
      ['indexPrice', f.price(mark)],
      ['openInterest', f.qty(oi)],
      ['openInterestValue', (f.qtyFloat(oi) * f.priceFloat(mark)).toFixed(2)],
      ['turnover24h', this.turnover.toFixed(4)],
      ['volume24h', f.qty(this.volumeLots)],
      ['fundingIntervalHour', '8'],
      ['fundingCap', '0.005'],
      ['singleOpenInterest', f.qty(oi)],
      ['singleOpenInterestValue', (f.qtyFloat(oi) * f.priceFloat(mark)).toFixed(2)],
      ['nextFundingTime', '0'],
      ['fundingRate', '0.0001'],
      ['bid1Price', b ? f.price(b.priceTicks) : ''],
      ['bid1Size', b ? f.qty(b.qtyLots) : ''],
      ['ask1Price', a ? f.price(a.priceTicks) : ''],
      ['ask1Size', a ? f.qty(a.qtyLots) : ''],
      ['preOpenPrice', ''],
      ['preQty', ''],
      ['curPreListingPhase', ''],
    ];
  }

  /** one item of REST `GET /v5/market/tickers` (docs: spot adds the best bid/ask; linear adds delivery fields) */
  restItem(nextFundingTime: number): string {
    const f = this.fmt;
    const b = this.book.bestBid();
    const a = this.book.bestAsk();
    let out = '{';
    const put = (k: string, v: string): void => {
      out += (out.length > 1 ? ',"' : '"') + k + '":' + q(v);
    };
    if (this.category === 'spot') {
      put('symbol', this.symbol);
      put('bid1Price', b ? f.price(b.priceTicks) : '');
      put('bid1Size', b ? f.qty(b.qtyLots) : '');
      put('ask1Price', a ? f.price(a.priceTicks) : '');
      put('ask1Size', a ? f.qty(a.qtyLots) : '');
      for (const [k, v] of this.fields()) if (k !== 'symbol') put(k, v);
      return out + '}';
    }
    for (const [k, v] of this.fields()) put(k, k === 'nextFundingTime' ? String(nextFundingTime) : v);
    put('predictedDeliveryPrice', '');
    put('basisRate', '');
    put('deliveryFeeRate', '');
    put('deliveryTime', '0');
    put('basis', '');
    return out + '}';
  }

  snapshotFrame(ts: number, cs: number, nextFundingTime: number): string {
    const fs = this.fields();
    let data = '{';
    for (let i = 0; i < fs.length; i++) {
      const [k, v0] = fs[i]!;
      const v = k === 'nextFundingTime' ? String(nextFundingTime) : v0;
      if (this.category === 'linear') this.sent.set(k, v);
      data += (i > 0 ? ',"' : '"') + k + '":' + q(v);
    }
    data += '}';
    this.dirty = false;
    if (this.category === 'spot') return `{"topic":"${this.topic}","ts":${ts},"type":"snapshot","cs":${cs},"data":${data}}`;
    return `{"topic":"${this.topic}","type":"snapshot","data":${data},"cs":${cs},"ts":${ts}}`;
  }

  /** linear: the fields that changed since the last push, or undefined; spot: a snapshot when anything moved */
  next(ts: number, cs: number, nextFundingTime: number): string | undefined {
    if (this.category === 'spot') return this.dirty ? this.snapshotFrame(ts, cs, nextFundingTime) : undefined;
    const fs = this.fields();
    let data = '';
    for (const [k, v0] of fs) {
      const v = k === 'nextFundingTime' ? String(nextFundingTime) : v0;
      if (k === 'symbol' || this.sent.get(k) === v) continue;
      this.sent.set(k, v);
      data += ',"' + k + '":' + q(v);
    }
    this.dirty = false;
    if (data === '') return undefined;
    return `{"topic":"${this.topic}","type":"delta","data":{"symbol":"${this.symbol}"${data}},"cs":${cs},"ts":${ts}}`;
  }
}

function trimTo(v: number, d: number): string {
  if (!Number.isFinite(v)) return '0';
  let s = v.toFixed(d);
  if (s.indexOf('.') >= 0) {
    s = s.replace(/0+$/, '');
    if (s.endsWith('.')) s = s.slice(0, -1);
  }
  return s === '-0' ? '0' : s;
}

function q(s: string): string {
  return JSON.stringify(s);
}
