/**
 * Binance market streams (Spot `/ws`, `/stream`; USD-M `/public|/market` + `/ws|/stream`), fed by the core's books.
 *
 * Frames are built once per event by string concatenation and fanned out with uWS pub/sub: one topic per
 * (route, stream) for raw connections and one for combined ones (`{"stream":..,"data":..}`).
 * Depth diffs: the core's batches (updateId +1 each) are coalesced per `ctx.depthIntervalMs` (0 = one frame per
 * batch), so Spot `U == prev u + 1` and USD-M `pu == prev u` hold, and REST `lastUpdateId` lines up.
 * USD-M routing: book streams only on `/public`, trades only on `/market` (except the unlisted `@trade`, served on
 * both, see SymState.tradeAlt); a stream on the wrong route (or the
 * legacy `/ws`) is accepted but never receives data, as on the real venue.
 */
import type { TemplatedApp, WebSocketBehavior } from '../../util/uws.js';
import type { SimBook, SimBookListener, SimContext, SimFault, SimLevelChange, SimMarketId, SimPublicTrade } from '../core/types.js';
import { newConnData, upgradeWith, wsSend, type BnSocket, type ConnData, type ConnSet } from './conn.js';
import { InstFmt, type BnKind } from './format.js';

/** allocation-free top-of-book reads the core's MatchingBook offers beyond SimBook */
interface FastTop {
  bestBidPrice(): number;
  bestAskPrice(): number;
}

interface Topic {
  name: string;
  raw: string;
  comb: string;
  combPrefix: string;
}

const SPOT_BOOK_STREAMS = ['bookTicker', 'depth', 'depth@100ms', 'depth5', 'depth10', 'depth20', 'depth5@100ms', 'depth10@100ms', 'depth20@100ms'];
const USDM_BOOK_STREAMS = ['bookTicker', 'depth', 'depth@100ms', 'depth@500ms', 'depth@250ms'];
for (const n of [5, 10, 20]) for (const s of ['', '@100ms', '@250ms', '@500ms']) USDM_BOOK_STREAMS.push(`depth${n}${s}`);
const TRADE_STREAMS = ['trade', 'aggTrade'];

interface PartialTopic {
  t: Topic;
  levels: number;
  periodMs: number;
  dueMs: number;
  lastU: number;
}

class SymState {
  readonly lower: string;
  readonly fmt: InstFmt;
  readonly topics = new Map<string, Topic>();
  readonly diffTopics: Topic[] = [];
  readonly partials: PartialTopic[] = [];
  bookTicker!: Topic;
  trade!: Topic;
  /** USD-M: `<symbol>@trade` on `/public` as well (ccxt routes it there, other SDKs to `/market`; the real routing of
   * this unlisted stream is unverified, see shared/exchange/binance.md), so it is served on both */
  tradeAlt: Topic | undefined;
  aggTrade!: Topic;
  /** `<symbol>@ticker` / `@miniTicker` (pushed every tickerPeriodMs when `tickerSource` is set) */
  ticker!: Topic;
  miniTicker!: Topic;
  tickerDueMs = 0;
  // diff coalescing
  readonly bids = new Map<number, number>();
  readonly asks = new Map<number, number>();
  pendU = 0;
  pendu = 0;
  pendT = 0;
  dirty = false;
  /** u of the previous diff frame (USD-M pu) */
  lastU = 0;
  // faults
  faultPending = false;
  drop = 0;
  dup = 0;
  reorder = false;
  held: string | undefined;
  // bookTicker change detection
  bb = -1;
  bq = -1;
  ab = -1;
  aq = -1;
  aggId = 0;
  /** formatted prices by tick (the levels near the top repeat constantly); bounded */
  private readonly pxCache = new Map<number, string>();
  px(ticks: number): string {
    let v = this.pxCache.get(ticks);
    if (v === undefined) {
      if (this.pxCache.size >= 8192) this.pxCache.clear();
      v = this.fmt.px(ticks);
      this.pxCache.set(ticks, v);
    }
    return v;
  }
  constructor(
    readonly book: SimBook,
    readonly kind: BnKind,
  ) {
    this.lower = book.instrument.symbol.toLowerCase();
    this.fmt = new InstFmt(book.instrument, kind);
  }
}

