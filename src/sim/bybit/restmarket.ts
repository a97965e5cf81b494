/**
 * Public market REST of the Bybit venue: `GET /v5/market/time`, `instruments-info`, `orderbook` (served from the
 * `orderbook.1000` topic's published window), `tickers`, `recent-trade`, `kline`, and `/v5/system/status`.
 */
import { envelope, isCategory } from './common.js';
import { klineIntervalMs } from './market.js';
import { levelsJson } from './feeds.js';
import { E, errorBody } from './errors.js';
import type { VenueState } from './state.js';
import { linearInstrumentJson, nextFundingTime, spotInstrumentJson } from './format.js';
import type { PublicWs } from './publicws.js';

export class MarketRest {
  constructor(
    private readonly s: VenueState,
    private readonly pub: PublicWs,
  ) {}

  /** GET /v5/market/instruments-info */
  instrumentsInfo(params: Record<string, unknown>, now: number): string {
    const category = params['category'];
    if (!isCategory(category)) return errorBody(E.illegalCategory, now);
    const symbol = typeof params['symbol'] === 'string' ? params['symbol'] : undefined;
    // every simulated instrument is `Trading`: any other `status` filter (PreLaunch, Delivering, Closed) lists none
    const status = typeof params['status'] === 'string' && params['status'] !== '' ? params['status'] : undefined;
    const items: string[] = [];
    for (const st of this.s.syms.values()) {
      if (status !== undefined && status !== 'Trading') break;
      if (st.category !== category) continue;
      if (symbol !== undefined && symbol !== '' && st.symbol !== symbol) continue;
      items.push(category === 'spot' ? spotInstrumentJson(st) : linearInstrumentJson(st));
    }
    const list = `[${items.join(',')}]`;
    const result = category === 'spot' ? `{"category":"spot","list":${list}}` : `{"category":"linear","list":${list},"nextPageCursor":""}`;
    return envelope(0, 'OK', result, now);
  }

  /** GET /v5/market/orderbook: from the `orderbook.1000` topic's published window */
  orderbook(params: Record<string, unknown>, now: number): string {
    const category = params['category'];
    if (!isCategory(category)) return errorBody(E.illegalCategory, now);
    const symbol = params['symbol'];
    if (typeof symbol !== 'string' || symbol === '') return errorBody(E.symbolInvalid, now);
    const st = this.s.sym(category, symbol);
    if (!st) return errorBody(E.symbolInvalid, now);
    const limText = params['limit'];
    let limit = category === 'spot' ? 1 : 25;
    if (limText !== undefined && limText !== '') {
      const n = typeof limText === 'string' && /^\d+$/.test(limText) ? Number(limText) : NaN;
      if (!(n >= 1 && n <= 1000)) return errorBody(E.limitInvalid, now);
      limit = n;
    }
    // served from the 1000-level topic's published window so that `u` lines up with orderbook.1000
    const feed = st.depthFeeds.get(1000)!;
    if (!feed.active) {
      this.pub.activate(st, feed);
      feed.pinned = true;
    }
    const b = levelsJson(feed.bids.slice(0, limit * 2), st.fmt);
    const a = levelsJson(feed.asks.slice(0, limit * 2), st.fmt);
    const result = `{"s":"${st.symbol}","b":${b},"a":${a},"ts":${now},"u":${feed.u},"seq":${feed.seq},"cts":${feed.cts}}`;
    return envelope(0, 'OK', result, now);
  }

  /** GET /v5/market/tickers | recent-trade | kline, /v5/system/status (public) */
  publicMarket(ep: 'tickers' | 'recentTrade' | 'kline' | 'systemStatus', params: Record<string, unknown>, now: number): string {
    if (ep === 'systemStatus') return envelope(0, 'OK', '{"list":[]}', now);
    const category = params['category'];
    if (!isCategory(category)) return errorBody(E.illegalCategory, now);
    const symbol = typeof params['symbol'] === 'string' && params['symbol'] !== '' ? params['symbol'] : undefined;
    if (ep === 'tickers') {
      if (symbol !== undefined && !this.s.sym(category, symbol)) return envelope(10001, 'Not supported symbols', '{}', now);
      const baseCoin = typeof params['baseCoin'] === 'string' && params['baseCoin'] !== '' ? params['baseCoin'] : undefined;
      const items: string[] = [];
      for (const st of this.s.syms.values()) {
        if (st.category !== category || (symbol !== undefined && st.symbol !== symbol)) continue;
        if (baseCoin !== undefined && st.fmt.inst.base !== baseCoin) continue;
        items.push(st.tickers.restItem(nextFundingTime(now)));
      }
      return envelope(0, 'OK', `{"category":"${category}","list":[${items.join(',')}]}`, now);
    }
    if (symbol === undefined) return errorBody(E.symbolInvalid, now);
    const st = this.s.sym(category, symbol);
    if (!st) return envelope(10001, 'Not supported symbols', '{}', now);
    const limText = params['limit'];
    if (ep === 'recentTrade') {
      const max = category === 'spot' ? 60 : 1000;
      let limit = category === 'spot' ? 60 : 500;
      if (limText !== undefined && limText !== '') {
        const n = typeof limText === 'string' && /^\d+$/.test(limText) ? Number(limText) : NaN;
        if (!(n >= 1)) return errorBody(E.limitInvalid, now);
        limit = Math.min(n, max);
      }
      const rows = st.hist.recent(limit).map((t) => st.hist.recentTradeJson(t, st.symbol));
      return envelope(0, 'OK', `{"category":"${category}","list":[${rows.join(',')}]}`, now);
    }
    const iv = klineIntervalMs(typeof params['interval'] === 'string' ? params['interval'] : '');
    if (!iv) return envelope(10001, 'Invalid period!', '{}', now);
    let limit = 200;
    if (limText !== undefined && limText !== '') {
      const n = typeof limText === 'string' && /^\d+$/.test(limText) ? Number(limText) : NaN;
      if (!(n >= 1)) return errorBody(E.limitInvalid, now);
      limit = Math.min(n, 1000);
    }
    const num = (k: string): number | undefined => {
      const v = params[k];
      return typeof v === 'string' && /^\d{1,16}$/.test(v) ? Number(v) : undefined;
    };
    const rows = st.hist.klines(iv.ms, iv.calendar, num('start'), num('end') ?? now, limit);
    return envelope(0, 'OK', `{"category":"${category}","symbol":"${st.symbol}","list":[${rows.join(',')}]}`, now);
  }
}
