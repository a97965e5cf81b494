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
const NF = 10;

class SymStats {
  readonly b = new Float64Array(MINUTES * NF).fill(-1);
  lastPx = 0;
  lastQty = 0;
  constructor(
    readonly book: SimBook,
    readonly fmt: InstFmt,
  ) {}
}

export class Ticker24h implements SimBookListener {
  private readonly syms = new Map<string, SymStats>();

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
    }
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

  /** The JSON object of one symbol at `nowMs` (REST only: allocates). */
  json(symbol: string, nowMs: number): string {
    const s = this.syms.get(symbol)!;
    const f = s.fmt;
    const b = s.b;
    const nowMin = Math.floor(nowMs / 60_000);
    let openMin = Infinity;
    let closeMin = -Infinity;
    let open = 0;
    let close = 0;
    let high = -Infinity;
    let low = Infinity;
    let vol = 0;
    let qvol = 0;
    let count = 0;
    let first = -1;
    let last = -1;
    for (let i = 0; i < MINUTES; i++) {
      const o = i * NF;
      const m = b[o + F_MIN]!;
      if (m < 0 || m <= nowMin - MINUTES || m > nowMin) continue;
      if (m < openMin) {
        openMin = m;
        open = b[o + F_OPEN]!;
        first = b[o + F_FIRST]!;
      }
      if (m > closeMin) {
        closeMin = m;
        close = b[o + F_CLOSE]!;
        last = b[o + F_LAST]!;
      }
      if (b[o + F_HIGH]! > high) high = b[o + F_HIGH]!;
      if (b[o + F_LOW]! < low) low = b[o + F_LOW]!;
      vol += b[o + F_VOL]!;
      qvol += b[o + F_QVOL]!;
      count += b[o + F_COUNT]!;
    }
    if (count === 0) {
      open = close = high = low = s.lastPx;
      first = last = -1;
    }
    const spot = this.kind === 'spot';
    const pxDec = f.pxWire;
    const pd = f.inst.priceDecimals;
    const qd = f.inst.qtyDecimals;
    const px = (ticks: number): string => f.px(ticks);
    const dec = (v: number, d: number): string => v.toFixed(d);
    const change = close - open;
    const changeTxt = (change < 0 ? '-' : '') + px(Math.abs(change));
    const pct = open > 0 ? ((change / open) * 100).toFixed(3) : '0.000';
    const wavg = vol > 0 ? dec(qvol / vol / 10 ** pd, pxDec) : px(0);
    const quoteVol = dec(qvol / 10 ** (pd + qd), spot ? 8 : Math.min(8, pd + qd));
    let j = `{"symbol":"${symbol}","priceChange":"${changeTxt}","priceChangePercent":"${pct}","weightedAvgPrice":"${wavg}"`;
    if (spot) j += `,"prevClosePrice":"${px(open)}"`;
    j += `,"lastPrice":"${px(close)}","lastQty":"${f.qty(count > 0 ? s.lastQty : s.lastPx > 0 ? s.lastQty : 0)}"`;
    if (spot) {
      const bid = s.book.bestBid();
      const ask = s.book.bestAsk();
      j +=
        `,"bidPrice":"${bid ? px(bid.priceTicks) : f.zeroPx}","bidQty":"${bid ? f.qty(bid.qtyLots) : f.zeroQty}"` +
        `,"askPrice":"${ask ? px(ask.priceTicks) : f.zeroPx}","askQty":"${ask ? f.qty(ask.qtyLots) : f.zeroQty}"`;
    }
    j +=
      `,"openPrice":"${px(open)}","highPrice":"${px(high)}","lowPrice":"${px(low)}","volume":"${f.qty(vol)}","quoteVolume":"${quoteVol}"` +
      `,"openTime":${nowMs - 86_400_000},"closeTime":${nowMs},"firstId":${first},"lastId":${last},"count":${count}}`;
    return j;
  }
}
