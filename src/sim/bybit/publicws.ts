/**
 * Public market data of the Bybit venue: the topics' publication (`orderbook.{1,50,200,1000}`, `publicTrade`,
 * `tickers`; frames built by the feeds in feeds.ts, pushed per interval or per book batch) with the market faults
 * (drop, duplicate, reorder, malformed, oversized, stall, snapshot reset, orderbook restart), and the public WS
 * `/v5/public/spot|linear`: `subscribe`, `unsubscribe`, `ping`.
 */
import type { SimMarketId, SimPublicTrade } from '../core/types.js';
import { q, type Category } from './common.js';
import { DEPTHS, type DepthFeed, SEQ_BASE, type Depth } from './feeds.js';
import { sendWs, type Ws } from './conn.js';
import type { VenueState, SymState } from './state.js';
import { nextFundingTime } from './format.js';

export class PublicWs {
  constructor(private readonly s: VenueState) {}

  private stalled(market: SimMarketId): boolean {
    return this.s.ctx.peekFault(market, 'stallStream') !== undefined;
  }

  /** Take one unit of a counted fault (the core's registry spends one of its `count` per call). */
  private takeCounted(market: SimMarketId, kind: 'dropDiff' | 'duplicateDiff' | 'malformedFrame', symbol?: string): boolean {
    return this.s.ctx.takeFault(market, kind, symbol) !== undefined;
  }

  /** push timer of a depth: every symbol's topic of that depth */
  flushDepth(d: Depth): void {
    for (const st of this.s.syms.values()) this.flushFeed(st, st.depthFeeds.get(d)!);
  }

  /** the next frame of a depth topic, if its window changed (L1: snapshot only) */
  flushFeed(st: SymState, feed: DepthFeed): void {
    if (!feed.active) return;
    if (this.stalled(st.market)) return;
    const ts = this.s.ctx.nowMs(st.market);
    const frame = feed.next(ts, st.cts);
    if (frame === undefined) return;
    if (feed.subscribers === 0) return; // pinned (REST) feed: state advanced, nobody to tell
    if (feed.depth === 1) this.publishMarket(st, feed.key, frame);
    else this.publishDelta(st, feed, frame);
  }

  private publishDelta(st: SymState, feed: DepthFeed, frame: string): void {
    const m = st.market;
    if (feed.held !== undefined) {
      const held = feed.held;
      feed.held = undefined;
      this.publishMarket(st, feed.key, frame);
      this.publishMarket(st, feed.key, held);
      return;
    }
    if (this.takeCounted(m, 'dropDiff', st.symbol)) return;
    if (this.s.ctx.takeFault(m, 'reorderDiff', st.symbol)) {
      feed.held = frame;
      return;
    }
    this.publishMarket(st, feed.key, frame);
    if (this.takeCounted(m, 'duplicateDiff', st.symbol)) this.publishMarket(st, feed.key, frame);
  }

  /** every market-stream frame goes through here (malformed / oversized faults) */
  private publishMarket(st: SymState, key: string, frame: string): void {
    let out = frame;
    if (this.takeCounted(st.market, 'malformedFrame')) {
      out = frame.slice(0, Math.max(1, frame.length >> 1));
    } else {
      const big = this.s.ctx.takeFault(st.market, 'oversizedFrame');
      if (big) {
        const bytes = big.bytes ?? 2 * 1024 * 1024;
        const pad = Math.max(0, bytes - frame.length - 9);
        out = frame.slice(0, -1) + ',"pad":"' + 'x'.repeat(pad) + '"}';
      }
    }
    this.s.app.publish(key, out, false, false);
  }

  /** push timer of the tickers of a category */
  flushTickers(cat: Category): void {
    for (const st of this.s.syms.values()) if (st.category === cat && st.tickers.subscribers > 0) this.flushTicker(st);
  }

  /** the next `tickers` frame of a symbol, if anything changed */
  flushTicker(st: SymState): void {
    if (this.stalled(st.market)) return;
    const ts = this.s.ctx.nowMs(st.market);
    const frame = st.tickers.next(ts, SEQ_BASE[st.category] + st.book.updateId, nextFundingTime(ts));
    if (frame !== undefined) this.publishMarket(st, st.tickers.key, frame);
  }

