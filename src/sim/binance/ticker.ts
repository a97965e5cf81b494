/**
 * Rolling 24 h statistics per symbol for `GET /api/v3/ticker/24hr` and `GET /fapi/v1/ticker/24hr` (what ccxt's
 * fetchTicker calls), fed by the public trades of the core's books.
 *
 * One bucket per minute in a preallocated ring of 1440 (no allocation per trade). The window is the last 1440
 * minutes including the current one, so it may start up to a minute earlier than `closeTime - 24h`; volumes are
 * exact sums of the trades in it. With no trade in the window, prices are those of the last trade ever (zero if
 * none) and counts are 0 with firstId/lastId -1, as Binance answers for a quiet symbol.
 */
import type { SimBook, SimBookListener, SimLevelChange, SimOrder, SimPublicTrade } from '../core/types.js';
import { InstFmt, type BnKind } from './format.js';

const MINUTES = 1440;
// fields per bucket
const F_MIN = 0;
const F_OPEN = 1;
const F_HIGH = 2;
const F_LOW = 3;
const F_CLOSE = 4;
const F_VOL = 5; // lots
const F_QVOL = 6; // ticks*lots
const F_COUNT = 7;
const F_FIRST = 8;
const F_LAST = 9;
const F_TBV = 10; // taker-buy lots
const F_TBQ = 11; // taker-buy ticks*lots
const NF = 12;
/** recent public trades kept per symbol for GET trades / aggTrades */
const RECENT = 1000;

export class SymStats {
  readonly b = new Float64Array(MINUTES * NF).fill(-1);
  lastPx = 0;
  lastQty = 0;
  // recent trades ring (typed arrays: no allocation per trade)
  readonly rId = new Float64Array(RECENT);
  readonly rAgg = new Float64Array(RECENT);
  readonly rPx = new Float64Array(RECENT);
  readonly rQty = new Float64Array(RECENT);
  readonly rTime = new Float64Array(RECENT);
  readonly rSell = new Uint8Array(RECENT);
  rN = 0; // trades recorded so far (ring index = rN % RECENT)
  /** aggregate trade id, counted exactly as the aggTrade stream counts it (one per trade, from 1) */
  aggId = 0;
  constructor(
    readonly book: SimBook,
    readonly fmt: InstFmt,
  ) {}
}

export class Ticker24h implements SimBookListener {
  /** per-symbol state, shared with TradeViews */
  readonly syms = new Map<string, SymStats>();

  constructor(
    books: Map<string, SimBook>,
    private readonly kind: BnKind,
    fmts: Map<string, InstFmt>,
  ) {
    for (const [sym, book] of books) {
      this.syms.set(sym, new SymStats(book, fmts.get(sym) ?? new InstFmt(book.instrument, kind)));
      book.addListener(this);
    }
  }

  close(): void {
    for (const s of this.syms.values()) s.book.removeListener(this);
  }

  has(symbol: string): boolean {
    return this.syms.has(symbol);
  }

  symbols(): string[] {
    return [...this.syms.keys()];
  }

  onLevels(_symbol: string, _changes: readonly SimLevelChange[], _updateId: number, _timeMs: number): void {}
  onOrder(_symbol: string, _order: SimOrder): void {}

  onTrade(symbol: string, t: SimPublicTrade): void {
    const s = this.syms.get(symbol);
    if (!s) return;
    const m = Math.floor(t.timeMs / 60_000);
    const o = (m % MINUTES) * NF;
    const b = s.b;
    const px = t.priceTicks;
    if (b[o + F_MIN] !== m) {
      b[o + F_MIN] = m;
      b[o + F_OPEN] = px;
      b[o + F_HIGH] = px;
      b[o + F_LOW] = px;
      b[o + F_VOL] = 0;
      b[o + F_QVOL] = 0;
      b[o + F_COUNT] = 0;
      b[o + F_FIRST] = t.tradeId;
      b[o + F_TBV] = 0;
      b[o + F_TBQ] = 0;
    }
    if (t.takerSide === 'BUY') {
      b[o + F_TBV] = b[o + F_TBV]! + t.qtyLots;
      b[o + F_TBQ] = b[o + F_TBQ]! + px * t.qtyLots;
    }
    s.aggId++;
    const r = s.rN % RECENT;
    s.rId[r] = t.tradeId;
    s.rAgg[r] = s.aggId;
    s.rPx[r] = px;
    s.rQty[r] = t.qtyLots;
    s.rTime[r] = t.timeMs;
    s.rSell[r] = t.takerSide === 'SELL' ? 1 : 0;
    s.rN++;
    if (px > b[o + F_HIGH]!) b[o + F_HIGH] = px;
    if (px < b[o + F_LOW]!) b[o + F_LOW] = px;
    b[o + F_CLOSE] = px;
    b[o + F_VOL] = b[o + F_VOL]! + t.qtyLots;
    b[o + F_QVOL] = b[o + F_QVOL]! + px * t.qtyLots;
    b[o + F_COUNT] = b[o + F_COUNT]! + 1;
    b[o + F_LAST] = t.tradeId;
    s.lastPx = px;
    s.lastQty = t.qtyLots;
  }

