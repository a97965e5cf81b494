/**
 * Binance market-data adapter (Spot or USD-M): connections, parsers, book sync, BotState writes.
 *
 * Spot: one combined-stream connection `<ws>/stream?streams=s@depth@100ms/s@bookTicker/s@aggTrade/...`.
 * USD-M: book streams on `<ws>/public/stream?streams=...` (depth, bookTicker) and trades on
 * `<ws>/market/stream?streams=...` (aggTrade): a stream on the wrong route is silently dead (binance.md §1).
 * Snapshots: `GET <rest>/api/v3/depth` / `GET <rest>/fapi/v1/depth`, one at a time (weight), retried with
 * backoff (Retry-After honoured on 429/418).
 */
import { request } from 'undici';
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
import { ManagedWs, backoffMs } from '../../../net/ws.js';
import { BinanceParser, BnMsg } from './parser.js';
import { parseDepthSnapshot } from './snapshot.js';
import { BinanceBookSync, type SnapshotRequest } from './sync.js';

export interface BinanceMdOptions {
  market: 'spot' | 'usdm';
  /** https://api.binance.com | https://fapi.binance.com | http://127.0.0.1:port (simulator) */
  restBaseUrl: string;
  /** wss://stream.binance.com:9443 | wss://fstream.binance.com | ws://127.0.0.1:port (simulator) */
  wsBaseUrl: string;
  instruments: Instrument[];
  state: BotState;
  /** subscribe <s>@bookTicker (default true) */
  bookTicker?: boolean;
  /** subscribe <s>@aggTrade (default true) */
  trades?: boolean;
  /** diff speed suffix (default '@100ms') */
  depthSpeed?: string;
  /** REST snapshot depth (default 1000) */
  snapshotLimit?: number;
  staleAfterMs?: number;
  deadAfterMs?: number;
  /** planned rotation before Binance's 24 h disconnect (default 23.5 h) */
  maxLifetimeMs?: number;
  hops?: HopRecorder;
  recorder?: FrameRecorder;
  /** initial book capacity per side */
  bookCapacity?: number;
  /** override the snapshot fetch (tests replaying captures); returns the raw body */
  fetchSnapshot?: (symbol: string, limit: number) => Promise<string>;
  backoffInitialMs?: number;
  backoffMaxMs?: number;
}

export class BinanceMd {
  readonly counters = new MdCounters();
  readonly rejected: RejectedFrames;
  readonly parser: BinanceParser;
  readonly symbols = new SymbolTable();
  readonly feeds: BookFeed[] = [];
  readonly syncs: BinanceBookSync[] = [];
  readonly conns: ManagedWs[] = [];
  private readonly futures: boolean;
  private readonly venue: number;
  private snapshotQueue: Promise<void> = Promise.resolve();
  private stopped = false;
  private readonly snapshotTimers = new Set<NodeJS.Timeout>();
  private recConn = -1;

  constructor(readonly opts: BinanceMdOptions) {
    this.rejected = new RejectedFrames(this.counters, this.opts.market);
    this.futures = opts.market === 'usdm';
    this.venue = VENUE_INDEX[this.futures ? 'binanceUsdm' : 'binanceSpot'];
    const px: number[] = [];
    const qty: number[] = [];
    for (const inst of opts.instruments) {
      const i = this.symbols.add(inst.symbol);
      px[i] = inst.priceDecimals;
      qty[i] = inst.qtyDecimals;
      const feed = new BookFeed(inst, opts.state, this.counters, opts.bookCapacity ?? 1024);
      feed.stampNs = !!opts.hops;
      this.feeds[i] = feed;
      this.syncs[i] = new BinanceBookSync(feed, this.futures, (r) => this.queueSnapshot(r));
    }
    this.parser = new BinanceParser(this.symbols, px, qty);
  }

  book(symbol: string): L2Book | undefined {
    const i = this.symbols.indexOf(symbol);
    return i >= 0 ? this.feeds[i]?.book : undefined;
  }

  sync(symbol: string): BinanceBookSync | undefined {
    const i = this.symbols.indexOf(symbol);
    return i >= 0 ? this.syncs[i] : undefined;
  }