  /** a public trade of the book: tickers, REST history, `publicTrade` push */
  onTrade(st: SymState, t: SimPublicTrade): void {
    st.tickers.onTrade(t);
    st.hist.onTrade(t);
    const tf = st.trades;
    const frame = tf.frame(t, this.s.ctx.nowMs(st.market), SEQ_BASE[st.category] + st.book.updateId + 1);
    if (tf.subscribers === 0 || this.stalled(st.market)) return;
    this.publishMarket(st, tf.key, frame);
  }

  /** start a depth topic (first subscriber, or REST orderbook): `u` +1, window from the book now */
  activate(st: SymState, feed: DepthFeed): void {
    if (feed.active) return;
    feed.active = true;
    feed.held = undefined;
    feed.u++;
    feed.resync(st.cts);
    feed.lastSendMs = this.s.ctx.nowMs(st.market);
  }

  /** a fresh `snapshot` on the symbol's active depth topics (or one), `u` continuing */
  pushSnapshot(category: Category, symbol: string, depth?: Depth): void {
    const st = this.s.sym(category, symbol);
    if (!st) return;
    for (const d of depth ? [depth] : DEPTHS) {
      const feed = st.depthFeeds.get(d)!;
      if (!feed.active) continue;
      feed.u++;
      feed.resync(st.cts);
      feed.held = undefined;
      const ts = this.s.ctx.nowMs(st.market);
      feed.lastSendMs = ts;
      if (feed.subscribers > 0) this.s.app.publish(feed.key, feed.snapshotFrame(ts), false, false);
    }
  }

  /** service restart: the next message of each depth topic is a snapshot with `u == 1` */
  restartOrderbook(category: Category, symbol: string): void {
    const st = this.s.sym(category, symbol);
    if (!st) return;
    for (const d of DEPTHS) {
      const feed = st.depthFeeds.get(d)!;
      feed.u = 0; // pushSnapshot makes it 1
    }
    this.pushSnapshot(category, symbol);
  }

  /** a client message on `/v5/public/spot|linear` */
  onMessage(ws: Ws, text: string): void {
    const d = ws.getUserData();
    const cat = d.category!;
    let m: Record<string, unknown>;
    try {
      const v = JSON.parse(text) as unknown;
      if (!v || typeof v !== 'object' || Array.isArray(v)) throw new Error('not an object');
      m = v as Record<string, unknown>;
    } catch {
      sendWs(ws, this.publicAck(cat, d.connId, false, 'error:json unmarshal failed', undefined, ''));
      return;
    }
    const op = m['op'];
    const reqId = typeof m['req_id'] === 'string' ? m['req_id'] : undefined;
    if (op === 'ping') {
      const rq = reqId !== undefined ? `"req_id":${q(reqId)},` : cat === 'linear' ? '"req_id":"",' : '';
      sendWs(ws, `{"success":true,"ret_msg":"pong","conn_id":"${d.connId}",${rq}"op":"ping"}`);
      return;
    }
    if (op !== 'subscribe' && op !== 'unsubscribe') {
      sendWs(ws, this.publicAck(cat, d.connId, false, `error:handler not found,op:${String(op)}`, reqId, typeof op === 'string' ? op : ''));
      return;
    }
    const args = m['args'];
    if (!Array.isArray(args) || args.length === 0 || !args.every((x) => typeof x === 'string')) {
      sendWs(ws, this.publicAck(cat, d.connId, false, 'error:args invalid', reqId, op));
      return;
    }
    if (cat === 'spot' && args.length > 10) {
      sendWs(ws, this.publicAck(cat, d.connId, false, 'args size >10', reqId, op));
      return;
    }
    const topics = [...new Set(args as string[])];
    const bad: string[] = [];
    for (const t of topics) if (!this.parseTopic(cat, t)) bad.push(t);
    if (bad.length > 0) {
      const msg = bad.map((t) => (this.topicKnownShape(t) ? `Invalid symbol :[${t}]` : `error:handler not found,topic:${t}`)).join(',');
      sendWs(ws, this.publicAck(cat, d.connId, false, msg, reqId, op));
      return;
    }
    if (op === 'subscribe') {
      const dup = topics.filter((t) => d.topics.has(t));
      if (dup.length > 0) {
        sendWs(ws, this.publicAck(cat, d.connId, false, `error:already subscribed,topic:${dup.join(',')}`, reqId, op));
        return;
      }
      sendWs(ws, this.publicAck(cat, d.connId, true, cat === 'spot' ? 'subscribe' : '', reqId, op));
      for (const t of topics) this.subscribeTopic(ws, cat, t);
    } else {
      sendWs(ws, this.publicAck(cat, d.connId, true, cat === 'spot' ? 'unsubscribe' : '', reqId, op));
      for (const t of topics) {
        if (!d.topics.has(t)) continue;
        d.topics.delete(t);
        ws.unsubscribe(`${cat}|${t}`);
        this.unsubscribeTopic(cat, t);
      }
    }
  }