export interface StreamOptions {
  /** server ping period (ms); Spot default 20 s, USD-M 180 s */
  pingIntervalMs?: number;
  /** close a connection whose last pong is older than this (ms); Spot 60 s, USD-M 600 s */
  pongTimeoutMs?: number;
}

export class MarketStreams implements SimBookListener {
  private readonly syms = new Map<string, SymState>();
  private readonly dirtyList: SymState[] = [];
  private flushTimer: NodeJS.Timeout | undefined;
  private partialTimer: NodeJS.Timeout | undefined;
  private stall = false;
  private malformedLeft = 0;
  private malformedPending = false;
  private oversizedPending = false;
  private readonly prefix: string;
  private readonly isSpot: boolean;
  /** the 24hrTicker event of a symbol (set by the venue: ticker.ts); null until then */
  tickerSource: ((symbol: string, nowMs: number, mini: boolean) => string) | null = null;
  /** push period of `@ticker` and `@miniTicker`: Spot 1000 ms (documented); USD-M 2000 ms (not verified here) */
  private readonly tickerPeriodMs: number;

  constructor(
    private readonly ctx: SimContext,
    private readonly market: SimMarketId,
    private readonly kind: BnKind,
    private readonly app: TemplatedApp,
    private readonly conns: ConnSet,
  ) {
    this.prefix = market + '|';
    this.isSpot = kind === 'spot';
    this.tickerPeriodMs = this.isSpot ? 1000 : 2000;
    const books = ctx.books.get(market);
    if (books) for (const [sym, book] of books) this.addSymbol(sym, book);
    ctx.onFault((f) => this.onFault(f));
    if (ctx.depthIntervalMs > 0) this.flushTimer = setInterval(() => this.flushAll(), ctx.depthIntervalMs);
    this.partialTimer = setInterval(() => this.partialTick(), 50);
    this.flushTimer?.unref?.();
    this.partialTimer.unref?.();
  }

  private topic(route: string, name: string): Topic {
    const base = this.prefix + route + '|' + name;
    return { name, raw: base + '|r', comb: base + '|c', combPrefix: `{"stream":"${name}","data":` };
  }

  private addSymbol(sym: string, book: SimBook): void {
    const st = new SymState(book, this.kind);
    const bookRoute = this.isSpot ? '' : 'public';
    const tradeRoute = this.isSpot ? '' : 'market';
    for (const s of this.isSpot ? SPOT_BOOK_STREAMS : USDM_BOOK_STREAMS) {
      const t = this.topic(bookRoute, st.lower + '@' + s);
      st.topics.set(s, t);
      const m = /^depth(5|10|20)?(?:@(\d+)ms)?$/.exec(s);
      if (m) {
        if (m[1]) {
          const period = m[2] ? Number(m[2]) : this.isSpot ? 1000 : 250;
          st.partials.push({ t, levels: Number(m[1]), periodMs: period, dueMs: 0, lastU: 0 });
        } else st.diffTopics.push(t);
      }
    }
    for (const s of TRADE_STREAMS) st.topics.set(s, this.topic(tradeRoute, st.lower + '@' + s));
    st.bookTicker = st.topics.get('bookTicker')!;
    st.trade = st.topics.get('trade')!;
    if (!this.isSpot) st.tradeAlt = this.topic('public', st.lower + '@trade');
    st.aggTrade = st.topics.get('aggTrade')!;
    st.ticker = this.topic(tradeRoute, st.lower + '@ticker');
    st.topics.set('ticker', st.ticker);
    st.miniTicker = this.topic(tradeRoute, st.lower + '@miniTicker');
    st.topics.set('miniTicker', st.miniTicker);
    st.lastU = book.updateId;
    this.syms.set(sym, st);
    book.addListener(this);
  }

