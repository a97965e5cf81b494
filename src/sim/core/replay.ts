/**
 * Replay of recorded market data into the books' synthetic liquidity.
 *
 * Input: capture files in the cryptofeed "format 2" NDJSON (see ../shared/exchange/fixtures/README.md) — the real
 * captures and the engine's own recordings: `header`, `connect` {conn, addr}, `send`/`recv` {conn, ts, data} and
 * `http` {conn, ts, url, data}, where `data` is the raw frame text (parsed a second time here).
 *
 * What is used:
 *  - Binance: REST depth snapshots (`/api/v3/depth`, `/fapi/v1/depth`) and `depthUpdate` diffs (`b`/`a`), synced
 *    as the exchange documents (diffs before a symbol's snapshot and diffs with u <= lastUpdateId are skipped).
 *  - Bybit v5: `orderbook.{depth}.{symbol}` snapshot (resets the book) and delta frames.
 *  - Trades (Binance `aggTrade`, Bybit `publicTrade`) become public trades of the book (`publishTrade`: no level
 *    change, no fills), once the symbol's book is synced.
 *  - The market of a frame comes from its connection's URL (stream.binance.com / fstream.binance.com /
 *    /v5/public/spot|linear) or the REST URL; the header's `exchange` is the fallback.
 * Each recorded snapshot or diff becomes ONE book batch (one onLevels, updateId + 1); venues re-emit it in their own
 * protocol.
 *
 * Order: events play in the order of their line's recorded receive time (`ts`), stable for equal times. A capture that
 * holds several connections may store them one after the other (the Bybit fixture has all its linear lines before its
 * spot lines), so `parseCapture` sorts them; several captures given together are merged by the `Replayer` (k-way, one
 * cursor per capture). Levels with quantity 0 are applied first so a frame never crosses the book transiently.
 *
 * Instruments: tick and step sizes come from the largest number of significant decimals in the recorded price and
 * quantity strings of each symbol; the initial price is the first snapshot's mid.
 */
import { readFileSync } from 'node:fs';
import { decimalsOfStep, parseScaled } from '../../util/fixed.js';
import type { MatchingBook } from './book.js';
import { instrumentFromRecorded } from './instruments.js';
import type { SimInstrument, SimMarketId } from './types.js';

export type RecordedLevels = Array<[string, string]>;

export interface ReplayEvent {
  /** trade: bids/asks empty; `trade` holds it */
  kind: 'snapshot' | 'diff' | 'trade';
  market: SimMarketId;
  symbol: string;
  /** the book batch's time, epoch ms: the recorded receive time, or a trade's own time (`T`) */
  tsMs: number;
  /** the line's recorded receive time, epoch ms: the replay order and pace */
  recvMs: number;
  bids: RecordedLevels;
  asks: RecordedLevels;
  /** Binance: lastUpdateId of a snapshot, U/u of a diff; Bybit: u */
  firstId?: number;
  lastId?: number;
  trade?: { takerSide: 'BUY' | 'SELL'; price: string; qty: string };
}

export interface ReplaySource {
  file: string;
  events: ReplayEvent[];
  /** instruments derived from the recorded strings, per market */
  instruments: SimInstrument[];
  /** lines that could not be parsed (counted, not fatal) */
  badLines: number;
  /** the recording session of the header (`tickwire run --record`: one per run, shared by its rotated files) */
  session?: string;
}

