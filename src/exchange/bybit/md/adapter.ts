/**
 * Bybit v5 market-data adapter for one category (spot or linear): one public connection
 * `<ws>/v5/public/<category>`, topics `orderbook.<depth>.<S>` and `publicTrade.<S>`, `{"op":"ping"}` every 20 s,
 * book sync per bybit.md §2.1 (snapshot resets, u == prev+1, gap -> resubscribe for a fresh snapshot), BotState
 * writes. On every (re)connect all books are invalid until their new snapshot arrives: no ghost levels.
 */
import type { BotState } from '../../../model/botstate.js';
import type { Instrument } from '../../../model/types.js';
import { VENUE_INDEX } from '../../../model/types.js';
import { nowNs } from '../../../util/clock.js';
import type { HopRecorder } from '../../../util/hops.js';
import { MdCounters, RejectedFrames, ResyncReason, SymbolTable } from '../../../md/common.js';
import { BookFeed } from '../../../md/feed.js';
import type { FrameRecorder } from '../../../md/recorder.js';
import { log } from '../../../util/log.js';
import type { L2Book } from '../../../book/l2book.js';
import { ManagedWs } from '../../../net/ws.js';
import { BybitParser, BbMsg } from './parser.js';
import { BybitBookSync } from './sync.js';

export interface BybitMdOptions {
  category: 'spot' | 'linear';
  /** wss://stream.bybit.com | ws://127.0.0.1:port (simulator); the adapter appends /v5/public/<category> */
  wsBaseUrl: string;
  instruments: Instrument[];
  state: BotState;
  /** orderbook depth topic (1, 50, 200, 1000; default 200) */
  depth?: number;
  trades?: boolean;
  staleAfterMs?: number;
  deadAfterMs?: number;
  pingIntervalMs?: number;
  hops?: HopRecorder;
  recorder?: FrameRecorder;
  bookCapacity?: number;
  backoffInitialMs?: number;
  backoffMaxMs?: number;
}

/** Spot allows at most 10 args per subscribe request. */
const ARGS_PER_REQ = 10;

export class BybitMd {
  readonly counters = new MdCounters();
  readonly rejected: RejectedFrames;
  readonly parser: BybitParser;
  readonly symbols = new SymbolTable();
  readonly feeds: BookFeed[] = [];
  readonly syncs: BybitBookSync[] = [];
  conn: ManagedWs | undefined;
  private readonly venue: number;
  private recConn = -1;
  private reqSeq = 0;

  constructor(readonly opts: BybitMdOptions) {
    this.rejected = new RejectedFrames(this.counters, `bybit-${this.opts.category}`);
    this.venue = VENUE_INDEX[opts.category === 'spot' ? 'bybitSpot' : 'bybitLinear'];
    const px: number[] = [];
    const qty: number[] = [];
    for (const inst of opts.instruments) {
      const i = this.symbols.add(inst.symbol);
      px[i] = inst.priceDecimals;
      qty[i] = inst.qtyDecimals;
      const feed = new BookFeed(inst, opts.state, this.counters, opts.bookCapacity ?? 512);
      feed.stampNs = !!opts.hops;
      this.feeds[i] = feed;
      this.syncs[i] = new BybitBookSync(feed, (s) => this.resubscribe(s));
    }
    this.parser = new BybitParser(this.symbols, px, qty);
  }

  book(symbol: string): L2Book | undefined {
    const i = this.symbols.indexOf(symbol);
    return i >= 0 ? this.feeds[i]?.book : undefined;
  }

  sync(symbol: string): BybitBookSync | undefined {
    const i = this.symbols.indexOf(symbol);
    return i >= 0 ? this.syncs[i] : undefined;
  }

  url(): string {
    return `${this.opts.wsBaseUrl.replace(/\/+$/, '')}/v5/public/${this.opts.category}`;
  }

  topics(symbol: string): string[] {
    const t = [`orderbook.${this.opts.depth ?? 200}.${symbol}`];
    if (this.opts.trades !== false) t.push(`publicTrade.${symbol}`);
    return t;
  }