  /** URLs of the connections this adapter opens. */
  urls(): { book: string; trades?: string } {
    const base = this.opts.wsBaseUrl.replace(/\/+$/, '');
    const names = this.symbols.names.map((s) => s.toLowerCase());
    const speed = this.opts.depthSpeed ?? '@100ms';
    const bookStreams: string[] = [];
    const tradeStreams: string[] = [];
    for (const s of names) {
      bookStreams.push(`${s}@depth${speed}`);
      if (this.opts.bookTicker !== false) bookStreams.push(`${s}@bookTicker`);
      if (this.opts.trades !== false) tradeStreams.push(`${s}@aggTrade`);
    }
    if (this.futures) {
      const out: { book: string; trades?: string } = { book: `${base}/public/stream?streams=${bookStreams.join('/')}` };
      if (tradeStreams.length > 0) out.trades = `${base}/market/stream?streams=${tradeStreams.join('/')}`;
      return out;
    }
    return { book: `${base}/stream?streams=${bookStreams.concat(tradeStreams).join('/')}` };
  }

  /** Open the connections; resolves when they are open (books sync asynchronously after that). */
  async start(): Promise<void> {
    const u = this.urls();
    const life = this.opts.maxLifetimeMs ?? 23.5 * 3600_000;
    const common = {
      onFrame: (d: Buffer, t: number) => this.onFrame(d, t),
      maxLifetimeMs: life,
      backoffInitialMs: this.opts.backoffInitialMs ?? 250,
      backoffMaxMs: this.opts.backoffMaxMs ?? 30_000,
    };
    const stale = this.opts.staleAfterMs ?? 5000;
    const bookConn = new ManagedWs({
      ...common,
      name: `${this.opts.market}-book`,
      url: u.book,
      staleAfterMs: stale,
      ...(this.opts.deadAfterMs !== undefined ? { deadAfterMs: this.opts.deadAfterMs } : {}),
      onOpen: (_c, reconnect) => {
        if (this.opts.recorder) this.recConn = this.opts.recorder.connect(`${this.opts.market}-book`, u.book, nowNs());
        if (reconnect) this.counters.reconnects++;
      },
      onDisconnect: () => {
        // the stream is broken: every book of this connection must resync from a new snapshot
        for (const s of this.syncs) s.reset(ResyncReason.Disconnect);
      },
      onStale: () => {
        for (const f of this.feeds) f.markStale();
      },
      onFresh: () => {
        for (const f of this.feeds) f.clearStale();
      },
    });
    this.conns.push(bookConn);
    const starts = [bookConn.start()];
    if (u.trades) {
      const tradeConn = new ManagedWs({ ...common, name: `${this.opts.market}-trades`, url: u.trades });
      this.conns.push(tradeConn);
      starts.push(tradeConn.start());
    }
    try {
      await Promise.all(starts);
    } catch (e) {
      await this.stop();
      throw e;
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const t of this.snapshotTimers) clearTimeout(t);
    this.snapshotTimers.clear();
    await Promise.all(this.conns.map((c) => c.close()));
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
      // a depth diff refused whole: the book has missed an update, so it resyncs from a snapshot (never skips it)
      const s = p.rejectedDepthSym();
      if (s >= 0) this.syncs[s]?.rejected();
      return;
    }
    const kind = p.kind;
    p.recvNs = recvNs;
    if (kind === BnMsg.Depth) {
      (this.syncs[p.sym] as BinanceBookSync).onDiff(p, buf);
    } else if (kind === BnMsg.BookTicker) {
      const f = this.feeds[p.sym] as BookFeed;
      f.seq = p.u;
      f.bidPx = p.bidPx;
      f.bidQty = p.bidQty;
      f.askPx = p.askPx;
      f.askQty = p.askQty;
      f.eventMs = p.E >= 0 ? p.E : 0;
      f.recvNs = recvNs;
      f.ticker();
    } else if (kind === BnMsg.Trade) {
      const f = this.feeds[p.sym] as BookFeed;
      f.tradePx = p.tradePx;
      f.tradeQty = p.tradeQty;
      f.tradeSide = p.tradeSide;
      f.tradeMs = p.T >= 0 ? p.T : p.E;
      f.recvNs = recvNs;
      f.trade();
    } else if (kind === BnMsg.Cold) {
      this.cold(buf);
      return;
    } else {
      c.ignored++;
      return;
    }
    if (hops) (this.feeds[p.sym] as BookFeed).recordHops(hops, this.venue, recvNs, tParsed, p.E);
    // the engine's event path runs after BotState and the hops are written (BookFeed.onTop)
    if (kind !== BnMsg.Trade) (this.feeds[p.sym] as BookFeed).flushTop();
  }

  /** Cold path: control responses and serverShutdown. */
  private cold(buf: Uint8Array): void {
    this.counters.cold++;
    let j: unknown;
    try {
      j = JSON.parse(Buffer.from(buf.buffer, buf.byteOffset, buf.length).toString('utf8'));
    } catch {
      this.counters.reject(2 /* Syntax */);
      return;
    }
    const o = j as { e?: unknown; data?: { e?: unknown }; error?: unknown; code?: unknown; msg?: unknown };
    const e = o.e ?? o.data?.e;
    if (e === 'serverShutdown') {
      log().warn({ venue: this.opts.market }, 'binance serverShutdown: rotating connections');
      for (const c of this.conns) c.rotate();
    } else if (o.error !== undefined || o.code !== undefined) {
      log().warn({ venue: this.opts.market, response: o }, 'binance stream control error');
    }
  }

  private queueSnapshot(req: SnapshotRequest): void {
    if (this.stopped) return;
    this.snapshotQueue = this.snapshotQueue.then(() => this.fetchSnapshot(req, 0));
  }

  private async fetchSnapshot(req: SnapshotRequest, attempt: number): Promise<void> {
    if (this.stopped) return;
    const i = this.symbols.indexOf(req.symbol);
    const sync = this.syncs[i];
    if (!sync || sync.epoch !== req.epoch) return;
    const limit = this.opts.snapshotLimit ?? 1000;
    const inst = (this.feeds[i] as BookFeed).inst;
    let retryAfterMs = 0;
    try {
      let body: string;
      if (this.opts.fetchSnapshot) body = await this.opts.fetchSnapshot(req.symbol, limit);
      else {
        const path = this.futures ? '/fapi/v1/depth' : '/api/v3/depth';
        const url = `${this.opts.restBaseUrl.replace(/\/+$/, '')}${path}?symbol=${req.symbol}&limit=${limit}`;
        const res = await request(url, { method: 'GET', headersTimeout: 10_000, bodyTimeout: 10_000 });
        body = await res.body.text();
        if (res.statusCode !== 200) {
          const ra = Number(res.headers['retry-after']);
          if (Number.isFinite(ra) && ra > 0) retryAfterMs = ra * 1000;
          throw new Error(`HTTP ${res.statusCode}: ${body.slice(0, 200)}`);
        }
        this.opts.recorder?.http('rest', url, body, nowNs());
      }
      if (this.stopped) return;
      const snap = parseDepthSnapshot(body, inst.priceDecimals, inst.qtyDecimals);
      sync.onSnapshot(req.epoch, snap.lastUpdateId, snap.bids, snap.asks, snap.eventMs >= 0 ? snap.eventMs : 0, nowNs(), this.parser);
      this.feeds[i]?.flushTop();
    } catch (err) {
      if (this.stopped) return;
      const d = Math.max(retryAfterMs, backoffMs(attempt, 500, 30_000));
      // counted and logged (rate-limited, with the last error and wait) by the Degradations reporter
      this.counters.snapshotFailures++;
      this.counters.lastSnapshotError = `${req.symbol}: ${(err as Error).message}`;
      this.counters.lastSnapshotRetryMs = d;
      await new Promise<void>((resolve) => {
        const t = setTimeout(() => {
          this.snapshotTimers.delete(t);
          resolve();
        }, d);
        this.snapshotTimers.add(t);
      });
      return this.fetchSnapshot(req, attempt + 1);
    }
  }

  /** Test hook / replay: deliver a snapshot body for a symbol's current sync attempt. */
  deliverSnapshot(symbol: string, body: string, recvNs = nowNs()): void {
    const i = this.symbols.indexOf(symbol);
    const sync = this.syncs[i];
    const feed = this.feeds[i];
    if (!sync || !feed) return;
    const snap = parseDepthSnapshot(body, feed.inst.priceDecimals, feed.inst.qtyDecimals);
    sync.onSnapshot(sync.epoch, snap.lastUpdateId, snap.bids, snap.asks, snap.eventMs >= 0 ? snap.eventMs : 0, recvNs, this.parser);
    feed.flushTop();
  }
}