function marketOfUrl(url: string, exchange: string): SimMarketId | undefined {
  if (/fstream|fapi\.|\/fapi\/|\/ws-fapi/.test(url)) return 'binanceUsdm';
  if (/\/v5\/public\/linear/.test(url)) return 'bybitLinear';
  if (/\/v5\/public\/spot/.test(url)) return 'bybitSpot';
  if (/binance/.test(url) || /\/api\/v3\//.test(url)) return 'binanceSpot';
  return marketOfExchange(exchange);
}

function marketOfExchange(exchange: string): SimMarketId | undefined {
  const e = exchange.toUpperCase();
  if (e === 'BINANCE' || e === 'BINANCESPOT' || e === 'BINANCE_SPOT') return 'binanceSpot';
  if (e === 'BINANCE_FUTURES' || e === 'BINANCEUSDM' || e === 'BINANCE_USDM') return 'binanceUsdm';
  if (e === 'BYBITLINEAR' || e === 'BYBIT_LINEAR') return 'bybitLinear';
  if (e === 'BYBITSPOT' || e === 'BYBIT_SPOT') return 'bybitSpot';
  return undefined;
}

function isLevels(x: unknown): x is RecordedLevels {
  return Array.isArray(x) && x.every((l) => Array.isArray(l) && typeof l[0] === 'string' && typeof l[1] === 'string');
}

/** Parse a capture file's text into replay events, ordered by recorded receive time (file order for equal times). */
export function parseCapture(text: string, file = '<memory>'): ReplaySource {
  const events: ReplayEvent[] = [];
  const connMarket = new Map<string, SimMarketId>();
  let exchange = '';
  let session: string | undefined;
  let badLines = 0;
  for (const line of text.split('\n')) {
    if (line.trim().length === 0) continue;
    let o: { t?: string; conn?: string; addr?: string; url?: string; ts?: number; data?: string; exchange?: string; session?: unknown };
    try {
      o = JSON.parse(line) as typeof o;
    } catch {
      badLines++;
      continue;
    }
    const tsMs = Math.round((o.ts ?? 0) * 1000);
    if (o.t === 'header') {
      exchange = String(o.exchange ?? '');
      if (typeof o.session === 'string') session = o.session;
    } else if (o.t === 'connect' && o.conn && o.addr) {
      const m = marketOfUrl(o.addr, exchange);
      if (m) connMarket.set(o.conn, m);
    } else if (o.t === 'http' && o.url && typeof o.data === 'string') {
      if (!/\/depth\?/.test(o.url)) continue;
      const m = marketOfUrl(o.url, exchange);
      const sym = /[?&]symbol=([A-Za-z0-9_-]+)/.exec(o.url)?.[1]?.toUpperCase();
      if (!m || !sym) continue;
      try {
        const d = JSON.parse(o.data) as { lastUpdateId?: number; bids?: unknown; asks?: unknown };
        if (typeof d.lastUpdateId !== 'number' || !isLevels(d.bids) || !isLevels(d.asks)) continue;
        events.push({ kind: 'snapshot', market: m, symbol: sym, tsMs, recvMs: tsMs, bids: d.bids, asks: d.asks, lastId: d.lastUpdateId });
      } catch {
        badLines++;
      }
    } else if (o.t === 'recv' && typeof o.data === 'string') {
      if (o.data.indexOf('depthUpdate') < 0 && o.data.indexOf('orderbook.') < 0 && o.data.indexOf('aggTrade') < 0 && o.data.indexOf('publicTrade.') < 0)
        continue;
      let d: Record<string, unknown>;
      try {
        d = JSON.parse(o.data) as Record<string, unknown>;
      } catch {
        badLines++;
        continue;
      }
      const m = (o.conn ? connMarket.get(o.conn) : undefined) ?? marketOfExchange(exchange);
      if (!m) continue;
      // Binance (combined stream wrapper or raw)
      const inner = (d['data'] !== undefined && typeof d['stream'] === 'string' ? d['data'] : d) as Record<string, unknown>;
      if (inner['e'] === 'depthUpdate' && typeof inner['s'] === 'string' && isLevels(inner['b']) && isLevels(inner['a'])) {
        events.push({
          kind: 'diff',
          market: m,
          symbol: inner['s'].toUpperCase(),
          tsMs,
          recvMs: tsMs,
          bids: inner['b'],
          asks: inner['a'],
          firstId: Number(inner['U']),
          lastId: Number(inner['u']),
        });
        continue;
      }
      // Binance aggTrade: m = buyer is the maker, so the taker sold
      if (inner['e'] === 'aggTrade' && typeof inner['s'] === 'string' && typeof inner['p'] === 'string' && typeof inner['q'] === 'string') {
        events.push({
          kind: 'trade',
          market: m,
          symbol: inner['s'].toUpperCase(),
          tsMs: typeof inner['T'] === 'number' ? inner['T'] : tsMs,
          recvMs: tsMs,
          bids: [],
          asks: [],
          trade: { takerSide: inner['m'] === true ? 'SELL' : 'BUY', price: inner['p'], qty: inner['q'] },
        });
        continue;
      }
      // Bybit v5
      const topic = d['topic'];
      if (typeof topic === 'string' && topic.startsWith('publicTrade.') && Array.isArray(d['data'])) {
        for (const t of d['data'] as Array<Record<string, unknown>>) {
          if (typeof t['s'] !== 'string' || typeof t['p'] !== 'string' || typeof t['v'] !== 'string') continue;
          events.push({
            kind: 'trade',
            market: m,
            symbol: t['s'].toUpperCase(),
            tsMs: typeof t['T'] === 'number' ? t['T'] : tsMs,
            recvMs: tsMs,
            bids: [],
            asks: [],
            trade: { takerSide: t['S'] === 'Sell' ? 'SELL' : 'BUY', price: t['p'], qty: t['v'] },
          });
        }
        continue;
      }
      if (typeof topic === 'string' && topic.startsWith('orderbook.')) {
        const data = d['data'] as Record<string, unknown> | undefined;
        if (!data || typeof data['s'] !== 'string' || !isLevels(data['b']) || !isLevels(data['a'])) continue;
        const type = d['type'];
        if (type !== 'snapshot' && type !== 'delta') continue;
        const ev: ReplayEvent = {
          kind: type === 'snapshot' ? 'snapshot' : 'diff',
          market: m,
          symbol: data['s'].toUpperCase(),
          tsMs,
          recvMs: tsMs,
          bids: data['b'],
          asks: data['a'],
        };
        if (typeof data['u'] === 'number') ev.lastId = data['u'];
        events.push(ev);
      }
    }
  }
  events.sort((a, b) => a.recvMs - b.recvMs); // stable: equal times keep file order
  return { file, events, instruments: deriveInstruments(events), badLines, ...(session !== undefined ? { session } : {}) };
}

/** Read and parse a capture file. */
export function loadCapture(file: string): ReplaySource {
  return parseCapture(readFileSync(file, 'utf8'), file);
}

function deriveInstruments(events: ReplayEvent[]): SimInstrument[] {
  const acc = new Map<string, { market: SimMarketId; symbol: string; pd: number; qd: number; mid: string | undefined }>();
  for (const ev of events) {
    const k = `${ev.market}:${ev.symbol}`;
    let a = acc.get(k);
    if (!a) acc.set(k, (a = { market: ev.market, symbol: ev.symbol, pd: 0, qd: 0, mid: undefined }));
    if (ev.trade) {
      a.pd = Math.max(a.pd, decimalsOfStep(ev.trade.price));
      a.qd = Math.max(a.qd, decimalsOfStep(ev.trade.qty));
    }
    for (const side of [ev.bids, ev.asks]) {
      for (const [p, q] of side) {
        const pd = decimalsOfStep(p);
        const qd = decimalsOfStep(q);
        if (pd > a.pd) a.pd = pd;
        if (qd > a.qd) a.qd = qd;
      }
    }
    if (a.mid === undefined && ev.kind === 'snapshot' && ev.bids[0] && ev.asks[0]) a.mid = ev.bids[0][0];
  }
  const out: SimInstrument[] = [];
  for (const a of acc.values()) {
    let initial = a.mid;
    if (initial === undefined) {
      const first = events.find((e) => e.market === a.market && e.symbol === a.symbol && (e.bids.length > 0 || e.asks.length > 0));
      initial = first?.bids[0]?.[0] ?? first?.asks[0]?.[0] ?? '1';
    }
    out.push(instrumentFromRecorded(a.market, a.symbol, a.pd, a.qd, initial));
  }
  return out;
}

export interface ReplayOptions {
  /** books by market then symbol; events for symbols without a book are skipped */
  books: Map<SimMarketId, Map<string, MatchingBook>>;
  /** 1 = recorded pace, 10 = ten times faster, 0 = as fast as possible (default 1) */
  speed?: number;
  /** start again from the first event at the end (default false) */
  loop?: boolean;
  /** batch time: recorded time (default) or the book's clock */
  useRecordedTime?: boolean;
  onEnd?: () => void;
}

/**
 * Offsets (ms) that put several captures on one timeline: captures whose recorded spans overlap, or whose headers
 * name the same recording session, were recorded together and keep their absolute times; each group of overlapping captures is moved to start with the earliest one, so
 * captures of different days still play side by side from their starts (as they did with one replayer each).
 */
export function timelineOffsets(sources: readonly ReplaySource[]): number[] {
  const own = sources.map((s) => ({ start: s.events[0]?.recvMs ?? 0, end: s.events[s.events.length - 1]?.recvMs ?? 0 }));
  // the files of one recording session (rotated parts, one file per venue) were recorded together: one span
  const sessions = new Map<string, { start: number; end: number }>();
  sources.forEach((s, i) => {
    if (s.session === undefined || s.events.length === 0) return;
    const sp = sessions.get(s.session);
    const o = own[i]!;
    if (!sp) sessions.set(s.session, { ...o });
    else {
      sp.start = Math.min(sp.start, o.start);
      sp.end = Math.max(sp.end, o.end);
    }
  });
  const spans = sources.map((s, i) => ({ i, ...((s.session !== undefined ? sessions.get(s.session) : undefined) ?? own[i]!) }));
  const offsets = sources.map(() => 0);
  const sorted = spans.filter((x) => sources[x.i]!.events.length > 0).sort((a, b) => a.start - b.start || a.i - b.i);
  const base = sorted[0]?.start ?? 0;
  let groupStart = base;
  let groupEnd = -Infinity;
  for (const x of sorted) {
    if (x.start > groupEnd) groupStart = x.start; // a new group: no overlap with the ones before
    groupEnd = Math.max(groupEnd, x.end);
    offsets[x.i] = groupStart - base;
  }
  return offsets;
}

/**
 * Applies the events of one or more sources to books, one batch per event, honouring Binance's snapshot/diff sync
 * rules. Several sources are merged by recorded receive time (k-way over one cursor per source, ties go to the
 * source given first), on the timeline of `timelineOffsets`.
 */
export class Replayer {
  readonly sources: readonly ReplaySource[];
  /** next event per source */
  private readonly pos: number[];
  private readonly offsets: number[];
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  /** Binance: lastUpdateId of the snapshot per source and book; diffs with u <= it are stale */
  private readonly synced = new Map<string, number>();
  applied = 0;
  skipped = 0;
  private wallStart = 0;
  private recStart = 0;

  constructor(
    source: ReplaySource | readonly ReplaySource[],
    private readonly opts: ReplayOptions,
  ) {
    this.sources = Array.isArray(source) ? source : [source as ReplaySource];
    this.pos = this.sources.map(() => 0);
    this.offsets = timelineOffsets(this.sources);
  }

  /** the capture files, in the order given */
  get files(): string[] {
    return this.sources.map((s) => s.file);
  }

  get done(): boolean {
    return this.nextSource() < 0;
  }

  /** Index of the source whose next event is the earliest on the merged timeline (-1: none left). */
  private nextSource(): number {
    let best = -1;
    let bestKey = Infinity;
    for (let k = 0; k < this.sources.length; k++) {
      const ev = this.sources[k]!.events[this.pos[k]!];
      if (!ev) continue;
      const key = ev.recvMs - this.offsets[k]!;
      if (key < bestKey) {
        best = k;
        bestKey = key;
      }
    }
    return best;
  }

  /** Merged-timeline time of the next event (undefined: none left). */
  private nextKey(): number | undefined {
    const k = this.nextSource();
    return k < 0 ? undefined : this.sources[k]!.events[this.pos[k]!]!.recvMs - this.offsets[k]!;
  }

  /** The event `applyNext` applies next (undefined: none left). */
  peek(): ReplayEvent | undefined {
    const k = this.nextSource();
    return k < 0 ? undefined : this.sources[k]!.events[this.pos[k]!];
  }

  /** Apply the next event in merged recorded-time order; returns false when there is none left. */
  applyNext(): boolean {
    const k = this.nextSource();
    if (k < 0) return false;
    const ev = this.sources[k]!.events[this.pos[k]!]!;
    this.pos[k]!++;
    if (this.applyFrom(k, ev)) this.applied++;
    else this.skipped++;
    return true;
  }

  /** Apply every remaining event synchronously. */
  applyAll(): void {
    while (this.applyNext()) {
      /* next */
    }
  }

  /** Apply one event to its book; false if it was skipped (no book, not synced yet, stale). */
  apply(ev: ReplayEvent): boolean {
    return this.applyFrom(0, ev);
  }

  private applyFrom(src: number, ev: ReplayEvent): boolean {
    const book = this.opts.books.get(ev.market)?.get(ev.symbol);
    if (!book) return false;
    const key = `${src}:${ev.market}:${ev.symbol}`;
    if (ev.kind === 'trade') {
      if (!this.synced.has(key) || !ev.trade) return false; // trades before the book is synced are skipped
      const ins = book.instrument;
      const price = parseScaled(ev.trade.price, ins.priceDecimals);
      const qty = parseScaled(ev.trade.qty, ins.qtyDecimals);
      if (!(price > 0) || !(qty > 0)) return false;
      book.publishTrade(ev.trade.takerSide, price, qty, this.opts.useRecordedTime === false ? undefined : ev.tsMs);
      return true;
    }
    const binance = ev.market === 'binanceSpot' || ev.market === 'binanceUsdm';
    if (ev.kind === 'diff') {
      if (binance) {
        const snap = this.synced.get(key);
        if (snap === undefined) return false; // before the snapshot
        if (ev.lastId !== undefined && ev.lastId <= snap) return false; // older than the snapshot
      } else if (!this.synced.has(key)) return false; // Bybit: a delta before the first snapshot
    }
    const ins = book.instrument;
    book.beginBatch(this.opts.useRecordedTime === false ? undefined : ev.tsMs);
    if (ev.kind === 'snapshot') {
      book.clearSynthetic();
      this.synced.set(key, ev.lastId ?? 0);
    }
    // removals first, then sizes: a frame never crosses the book half-way
    for (let pass = 0; pass < 2; pass++) {
      for (const [levels, side] of [
        [ev.bids, 'BUY'],
        [ev.asks, 'SELL'],
      ] as const) {
        for (const [p, q] of levels) {
          const qty = parseScaled(q, ins.qtyDecimals);
          if ((qty === 0) !== (pass === 0)) continue;
          const price = parseScaled(p, ins.priceDecimals);
          if (!(price > 0) || !(qty >= 0)) continue;
          book.setSynthetic(side, price, qty, true);
        }
      }
    }
    book.endBatch();
    return true;
  }

  /** Play in (scaled) recorded time: the merged timeline's gaps, divided by `speed` (0: as fast as possible). */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.wallStart = performance.now();
    this.recStart = this.nextKey() ?? 0;
    this.tick();
  }

  stop(): void {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private readonly tick = (): void => {
    this.timer = undefined;
    if (!this.running) return;
    const speed = this.opts.speed ?? 1;
    const elapsedRec = speed > 0 ? (performance.now() - this.wallStart) * speed : Infinity;
    let n = 0;
    while (this.running && n < 5000) {
      const key = this.nextKey();
      if (key === undefined) {
        if (this.opts.loop && this.sources.some((s) => s.events.length > 0)) {
          this.pos.fill(0);
          this.synced.clear();
          this.wallStart = performance.now();
          this.recStart = this.nextKey() ?? 0;
          break;
        }
        this.running = false;
        this.opts.onEnd?.();
        return;
      }
      if (key - this.recStart > elapsedRec) break;
      this.applyNext();
      n++;
    }
    const next = this.nextKey();
    const wait =
      next !== undefined && speed > 0 ? Math.max(1, Math.min(1000, (next - this.recStart - (performance.now() - this.wallStart) * speed) / speed)) : 1;
    this.timer = setTimeout(this.tick, n >= 5000 ? 0 : wait);
  };
}