  close(): void {
    if (this.flushTimer) clearInterval(this.flushTimer);
    if (this.partialTimer) clearInterval(this.partialTimer);
    for (const st of this.syms.values()) st.book.removeListener(this);
  }

  // ------------------------------------------------------------------------------------------ routes
  /** Register the WS routes. USD-M: `/public/*`, `/market/*` and (unless sharing an app) legacy `/ws`, `/stream`. */
  register(behavior: Partial<WebSocketBehavior<ConnData>>, withLegacy: boolean): void {
    const routes: Array<[string, string]> = this.isSpot
      ? [['', '']]
      : [
          ['/public', 'public'],
          ['/market', 'market'],
        ];
    if (!this.isSpot && withLegacy) routes.push(['', 'legacy']);
    for (const [base, route] of routes) {
      const mk = (combined: boolean) => (path: string, query: import('../core/http.js').ParsedQuery, ip: string) => {
        const d = newConnData('market', route, combined, path, query, ip);
        return d;
      };
      const b = (combined: boolean): WebSocketBehavior<ConnData> => ({
        ...behavior,
        upgrade: (res, req, context) => upgradeWith(res, req, context, mk(combined)),
        open: (ws) => this.onOpen(ws),
        message: (ws, msg) => this.onMessage(ws, Buffer.from(msg).toString()),
      });
      this.app.ws(base + '/ws', b(false));
      this.app.ws(base + '/ws/*', b(false));
      this.app.ws(base + '/stream', b(true));
    }
  }

  private onOpen(ws: BnSocket): void {
    this.conns.add(ws);
    const d = ws.getUserData();
    let names: string[] = [];
    if (d.combined) {
      const s = d.query.params.get('streams');
      if (s) names = s.split('/');
    } else {
      const i = d.path.indexOf('/ws/');
      if (i >= 0) names = d.path.slice(i + 4).split('/');
    }
    for (const n of names) if (n.length > 0) this.subscribe(ws, n);
  }

  static normalize(name: string): string {
    const at = name.indexOf('@');
    return at < 0 ? name.toLowerCase() : name.slice(0, at).toLowerCase() + name.slice(at);
  }

  private topicNames(d: ConnData, name: string): string {
    return this.prefix + d.route + '|' + name + (d.combined ? '|c' : '|r');
  }

  private subscribe(ws: BnSocket, raw: string): void {
    const d = ws.getUserData();
    const name = MarketStreams.normalize(raw);
    if (d.streams.has(name)) return;
    d.streams.add(name);
    ws.subscribe(this.topicNames(d, name));
  }

  private unsubscribe(ws: BnSocket, raw: string): void {
    const d = ws.getUserData();
    const name = MarketStreams.normalize(raw);
    if (!d.streams.delete(name)) return;
    ws.unsubscribe(this.topicNames(d, name));
  }

  private onMessage(ws: BnSocket, text: string): void {
    controlMessage(ws, text, {
      subscribe: (params) => {
        for (const p of params) this.subscribe(ws, p);
        return undefined;
      },
      unsubscribe: (params) => {
        for (const p of params) this.unsubscribe(ws, p);
        return undefined;
      },
      list: () => [...ws.getUserData().streams],
    });
  }

  // ------------------------------------------------------------------------------------------ faults
  private onFault(f: SimFault): void {
    if (f.kind === 'clear') {
      this.stall = false;
      this.malformedLeft = 0;
      this.malformedPending = false;
      this.oversizedPending = false;
      for (const st of this.syms.values()) {
        st.drop = 0;
        st.dup = 0;
        st.reorder = false;
        st.faultPending = false;
      }
      return;
    }
    if (!('market' in f) || (f.market !== this.market && f.market !== 'all')) return;
    switch (f.kind) {
      case 'dropDiff':
      case 'duplicateDiff':
      case 'reorderDiff': {
        const st = this.syms.get(f.symbol.toUpperCase());
        if (st) st.faultPending = true;
        break;
      }
      case 'stallStream':
        this.stall = true;
        break;
      case 'malformedFrame':
        this.malformedPending = true;
        break;
      case 'oversizedFrame':
        this.oversizedPending = true;
        break;
      default:
    }
  }