  async start(): Promise<void> {
    const url = this.url();
    const conn = new ManagedWs({
      name: `bybit-${this.opts.category}`,
      url,
      onFrame: (d, t) => this.onFrame(d, t),
      appPing: '{"op":"ping"}',
      appPingIntervalMs: this.opts.pingIntervalMs ?? 20_000,
      staleAfterMs: this.opts.staleAfterMs ?? 5000,
      ...(this.opts.deadAfterMs !== undefined ? { deadAfterMs: this.opts.deadAfterMs } : {}),
      backoffInitialMs: this.opts.backoffInitialMs ?? 250,
      backoffMaxMs: this.opts.backoffMaxMs ?? 30_000,
      onOpen: (_c, reconnect, send) => {
        if (this.opts.recorder) this.recConn = this.opts.recorder.connect(`bybit-${this.opts.category}`, url, nowNs());
        if (reconnect) this.counters.reconnects++;
        const args = this.symbols.names.flatMap((s) => this.topics(s));
        for (let i = 0; i < args.length; i += ARGS_PER_REQ) {
          send(JSON.stringify({ req_id: `sub${++this.reqSeq}`, op: 'subscribe', args: args.slice(i, i + ARGS_PER_REQ) }));
        }
      },
      onDisconnect: () => {
        for (const s of this.syncs) s.reset(ResyncReason.Disconnect);
      },
      onStale: () => {
        for (const f of this.feeds) f.markStale();
      },
      onFresh: () => {
        for (const f of this.feeds) f.clearStale();
      },
    });
    this.conn = conn;
    try {
      await conn.start();
    } catch (e) {
      await conn.close();
      throw e;
    }
  }

  async stop(): Promise<void> {
    await this.conn?.close();
  }

  /** Gap or crossed book: unsubscribe + subscribe the book topic so that Bybit sends a new snapshot. */
  private resubscribe(symbol: string): void {
    const topic = `orderbook.${this.opts.depth ?? 200}.${symbol}`;
    this.conn?.send(JSON.stringify({ req_id: `unsub${++this.reqSeq}`, op: 'unsubscribe', args: [topic] }));
    this.conn?.send(JSON.stringify({ req_id: `sub${++this.reqSeq}`, op: 'subscribe', args: [topic] }));
  }

  /** Hot path: one frame's bytes. */
  onFrame(buf: Uint8Array, recvNs: number): void {
    const c = this.counters;
    c.frames++;
    c.bytes += buf.length;
    if (this.recConn >= 0) this.opts.recorder?.record(this.recConn, buf, recvNs);
    const p = this.parser;
    const r = p.parse(buf);
    const hops = this.opts.hops;
    const tParsed = hops ? nowNs() : 0;
    if (r !== 0) {
      this.rejected.reject(r, buf);
      // a book message refused whole: the book has missed an update, so it resyncs (never skips it)
      const s = p.rejectedBookSym();
      if (s >= 0) this.syncs[s]?.rejected();
      return;
    }
    const kind = p.kind;
    p.recvNs = recvNs;
    if (kind === BbMsg.Book) {
      (this.syncs[p.sym] as BybitBookSync).onBook(p);
    } else if (kind === BbMsg.Trade) {
      const f = this.feeds[p.sym] as BookFeed;
      f.tradePx = p.tradePx;
      f.tradeQty = p.tradeQty;
      f.tradeSide = p.tradeSide;
      f.tradeMs = p.tradeTime;
      f.recvNs = recvNs;
      f.trade();
    } else if (kind === BbMsg.Cold) {
      this.cold(buf);
      return;
    } else {
      c.ignored++;
      return;
    }
    if (hops) (this.feeds[p.sym] as BookFeed).recordHops(hops, this.venue, recvNs, tParsed, p.ts);
    // the engine's event path runs after BotState and the hops are written (BookFeed.onTop)
    if (kind === BbMsg.Book) (this.feeds[p.sym] as BookFeed).flushTop();
  }

  private cold(buf: Uint8Array): void {
    this.counters.cold++;
    let j: { success?: unknown; ret_msg?: unknown; op?: unknown };
    try {
      j = JSON.parse(Buffer.from(buf.buffer, buf.byteOffset, buf.length).toString('utf8')) as typeof j;
    } catch {
      this.counters.reject(2 /* Syntax */);
      return;
    }
    if (j.success === false) log().warn({ venue: `bybit-${this.opts.category}`, response: j }, 'bybit request failed');
  }
}