  private publicAck(cat: Category, connId: string, ok: boolean, msg: string, reqId: string | undefined, op: string): string {
    if (cat === 'linear') return `{"success":${ok},"ret_msg":${q(msg)},"conn_id":"${connId}","req_id":${q(reqId ?? '')},"op":${q(op)}}`;
    const rq = reqId !== undefined ? `"req_id":${q(reqId)},` : '';
    return `{"success":${ok},"ret_msg":${q(msg)},"conn_id":"${connId}",${rq}"op":${q(op)}}`;
  }

  private topicKnownShape(t: string): boolean {
    return /^orderbook\.(1|50|200|1000)\.[^.]+$/.test(t) || /^(publicTrade|tickers)\.[^.]+$/.test(t);
  }

  /** depth 0 = publicTrade, -1 = tickers */
  private parseTopic(cat: Category, t: string): { st: SymState; depth: Depth | 0 | -1 } | undefined {
    const parts = t.split('.');
    if (parts[0] === 'orderbook' && parts.length === 3) {
      const depth = Number(parts[1]) as Depth;
      if (!DEPTHS.includes(depth)) return undefined;
      const st = this.s.sym(cat, parts[2]!);
      return st ? { st, depth } : undefined;
    }
    if (parts[0] === 'publicTrade' && parts.length === 2) {
      const st = this.s.sym(cat, parts[1]!);
      return st ? { st, depth: 0 } : undefined;
    }
    if (parts[0] === 'tickers' && parts.length === 2) {
      const st = this.s.sym(cat, parts[1]!);
      return st ? { st, depth: -1 } : undefined;
    }
    return undefined;
  }

  private subscribeTopic(ws: Ws, cat: Category, t: string): void {
    const p = this.parseTopic(cat, t)!;
    const d = ws.getUserData();
    d.topics.add(t);
    if (p.depth === 0) {
      p.st.trades.subscribers++;
      ws.subscribe(p.st.trades.key);
      return;
    }
    if (p.depth === -1) {
      const tk = p.st.tickers;
      const ts = this.s.ctx.nowMs(p.st.market);
      const cs = SEQ_BASE[p.st.category] + p.st.book.updateId;
      // bring the current subscribers up to date first: the snapshot resets the delta baseline
      if (tk.subscribers > 0 && p.st.category === 'linear') {
        const pending = tk.next(ts, cs, nextFundingTime(ts));
        if (pending !== undefined) this.s.app.publish(tk.key, pending, false, false);
      }
      tk.subscribers++;
      sendWs(ws, tk.snapshotFrame(ts, cs, nextFundingTime(ts)));
      ws.subscribe(tk.key);
      return;
    }
    const feed = p.st.depthFeeds.get(p.depth)!;
    this.activate(p.st, feed);
    feed.subscribers++;
    // snapshot first (the current published window, carrying the current u), then the topic's deltas
    sendWs(ws, feed.snapshotFrame(this.s.ctx.nowMs(p.st.market)));
    ws.subscribe(feed.key);
  }

  /** one subscriber fewer (unsubscribe or socket closed); a depth topic stops with its last one unless REST pinned it */
  unsubscribeTopic(cat: Category, t: string): void {
    const p = this.parseTopic(cat, t);
    if (!p) return;
    if (p.depth === 0) {
      p.st.trades.subscribers = Math.max(0, p.st.trades.subscribers - 1);
      return;
    }
    if (p.depth === -1) {
      p.st.tickers.subscribers = Math.max(0, p.st.tickers.subscribers - 1);
      return;
    }
    const feed = p.st.depthFeeds.get(p.depth)!;
    feed.subscribers = Math.max(0, feed.subscribers - 1);
    if (feed.subscribers === 0 && !feed.pinned) feed.active = false;
  }
}