  /** Counted faults are consumed one take per frame (the registry counts `count` down). */
  private takeSymFaults(st: SymState): void {
    const sym = st.book.instrument.symbol;
    const d = this.ctx.takeFault(this.market, 'dropDiff', sym);
    if (d) st.drop = 1;
    const u = d ? undefined : this.ctx.takeFault(this.market, 'duplicateDiff', sym);
    if (u) st.dup = 1;
    const r = d ? undefined : this.ctx.takeFault(this.market, 'reorderDiff', sym);
    if (r) st.reorder = true;
    if (!d && !u && !r) st.faultPending = false;
  }

  private hasSubs(t: Topic): boolean {
    return this.app.numSubscribers(t.raw) > 0 || this.app.numSubscribers(t.comb) > 0;
  }

  /** Publish one data payload on a stream topic (raw + combined), applying stream-wide faults. */
  private pub(t: Topic, data: string): void {
    const nr = this.app.numSubscribers(t.raw);
    const nc = this.app.numSubscribers(t.comb);
    if (nr === 0 && nc === 0) return; // faults are spent only on frames someone receives
    if (this.stall) {
      if (this.ctx.peekFault(this.market, 'stallStream')) return;
      this.stall = false;
    }
    if (this.malformedPending) {
      if (this.ctx.takeFault(this.market, 'malformedFrame')) this.malformedLeft = 1;
      else this.malformedPending = false;
    }
    if (this.oversizedPending) {
      const f = this.ctx.takeFault(this.market, 'oversizedFrame');
      if (f) {
        const n = Math.max(64, f.bytes ?? 2 * 1024 * 1024);
        const big = '{"e":"oversized","pad":"' + 'x'.repeat(n - 26) + '"}';
        this.app.publish(t.raw, big);
        this.app.publish(t.comb, big);
      } else this.oversizedPending = false;
    }
    if (this.malformedLeft > 0) {
      this.malformedLeft--;
      data = data.slice(0, Math.max(1, data.length >> 1));
      this.app.publish(t.raw, data);
      this.app.publish(t.comb, t.combPrefix + data);
      return;
    }
    const comb = nc > 0 ? t.combPrefix + data + '}' : '';
    this.ctx.wireTap?.mdOut();
    if (nr > 0) this.app.publish(t.raw, data);
    if (nc > 0) this.app.publish(t.comb, comb);
  }

  // ------------------------------------------------------------------------------------------ book events
  onLevels(symbol: string, changes: readonly SimLevelChange[], updateId: number, timeMs: number): void {
    const st = this.syms.get(symbol);
    if (!st) return;
    let anyDiff = false;
    const dt = st.diffTopics;
    for (let i = 0; i < dt.length; i++) if (this.hasSubs(dt[i]!)) anyDiff = true;
    if (!anyDiff) {
      // nobody listens: keep the sequence moving so a later subscriber starts cleanly
      st.pendU = 0;
      st.bids.clear();
      st.asks.clear();
      st.lastU = updateId;
    } else if (this.ctx.depthIntervalMs > 0) {
      if (st.pendU === 0) st.pendU = updateId;
      st.pendu = updateId;
      st.pendT = timeMs;
      for (let i = 0; i < changes.length; i++) {
        const c = changes[i]!;
        (c.side === 'BUY' ? st.bids : st.asks).set(c.priceTicks, c.qtyLots);
      }
      if (!st.dirty) {
        st.dirty = true;
        this.dirtyList.push(st);
      }
    } else {
      const f = st.fmt;
      let b = '';
      let a = '';
      for (let i = 0; i < changes.length; i++) {
        const c = changes[i]!;
        const lv = '["' + st.px(c.priceTicks) + '","' + f.qty(c.qtyLots) + '"]';
        if (c.side === 'BUY') b = b.length === 0 ? lv : b + ',' + lv;
        else a = a.length === 0 ? lv : a + ',' + lv;
      }
      const U = st.pendU === 0 ? updateId : st.pendU;
      st.pendU = 0;
      this.emitDiff(st, U, updateId, timeMs, b, a);
    }
    if (this.hasSubs(st.bookTicker) && this.topMaybeChanged(st, changes)) this.bookTicker(st, updateId, timeMs);
  }