  /** rolling statistics of one symbol at `nowMs` (allocates one object: REST and the 1 s ticker stream only) */
  private stats(symbol: string, nowMs: number): Stats {
    const s = this.syms.get(symbol)!;
    const b = s.b;
    const nowMin = Math.floor(nowMs / 60_000);
    let openMin = Infinity;
    let closeMin = -Infinity;
    const r: Stats = { s, open: 0, close: 0, high: -Infinity, low: Infinity, vol: 0, qvol: 0, count: 0, first: -1, last: -1 };
    for (let i = 0; i < MINUTES; i++) {
      const o = i * NF;
      const m = b[o + F_MIN]!;
      if (m < 0 || m <= nowMin - MINUTES || m > nowMin) continue;
      if (m < openMin) {
        openMin = m;
        r.open = b[o + F_OPEN]!;
        r.first = b[o + F_FIRST]!;
      }
      if (m > closeMin) {
        closeMin = m;
        r.close = b[o + F_CLOSE]!;
        r.last = b[o + F_LAST]!;
      }
      if (b[o + F_HIGH]! > r.high) r.high = b[o + F_HIGH]!;
      if (b[o + F_LOW]! < r.low) r.low = b[o + F_LOW]!;
      r.vol += b[o + F_VOL]!;
      r.qvol += b[o + F_QVOL]!;
      r.count += b[o + F_COUNT]!;
    }
    if (r.count === 0) {
      r.open = r.close = r.high = r.low = s.lastPx;
      r.first = r.last = -1;
    }
    return r;
  }

  private common(r: Stats): { change: string; pct: string; wavg: string; quoteVol: string } {
    const f = r.s.fmt;
    const pd = f.inst.priceDecimals;
    const qd = f.inst.qtyDecimals;
    const change = r.close - r.open;
    return {
      change: (change < 0 ? '-' : '') + f.px(Math.abs(change)),
      pct: r.open > 0 ? ((change / r.open) * 100).toFixed(3) : '0.000',
      wavg: r.vol > 0 ? (r.qvol / r.vol / 10 ** pd).toFixed(f.pxWire) : f.px(0),
      quoteVol: (r.qvol / 10 ** (pd + qd)).toFixed(this.kind === 'spot' ? 8 : Math.min(8, pd + qd)),
    };
  }

  /** The REST JSON object of one symbol at `nowMs` (REST only: allocates). */
  json(symbol: string, nowMs: number): string {
    const r = this.stats(symbol, nowMs);
    const s = r.s;
    const f = s.fmt;
    const c = this.common(r);
    const spot = this.kind === 'spot';
    let j = `{"symbol":"${symbol}","priceChange":"${c.change}","priceChangePercent":"${c.pct}","weightedAvgPrice":"${c.wavg}"`;
    if (spot) j += `,"prevClosePrice":"${f.px(r.open)}"`;
    j += `,"lastPrice":"${f.px(r.close)}","lastQty":"${f.qty(s.lastQty)}"`;
    if (spot) {
      const bid = s.book.bestBid();
      const ask = s.book.bestAsk();
      j +=
        `,"bidPrice":"${bid ? f.px(bid.priceTicks) : f.zeroPx}","bidQty":"${bid ? f.qty(bid.qtyLots) : f.zeroQty}"` +
        `,"askPrice":"${ask ? f.px(ask.priceTicks) : f.zeroPx}","askQty":"${ask ? f.qty(ask.qtyLots) : f.zeroQty}"`;
    }
    j +=
      `,"openPrice":"${f.px(r.open)}","highPrice":"${f.px(r.high)}","lowPrice":"${f.px(r.low)}","volume":"${f.qty(r.vol)}","quoteVolume":"${c.quoteVol}"` +
      `,"openTime":${nowMs - 86_400_000},"closeTime":${nowMs},"firstId":${r.first},"lastId":${r.last},"count":${r.count}}`;
    return j;
  }