  /** false when neither best price moved nor a change touched a best level (no allocation on that path) */
  private topMaybeChanged(st: SymState, changes: readonly SimLevelChange[]): boolean {
    const b = st.book as Partial<FastTop>;
    if (typeof b.bestBidPrice !== 'function' || typeof b.bestAskPrice !== 'function') return true;
    const bp = b.bestBidPrice();
    const ap = b.bestAskPrice!();
    if (bp !== st.bb || ap !== st.ab) return true;
    for (let i = 0; i < changes.length; i++) {
      const c = changes[i]!;
      if (c.priceTicks === (c.side === 'BUY' ? bp : ap)) return true;
    }
    return false;
  }

  private flushAll(): void {
    const list = this.dirtyList;
    for (let i = 0; i < list.length; i++) {
      const st = list[i]!;
      st.dirty = false;
      if (st.pendU === 0) continue;
      const f = st.fmt;
      let b = '';
      let a = '';
      for (const [p, qty] of st.bids) {
        const lv = '["' + st.px(p) + '","' + f.qty(qty) + '"]';
        b = b.length === 0 ? lv : b + ',' + lv;
      }
      for (const [p, qty] of st.asks) {
        const lv = '["' + st.px(p) + '","' + f.qty(qty) + '"]';
        a = a.length === 0 ? lv : a + ',' + lv;
      }
      st.bids.clear();
      st.asks.clear();
      const U = st.pendU;
      st.pendU = 0;
      this.emitDiff(st, U, st.pendu, st.pendT, b, a);
    }
    list.length = 0;
  }

  private emitDiff(st: SymState, U: number, u: number, T: number, b: string, a: string): void {
    const pu = st.lastU;
    st.lastU = u;
    if (st.faultPending) this.takeSymFaults(st);
    if (st.drop > 0) {
      st.drop--;
      return;
    }
    const E = this.ctx.nowMs(this.market);
    const sym = st.book.instrument.symbol;
    const data = this.isSpot
      ? `{"e":"depthUpdate","E":${E},"s":"${sym}","U":${U},"u":${u},"b":[${b}],"a":[${a}]}`
      : `{"e":"depthUpdate","E":${E},"T":${T},"s":"${sym}","U":${U},"u":${u},"pu":${pu},"b":[${b}],"a":[${a}]}`;
    if (st.reorder && st.held === undefined) {
      st.reorder = false;
      st.held = data;
      return;
    }
    this.pubDiff(st, data);
    if (st.dup > 0) {
      st.dup--;
      this.pubDiff(st, data);
    }
    if (st.held !== undefined) {
      const h = st.held;
      st.held = undefined;
      this.pubDiff(st, h);
    }
  }

  private pubDiff(st: SymState, data: string): void {
    const dt = st.diffTopics;
    for (let i = 0; i < dt.length; i++) this.pub(dt[i]!, data);
  }

  private bookTicker(st: SymState, u: number, T: number): void {
    const bb = st.book.bestBid();
    const ba = st.book.bestAsk();
    const bp = bb ? bb.priceTicks : 0;
    const bq = bb ? bb.qtyLots : 0;
    const ap = ba ? ba.priceTicks : 0;
    const aq = ba ? ba.qtyLots : 0;
    if (bp === st.bb && bq === st.bq && ap === st.ab && aq === st.aq) return;
    st.bb = bp;
    st.bq = bq;
    st.ab = ap;
    st.aq = aq;
    const f = st.fmt;
    const sym = st.book.instrument.symbol;
    const data = this.isSpot
      ? `{"u":${u},"s":"${sym}","b":"${f.px(bp)}","B":"${f.qty(bq)}","a":"${f.px(ap)}","A":"${f.qty(aq)}"}`
      : `{"e":"bookTicker","u":${u},"s":"${sym}","b":"${f.px(bp)}","B":"${f.qty(bq)}","a":"${f.px(ap)}","A":"${f.qty(aq)}","T":${T},"E":${this.ctx.nowMs(this.market)}}`;
    this.pub(st.bookTicker, data);
  }

  onTrade(symbol: string, t: SimPublicTrade): void {
    const st = this.syms.get(symbol);
    if (!st) return;
    const wantT = this.hasSubs(st.trade);
    const wantT2 = st.tradeAlt !== undefined && this.hasSubs(st.tradeAlt);
    const wantA = this.hasSubs(st.aggTrade);
    st.aggId++;
    if (!wantT && !wantT2 && !wantA) return;
    const f = st.fmt;
    const E = this.ctx.nowMs(this.market);
    const p = f.px(t.priceTicks);
    const qty = f.qty(t.qtyLots);
    const m = t.takerSide === 'SELL';
    const sym = st.book.instrument.symbol;
    if (wantT || wantT2) {
      const frame = this.isSpot
        ? `{"e":"trade","E":${E},"s":"${sym}","t":${t.tradeId},"p":"${p}","q":"${qty}","T":${t.timeMs},"m":${m},"M":true}`
        : `{"e":"trade","E":${E},"T":${t.timeMs},"s":"${sym}","t":${t.tradeId},"p":"${p}","q":"${qty}","X":"MARKET","m":${m}}`;
      if (wantT) this.pub(st.trade, frame);
      if (wantT2) this.pub(st.tradeAlt!, frame);
    }
    if (wantA) {
      this.pub(
        st.aggTrade,
        this.isSpot
          ? `{"e":"aggTrade","E":${E},"s":"${sym}","a":${st.aggId},"p":"${p}","q":"${qty}","f":${t.tradeId},"l":${t.tradeId},"T":${t.timeMs},"m":${m},"M":true}`
          : `{"e":"aggTrade","E":${E},"a":${st.aggId},"s":"${sym}","p":"${p}","q":"${qty}","nq":"${qty}","f":${t.tradeId},"l":${t.tradeId},"T":${t.timeMs},"m":${m}}`,
      );
    }
  }

  onOrder(): void {
    /* private events are the user-data layer's */
  }

  // ------------------------------------------------------------------------------------------ partial depth
  private partialTick(): void {
    const now = Date.now();
    for (const st of this.syms.values()) {
      if (this.tickerSource !== null && now >= st.tickerDueMs) {
        st.tickerDueMs = now + this.tickerPeriodMs;
        const E = this.ctx.nowMs(this.market);
        if (this.hasSubs(st.ticker)) this.pub(st.ticker, this.tickerSource(st.book.instrument.symbol, E, false));
        if (this.hasSubs(st.miniTicker)) this.pub(st.miniTicker, this.tickerSource(st.book.instrument.symbol, E, true));
      }
      let snap: ReturnType<SimBook['depth']> | undefined;
      for (const p of st.partials) {
        if (now < p.dueMs) continue;
        p.dueMs = now + p.periodMs;
        if (!this.hasSubs(p.t)) continue;
        snap ??= st.book.depth(20);
        this.pub(p.t, this.partialFrame(st, p, snap));
      }
    }
  }