  /** The `<symbol>@ticker` (24hrTicker) or `<symbol>@miniTicker` (24hrMiniTicker) stream event at `nowMs`. */
  event(symbol: string, nowMs: number, mini = false): string {
    const r = this.stats(symbol, nowMs);
    const s = r.s;
    const f = s.fmt;
    const c = this.common(r);
    if (mini) {
      return (
        `{"e":"24hrMiniTicker","E":${nowMs},"s":"${symbol}","c":"${f.px(r.close)}","o":"${f.px(r.open)}","h":"${f.px(r.high)}",` +
        `"l":"${f.px(r.low)}","v":"${f.qty(r.vol)}","q":"${c.quoteVol}"}`
      );
    }
    let j = `{"e":"24hrTicker","E":${nowMs},"s":"${symbol}","p":"${c.change}","P":"${c.pct}","w":"${c.wavg}"`;
    if (this.kind === 'spot') j += `,"x":"${f.px(r.open)}"`;
    j += `,"c":"${f.px(r.close)}","Q":"${f.qty(s.lastQty)}"`;
    if (this.kind === 'spot') {
      const bid = s.book.bestBid();
      const ask = s.book.bestAsk();
      j +=
        `,"b":"${bid ? f.px(bid.priceTicks) : f.zeroPx}","B":"${bid ? f.qty(bid.qtyLots) : f.zeroQty}"` +
        `,"a":"${ask ? f.px(ask.priceTicks) : f.zeroPx}","A":"${ask ? f.qty(ask.qtyLots) : f.zeroQty}"`;
    }
    j +=
      `,"o":"${f.px(r.open)}","h":"${f.px(r.high)}","l":"${f.px(r.low)}","v":"${f.qty(r.vol)}","q":"${c.quoteVol}"` +
      `,"O":${nowMs - 86_400_000},"C":${nowMs},"F":${r.first},"L":${r.last},"n":${r.count}}`;
    return j;
  }
}

interface Stats {
  s: SymStats;
  open: number;
  close: number;
  high: number;
  low: number;
  vol: number;
  qvol: number;
  count: number;
  first: number;
  last: number;
}

export const KLINE_INTERVALS: Record<string, number> = {
  '1m': 60_000,
  '3m': 180_000,
  '5m': 300_000,
  '15m': 900_000,
  '30m': 1_800_000,
  '1h': 3_600_000,
  '2h': 7_200_000,
  '4h': 14_400_000,
  '6h': 21_600_000,
  '8h': 28_800_000,
  '12h': 43_200_000,
  '1d': 86_400_000,
};

export interface TradeQuery {
  limit: number;
  fromId?: number | undefined;
  start?: number | undefined;
  end?: number | undefined;
}

/** REST views of the recorded trades and minute buckets (allocate: REST only). Methods of Ticker24h's data. */
export class TradeViews {
  constructor(
    private readonly t: Ticker24h,
    private readonly kind: BnKind,
  ) {}

  private sym(symbol: string): SymStats {
    return this.t.syms.get(symbol)!;
  }

  /** indices (oldest first) of the trades still in the ring */
  private ring(s: SymStats): number[] {
    const n = Math.min(s.rN, RECENT);
    const out: number[] = [];
    for (let i = s.rN - n; i < s.rN; i++) out.push(i % RECENT);
    return out;
  }

  /** GET /api/v3/trades, /fapi/v1/trades: the most recent `limit` trades, oldest first */
  trades(symbol: string, limit: number): string {
    const s = this.sym(symbol);
    const f = s.fmt;
    const idx = this.ring(s);
    const rows = idx.slice(Math.max(0, idx.length - limit)).map((i) => {
      const px = s.rPx[i]!;
      const q = s.rQty[i]!;
      return (
        `{"id":${s.rId[i]},"price":"${f.px(px)}","qty":"${f.qty(q)}","quoteQty":"${f.quote(px * q)}","time":${s.rTime[i]},"isBuyerMaker":${s.rSell[i] === 1}` +
        (this.kind === 'spot' ? ',"isBestMatch":true}' : '}')
      );
    });
    return '[' + rows.join(',') + ']';
  }