  private partialFrame(st: SymState, p: PartialTopic, snap: ReturnType<SimBook['depth']>): string {
    const f = st.fmt;
    const side = (lv: Array<[number, number]>): string => {
      let s = '';
      const n = Math.min(p.levels, lv.length);
      for (let i = 0; i < n; i++) s += (i ? ',' : '') + '["' + f.px(lv[i]![0]) + '","' + f.qty(lv[i]![1]) + '"]';
      return s;
    };
    if (this.isSpot) return `{"lastUpdateId":${snap.updateId},"bids":[${side(snap.bids)}],"asks":[${side(snap.asks)}]}`;
    const E = this.ctx.nowMs(this.market);
    const pu = p.lastU;
    const U = pu === 0 ? snap.updateId : Math.min(pu + 1, snap.updateId);
    p.lastU = snap.updateId;
    return `{"e":"depthUpdate","E":${E},"T":${E},"s":"${st.book.instrument.symbol}","U":${U},"u":${snap.updateId},"pu":${pu},"b":[${side(snap.bids)}],"a":[${side(snap.asks)}]}`;
  }
}

/** What a socket does with the stream control methods; subscribe/unsubscribe return an error frame's `error` object
 * (JSON text) to refuse the whole request, or undefined when every item was applied. */
export interface ControlOps {
  subscribe(params: readonly string[]): string | undefined;
  unsubscribe(params: readonly string[]): string | undefined;
  list(): readonly string[];
}

/**
 * One stream control message (`{"method":"SUBSCRIBE"|"UNSUBSCRIBE"|"LIST_SUBSCRIPTIONS"|"SET_PROPERTY"|"GET_PROPERTY",
 * "params":[..],"id":..}`), answered as the venue does: `{"result":null,"id":N}`, the list, or `{"error":{..},"id":N}`.
 * Shared by the market routes and the USD-M `/private` routes.
 */
export function controlMessage(ws: BnSocket, text: string, ops: ControlOps): void {
  let m: unknown;
  try {
    m = JSON.parse(text);
  } catch (e) {
    wsSend(ws, `{"error":{"code":3,"msg":${JSON.stringify('Invalid JSON: ' + (e instanceof Error ? e.message : 'parse error'))}},"id":null}`);
    return;
  }
  if (typeof m !== 'object' || m === null || Array.isArray(m)) {
    wsSend(ws, '{"error":{"code":2,"msg":"Invalid request: request must be an object"},"id":null}');
    return;
  }
  const o = m as { method?: unknown; params?: unknown; id?: unknown };
  const id = o.id === undefined ? 'null' : JSON.stringify(o.id);
  if (!(o.id === undefined || o.id === null || typeof o.id === 'number' || (typeof o.id === 'string' && /^[a-zA-Z0-9]{1,36}$/.test(o.id)))) {
    wsSend(ws, `{"error":{"code":1,"msg":"Invalid value type: expected u64 or string"},"id":null}`);
    return;
  }
  const d = ws.getUserData();
  const params = Array.isArray(o.params) ? (o.params as unknown[]) : undefined;
  switch (o.method) {
    case 'SUBSCRIBE':
    case 'UNSUBSCRIBE': {
      if (!params || params.some((p) => typeof p !== 'string')) {
        wsSend(ws, `{"error":{"code":2,"msg":"Invalid request: missing field \`params\`"},"id":${id}}`);
        return;
      }
      const err = o.method === 'SUBSCRIBE' ? ops.subscribe(params as string[]) : ops.unsubscribe(params as string[]);
      wsSend(ws, err === undefined ? `{"result":null,"id":${id}}` : `{"error":${err},"id":${id}}`);
      return;
    }
    case 'LIST_SUBSCRIPTIONS':
      wsSend(ws, `{"result":${JSON.stringify(ops.list())},"id":${id}}`);
      return;
    case 'SET_PROPERTY':
      wsSend(ws, `{"result":null,"id":${id}}`);
      return;
    case 'GET_PROPERTY':
      wsSend(ws, `{"result":${d.combined},"id":${id}}`);
      return;
    default:
      wsSend(
        ws,
        `{"error":{"code":2,"msg":${JSON.stringify(`Invalid request: unknown variant \`${String(o.method)}\`, expected one of \`SUBSCRIBE\`, \`UNSUBSCRIBE\`, \`LIST_SUBSCRIPTIONS\`, \`SET_PROPERTY\`, \`GET_PROPERTY\``)}},"id":${id}}`,
      );
  }
}