  /** GET /api/v3/aggTrades, /fapi/v1/aggTrades: one aggregate per trade (the simulator's takers fill one level
   * per trade), `fromId` or [startTime, endTime], else the most recent `limit`; oldest first */
  aggTrades(symbol: string, q: TradeQuery): string {
    const s = this.sym(symbol);
    const f = s.fmt;
    let idx = this.ring(s);
    if (q.fromId !== undefined) idx = idx.filter((i) => s.rAgg[i]! >= q.fromId!).slice(0, q.limit);
    else if (q.start !== undefined || q.end !== undefined) {
      idx = idx.filter((i) => s.rTime[i]! >= (q.start ?? -Infinity) && s.rTime[i]! <= (q.end ?? Infinity)).slice(0, q.limit);
    } else idx = idx.slice(Math.max(0, idx.length - q.limit));
    const rows = idx.map(
      (i) =>
        `{"a":${s.rAgg[i]},"p":"${f.px(s.rPx[i]!)}","q":"${f.qty(s.rQty[i]!)}","f":${s.rId[i]},"l":${s.rId[i]},"T":${s.rTime[i]},"m":${s.rSell[i] === 1}` +
        (this.kind === 'spot' ? ',"M":true}' : '}'),
    );
    return '[' + rows.join(',') + ']';
  }

  /** GET /api/v3/klines, /fapi/v1/klines from the minute buckets (the last 24 h). Intervals without a trade after
   * the first one repeat the previous close with zero volume; intervals before the first trade are left out. */
  klines(symbol: string, intervalMs: number, q: TradeQuery, nowMs: number): string {
    const s = this.sym(symbol);
    const f = s.fmt;
    const b = s.b;
    const pd = f.inst.priceDecimals;
    const qd = f.inst.qtyDecimals;
    const nowMin = Math.floor(nowMs / 60_000);
    // minute buckets in the window, by minute number
    const byMin = new Map<number, number>();
    let firstMin = Infinity;
    for (let i = 0; i < MINUTES; i++) {
      const m = b[i * NF + F_MIN]!;
      if (m < 0 || m <= nowMin - MINUTES || m > nowMin) continue;
      byMin.set(m, i * NF);
      if (m < firstMin) firstMin = m;
    }
    if (firstMin === Infinity) return '[]';
    const firstOpen = Math.floor((firstMin * 60_000) / intervalMs) * intervalMs;
    const lastOpen = Math.floor(nowMs / intervalMs) * intervalMs;
    let opens: number[] = [];
    for (let t = firstOpen; t <= lastOpen; t += intervalMs) opens.push(t);
    if (q.start !== undefined || q.end !== undefined) {
      opens = opens.filter((t) => t >= (q.start ?? -Infinity) && t <= (q.end ?? Infinity));
      opens = q.start !== undefined ? opens.slice(0, q.limit) : opens.slice(Math.max(0, opens.length - q.limit));
    } else opens = opens.slice(Math.max(0, opens.length - q.limit));
    // previous close before the first shown interval
    let prevClose = 0;
    const startMin = opens.length ? opens[0]! / 60_000 : 0;
    for (let m = firstMin; m < startMin; m++) {
      const o = byMin.get(m);
      if (o !== undefined) prevClose = b[o + F_CLOSE]!;
    }
    const rows: string[] = [];
    for (const t of opens) {
      let open = -1;
      let high = -Infinity;
      let low = Infinity;
      let close = -1;
      let vol = 0;
      let qv = 0;
      let n = 0;
      let tbv = 0;
      let tbq = 0;
      for (let m = t / 60_000; m < (t + intervalMs) / 60_000; m++) {
        const o = byMin.get(m);
        if (o === undefined) continue;
        if (open < 0) open = b[o + F_OPEN]!;
        high = Math.max(high, b[o + F_HIGH]!);
        low = Math.min(low, b[o + F_LOW]!);
        close = b[o + F_CLOSE]!;
        vol += b[o + F_VOL]!;
        qv += b[o + F_QVOL]!;
        n += b[o + F_COUNT]!;
        tbv += b[o + F_TBV]!;
        tbq += b[o + F_TBQ]!;
      }
      if (open < 0) {
        if (prevClose === 0) continue;
        open = high = low = close = prevClose;
      }
      prevClose = close;
      const qdec = this.kind === 'spot' ? 8 : Math.min(8, pd + qd);
      rows.push(
        `[${t},"${f.px(open)}","${f.px(high)}","${f.px(low)}","${f.px(close)}","${f.qty(vol)}",${t + intervalMs - 1},` +
          `"${(qv / 10 ** (pd + qd)).toFixed(qdec)}",${n},"${f.qty(tbv)}","${(tbq / 10 ** (pd + qd)).toFixed(qdec)}","0"]`,
      );
    }
    return '[' + rows.join(',') + ']';
  }
}
