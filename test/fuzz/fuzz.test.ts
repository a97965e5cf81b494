/**
 * Fuzz: mutated frames (test/fuzz/mutate.ts, seeded) from the real captures in ../shared/exchange/fixtures and from
 * the simulator's frames (bench/benchframes.ts, src/sim formatters' shapes) through every market-data and
 * private-stream parser, against the strict reference (test/fuzz/ref.ts). Asserted: no exception escapes; every
 * frame a parser accepts carries exactly the reference's values (a parser may refuse more than the reference, never
 * accept more); a book fed only accepted diffs never holds an invalid level while it would be VALID (positive prices,
 * positive sizes, sorted, not crossed), and the adapters' VALID books neither. Bounded by count, not time.
 *
 * Default 100,000 frames per venue (Binance, Bybit) with seed 1; `npm run fuzz` runs it with FUZZ_FRAMES (e.g.
 * 1000000) and FUZZ_SEED.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ASK, BID, L2Book } from '../../src/book/l2book.js';
import { BotState, FLAG_VALID } from '../../src/model/botstate.js';
import type { VenueId } from '../../src/model/types.js';
import { BinanceMd } from '../../src/exchange/binance/md/adapter.js';
import { BinanceParser, BnMsg } from '../../src/exchange/binance/md/parser.js';
import { BinanceFastUserParser } from '../../src/exchange/binance/trade/fastparse.js';
import { parseUserFrame } from '../../src/exchange/binance/trade/parse.js';
import { BybitMd } from '../../src/exchange/bybit/md/adapter.js';
import { BbMsg, BybitParser } from '../../src/exchange/bybit/md/parser.js';
import { BybitFastParser } from '../../src/exchange/bybit/trade/fastparse.js';
import { parsePrivateFrame } from '../../src/exchange/bybit/trade/parse.js';
import { SymbolTable } from '../../src/md/common.js';
import { DRIVERS } from '../../bench/benchframes.js';
import { Reason } from '../../src/codec/scan.js';
import { scaleTable } from '../../src/codec/scale.js';
import { blankOrderEvent, type OrderEvent } from '../../src/model/orders.js';
import { FIXTURES, decimalsFromCapture, loadCapture, makeInstrument } from '../md/helpers.js';
import { mutate, prng } from './mutate.js';
import { refBinanceMd, refBinanceUser, refBybitMd, refBybitPrivate, type EvRef, type Levels, type Sym } from './ref.js';

const FRAMES = Number(process.env['FUZZ_FRAMES'] ?? 100_000);
const SEED = Number(process.env['FUZZ_SEED'] ?? 1);
const latin1 = (t: string) => Buffer.from(t, 'latin1');

/** failures of one kind: a count and the first few frames */
class Failures {
  n = 0;
  readonly samples: string[] = [];
  add(what: string, frame: string): void {
    this.n++;
    if (this.samples.length < 5) this.samples.push(`${what}: ${frame.slice(0, 400)}`);
  }
}

function levelsOf(l: { px: Float64Array; qty: Float64Array; n: number }): Levels {
  return { px: Array.from(l.px.subarray(0, l.n)), qty: Array.from(l.qty.subarray(0, l.n)) };
}

/** positive prices, positive sizes, strictly sorted best first, not crossed */
function bookProblem(b: L2Book): string {
  const bids = b.levels(BID);
  const asks = b.levels(ASK);
  for (const side of [bids, asks])
    for (const [px, q] of side) if (!(px > 0) || !(q > 0) || !Number.isSafeInteger(px) || !Number.isSafeInteger(q)) return `bad level ${px} ${q}`;
  for (let i = 1; i < bids.length; i++) if (!(bids[i]![0] < bids[i - 1]![0])) return 'bids not sorted';
  for (let i = 1; i < asks.length; i++) if (!(asks[i]![0] > asks[i - 1]![0])) return 'asks not sorted';
  if (bids.length > 0 && asks.length > 0 && !(bids[0]![0] < asks[0]![0])) return 'crossed';
  return '';
}

/** apply accepted levels to a book; a crossed result is a resync (cleared), else the book must be valid */
function applyChecked(book: L2Book, bids: Levels, asks: Levels, fail: Failures, frame: string): void {
  book.applySide(BID, Float64Array.from(bids.px), Float64Array.from(bids.qty), bids.px.length);
  book.applySide(ASK, Float64Array.from(asks.px), Float64Array.from(asks.qty), asks.px.length);
  if (book.crossed()) {
    book.clear();
    return;
  }
  const p = bookProblem(book);
  if (p !== '') fail.add(p, frame);
}

// ---- corpora --------------------------------------------------------------------------------------------------

interface MdCorpus {
  frames: string[];
  syms: Sym[];
}

function captureCorpus(rel: string, pick: (j: Record<string, unknown>) => boolean): MdCorpus {
  const lines = loadCapture(rel);
  const dec = decimalsFromCapture(lines);
  const frames: string[] = [];
  for (const l of lines) {
    if (l.t !== 'recv' || !l.data) continue;
    let j: Record<string, unknown>;
    try {
      j = JSON.parse(l.data) as Record<string, unknown>;
    } catch {
      continue;
    }
    if (pick(j)) frames.push(Buffer.from(l.data, 'utf8').toString('latin1'));
  }
  const syms = [...dec].map(([name, d]) => ({ name, pd: d.px, qd: d.qty }));
  return { frames, syms };
}

function binanceCorpora(): MdCorpus[] {
  const hot = (j: Record<string, unknown>) => typeof j['stream'] === 'string';
  const sim = { frames: [DRIVERS[0]!().text, DRIVERS[1]!().text], syms: [{ name: 'BTCUSDT', pd: 2, qd: 8 }] };
  return [
    captureCorpus('binance/spot_capture_2021-10-12_cryptofeed.ndjson', hot),
    captureCorpus('binance/usdm_capture_2021-07-22_cryptofeed.ndjson', hot),
    sim,
  ];
}

function bybitCorpora(): MdCorpus[] {
  const cap = captureCorpus('bybit/v5_public_capture_2026-08_cryptofeed.ndjson', (j) => typeof j['topic'] === 'string');
  const sim = {
    frames: [
      DRIVERS[2]!().text,
      `{"topic":"publicTrade.BTCUSDT","type":"snapshot","ts":1,"data":[{"T":1,"s":"BTCUSDT","S":"Buy","v":"0.001","p":"97000.10","L":"PlusTick","i":"x","BT":false}]}`,
    ],
    syms: [{ name: 'BTCUSDT', pd: 2, qd: 3 }],
  };
  return [cap, sim];
}

const fx = (p: string): string => readFileSync(path.join(FIXTURES, p)).toString('latin1');

const SCALE = scaleTable([
  { venue: 'binanceSpot', symbol: 'ETHUSDT', priceDecimals: 2, qtyDecimals: 4 },
  { venue: 'binanceSpot', symbol: 'BTCUSDT', priceDecimals: 2, qtyDecimals: 5 },
  { venue: 'binanceUsdm', symbol: 'BTCUSDT', priceDecimals: 2, qtyDecimals: 3 },
  { venue: 'binanceUsdm', symbol: 'ETHUSDT', priceDecimals: 2, qtyDecimals: 3 },
  { venue: 'bybitLinear', symbol: 'BTCUSDT', priceDecimals: 1, qtyDecimals: 3 },
  { venue: 'bybitSpot', symbol: 'BTCUSDT', priceDecimals: 2, qtyDecimals: 6 },
]);

function binanceUserCorpus(): Array<{ frame: string; venue: VenueId }> {
  const er =
    '{"e":"executionReport","E":1795318841606,"s":"BTCUSDT","c":"twm-1","S":"BUY","o":"LIMIT","f":"GTC","q":"0.06000","p":"97000.03","P":"0.00","F":"0.00000","g":-1,"C":"","x":"TRADE","X":"PARTIALLY_FILLED","r":"NONE","i":1000007,"l":"0.02068","z":"0.02068","L":"97000.03","n":"0.00","N":"BTC","T":1795318841606,"t":58,"I":12,"w":true,"m":false,"M":false,"O":1795318841600,"Z":"2005.96062","Y":"2005.96062","Q":"0.00","W":1795318841600,"V":"NONE"}';
  const otu =
    '{"e":"ORDER_TRADE_UPDATE","T":1795318841606,"E":1795318841607,"o":{"s":"BTCUSDT","c":"twm-2","S":"SELL","o":"LIMIT","f":"GTC","q":"0.010","p":"97000.10","ap":"97000.10","sp":"0","x":"TRADE","X":"FILLED","i":8389765739703625592,"l":"0.010","z":"0.010","L":"97000.10","N":"USDT","n":"0.0097","T":1795318841606,"t":77,"b":"0","a":"0","m":true,"R":false,"wt":"CONTRACT_PRICE","ot":"LIMIT","ps":"BOTH","cp":false,"AP":"0","cr":"0","pP":false,"si":0,"ss":0,"rp":"0","V":"EXPIRE_MAKER","pm":"NONE","gtd":0}}';
  return [
    { frame: fx('binance/docs_spot_execution_report_new.json'), venue: 'binanceSpot' },
    { frame: fx('binance/docs_spot_execution_report_trade.json'), venue: 'binanceSpot' },
    { frame: fx('binance/docs_spot_execution_report_canceled.json'), venue: 'binanceSpot' },
    { frame: fx('binance/docs_spot_execution_report_wrapped.json'), venue: 'binanceSpot' },
    { frame: fx('binance/docs_usdm_order_trade_update_new.json'), venue: 'binanceUsdm' },
    { frame: fx('binance/docs_usdm_order_trade_update_trade_partial.json'), venue: 'binanceUsdm' },
    { frame: fx('binance/live_usdm_trade_lite.json'), venue: 'binanceUsdm' },
    { frame: `{"subscriptionId":0,"event":${er}}`, venue: 'binanceSpot' },
    { frame: er.replace('"x":"TRADE"', '"x":"REPLACED"'), venue: 'binanceSpot' },
    { frame: er.replace('"x":"TRADE"', '"x":"REJECTED"').replace('"r":"NONE"', '"r":"INSUFFICIENT_BALANCE"'), venue: 'binanceSpot' },
    { frame: er.replace('"x":"TRADE"', '"x":"CANCELED"').replace('"C":""', '"C":"twm-0"'), venue: 'binanceSpot' },
    { frame: `{"stream":"k","data":${otu}}`, venue: 'binanceUsdm' },
    { frame: otu.replace('"x":"TRADE"', '"x":"AMENDMENT"'), venue: 'binanceUsdm' },
  ];
}

function bybitPrivateCorpus(): string[] {
  const item = (cat: string, id: string, leaves: string) =>
    `{"category":"${cat}","symbol":"BTCUSDT","closedSize":"","execFee":"0.01","execId":"${id}","execPrice":"97000.1","execQty":"0.002","execType":"Trade","execValue":"194.0002","leavesQty":"${leaves}","orderId":"1234567890123456789","orderLinkId":"twm-${id}","side":"Buy","execTime":"1795318841606","isLeverage":"0","isMaker":true,"seq":1,"extraFees":[],"feeCurrency":"USDT"}`;
  const order =
    '{"category":"linear","symbol":"BTCUSDT","orderId":"5cf98598","side":"Sell","orderType":"Limit","price":"97000.1","qty":"0.002","timeInForce":"GTC","orderStatus":"PartiallyFilled","orderLinkId":"twm-9","leavesQty":"0.001","cumExecQty":"0.001","avgPrice":"97000.1","createdTime":"1672364262444","updatedTime":"1672364262457","rejectReason":"EC_NoError","feeCurrency":""}';
  return [
    fx('bybit/docs_private_execution_message.json'),
    fx('bybit/docs_private_order_message.json'),
    fx('bybit/docs_private_order_message.json').replace('"category": "option"', '"category": "linear"').replace('ETH-30DEC22-1400-C', 'BTCUSDT'),
    `{"topic":"execution","id":"1","creationTime":1,"data":[${item('linear', 'a', '0.001')},${item('spot', 'b', '0')}]}`,
    `{"topic":"execution.fast","creationTime":1,"data":[{"category":"linear","symbol":"BTCUSDT","orderId":"1","isMaker":false,"orderLinkId":"twm-f","execId":"f1","execPrice":"97000.1","execQty":"0.001","side":"Buy","execTime":"1795318841606","seq":2}]}`,
    `{"topic":"order","id":"2","creationTime":1,"data":[${order}]}`,
  ];
}

// ---- comparison -------------------------------------------------------------------------------------------------

function evOf(e: OrderEvent): EvRef {
  return {
    venue: e.venue,
    symbol: e.symbol,
    kind: e.kind,
    clientOrderId: e.clientOrderId,
    exchangeOrderId: e.exchangeOrderId,
    state: e.state,
    tradeId: e.tradeId,
    fillPrice: e.fillPrice,
    fillQty: e.fillQty,
    cumQty: e.cumQty,
    fee: e.fee,
    feeAsset: e.feeAsset,
    maker: e.maker,
    orderPrice: e.orderPrice,
    orderQty: e.orderQty,
    reason: e.reason,
    exchTimeMs: e.exchTimeMs,
  };
}

const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b) && sameNumbers(a, b);
/** JSON.stringify hides NaN (null) and -0 (0): compare numbers with Object.is too */
function sameNumbers(a: unknown, b: unknown): boolean {
  if (typeof a === 'number' || typeof b === 'number') return Object.is(a, b);
  if (a && b && typeof a === 'object' && typeof b === 'object') {
    for (const k of Object.keys(a)) if (!sameNumbers((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k])) return false;
  }
  return true;
}

interface Stats {
  frames: number;
  accepted: number;
  refAccepted: number;
  /** the reference accepts, the parser refuses (allowed; reported) */
  overRejected: number;
}

function report(name: string, s: Stats, fails: Record<string, Failures>): string {
  const parts = Object.entries(fails).map(([k, f]) => `${k}=${f.n}`);
  return `${name}: ${s.frames} frames, accepted ${s.accepted}, reference accepts ${s.refAccepted}, refused beyond the reference ${s.overRejected}; ${parts.join(' ')}`;
}

function expectClean(fails: Record<string, Failures>): void {
  for (const [k, f] of Object.entries(fails)) expect(f.samples, `${k}: ${f.n}`).toEqual([]);
}

// ---- market data ------------------------------------------------------------------------------------------------

function fuzzBinanceMd(n: number, seed: number): { stats: Stats; fails: Record<string, Failures> } {
  const r = prng(seed);
  const fails = { exception: new Failures(), mismatch: new Failures(), book: new Failures(), adapterBook: new Failures(), unmutatedRefused: new Failures() };
  const stats: Stats = { frames: 0, accepted: 0, refAccepted: 0, overRejected: 0 };
  const corpora = binanceCorpora();
  for (const [ci, c] of corpora.entries()) {
    const table = new SymbolTable();
    for (const s of c.syms) table.add(s.name);
    const p = new BinanceParser(
      table,
      c.syms.map((s) => s.pd),
      c.syms.map((s) => s.qd),
    );
    const books = c.syms.map(() => new L2Book(64));
    // the adapter path too (sync, BookFeed, BotState): exceptions, and a VALID book is a valid book
    const state = BotState.create(c.syms.length);
    const insts = c.syms.map((s, slot) => makeInstrument(ci === 1 ? 'binanceUsdm' : 'binanceSpot', s.name, s.pd, s.qd, slot));
    const md = new BinanceMd({
      market: ci === 1 ? 'usdm' : 'spot',
      restBaseUrl: 'http://127.0.0.1:1',
      wsBaseUrl: 'ws://127.0.0.1:1',
      instruments: insts,
      state,
      fetchSnapshot: () => new Promise<string>(() => {}),
    });
    const share = Math.floor(n / corpora.length);
    for (const orig of c.frames) check(orig, false);
    for (let k = 0; k < share; k++) check(mutate(c.frames[k % c.frames.length]!, r), true);

    function check(text: string, mutated: boolean): void {
      stats.frames++;
      const buf = latin1(text);
      let rc: number;
      try {
        rc = p.parse(buf);
      } catch (e) {
        fails.exception.add(String(e), text);
        return;
      }
      const ref = refBinanceMd(buf.toString('utf8'), c.syms);
      if (ref) stats.refAccepted++;
      const hot = rc === Reason.Ok && (p.kind === BnMsg.Depth || p.kind === BnMsg.BookTicker || p.kind === BnMsg.Trade);
      if (!hot) {
        if (ref) {
          stats.overRejected++;
          if (!mutated) fails.unmutatedRefused.add(`reason ${rc}`, text);
        }
      } else {
        stats.accepted++;
        let got: unknown;
        if (p.kind === BnMsg.Depth)
          got = { kind: 'depth', sym: p.sym, U: p.U, u: p.u, pu: p.pu, E: p.E, T: p.T, bids: levelsOf(p.bids), asks: levelsOf(p.asks) };
        else if (p.kind === BnMsg.BookTicker)
          got = { kind: 'ticker', sym: p.sym, u: p.u, E: p.E, bidPx: p.bidPx, bidQty: p.bidQty, askPx: p.askPx, askQty: p.askQty };
        else got = { kind: 'trade', sym: p.sym, px: p.tradePx, qty: p.tradeQty, side: p.tradeSide, E: p.E, T: p.T };
        if (!ref || !same(got, ref)) fails.mismatch.add(`got ${JSON.stringify(got).slice(0, 300)} ref ${JSON.stringify(ref)?.slice(0, 300)}`, text);
        else if (ref.kind === 'depth') applyChecked(books[ref.sym]!, ref.bids, ref.asks, fails.book, text);
      }
      try {
        md.onFrame(buf, stats.frames);
      } catch (e) {
        fails.exception.add(`adapter: ${String(e)}`, text);
      }
      for (let s = 0; s < c.syms.length; s++) {
        if ((state.flags(s) & FLAG_VALID) === 0) continue;
        const prob = bookProblem(md.book(c.syms[s]!.name)!);
        if (prob !== '') fails.adapterBook.add(prob, text);
      }
    }
  }
  return { stats, fails };
}

function fuzzBybitMd(n: number, seed: number): { stats: Stats; fails: Record<string, Failures> } {
  const r = prng(seed);
  const fails = { exception: new Failures(), mismatch: new Failures(), book: new Failures(), adapterBook: new Failures(), unmutatedRefused: new Failures() };
  const stats: Stats = { frames: 0, accepted: 0, refAccepted: 0, overRejected: 0 };
  const corpora = bybitCorpora();
  for (const c of corpora) {
    const table = new SymbolTable();
    for (const s of c.syms) table.add(s.name);
    const p = new BybitParser(
      table,
      c.syms.map((s) => s.pd),
      c.syms.map((s) => s.qd),
    );
    const books = c.syms.map(() => new L2Book(64));
    const state = BotState.create(c.syms.length);
    const md = new BybitMd({
      category: 'linear',
      wsBaseUrl: 'ws://127.0.0.1:1',
      instruments: c.syms.map((s, slot) => makeInstrument('bybitLinear', s.name, s.pd, s.qd, slot)),
      state,
    });
    const share = Math.floor(n / corpora.length);
    for (const orig of c.frames) check(orig, false);
    for (let k = 0; k < share; k++) check(mutate(c.frames[k % c.frames.length]!, r), true);

    function check(text: string, mutated: boolean): void {
      stats.frames++;
      const buf = latin1(text);
      let rc: number;
      try {
        rc = p.parse(buf);
      } catch (e) {
        fails.exception.add(String(e), text);
        return;
      }
      const ref = refBybitMd(buf.toString('utf8'), c.syms);
      if (ref) stats.refAccepted++;
      const hot = rc === Reason.Ok && (p.kind === BbMsg.Book || p.kind === BbMsg.Trade);
      if (!hot) {
        if (ref) {
          stats.overRejected++;
          if (!mutated) fails.unmutatedRefused.add(`reason ${rc}`, text);
        }
      } else {
        stats.accepted++;
        const got =
          p.kind === BbMsg.Book
            ? { kind: 'book', sym: p.sym, snapshot: p.snapshot, u: p.u, seq: p.seq, ts: p.ts, cts: p.cts, bids: levelsOf(p.bids), asks: levelsOf(p.asks) }
            : { kind: 'trade', sym: p.sym, px: p.tradePx, qty: p.tradeQty, side: p.tradeSide, time: p.tradeTime, trades: p.trades };
        if (!ref || !same(got, ref)) fails.mismatch.add(`got ${JSON.stringify(got).slice(0, 300)} ref ${JSON.stringify(ref)?.slice(0, 300)}`, text);
        else if (ref.kind === 'book') {
          if (ref.snapshot || ref.u === 1) books[ref.sym]!.clear();
          applyChecked(books[ref.sym]!, ref.bids, ref.asks, fails.book, text);
        }
      }
      try {
        md.onFrame(buf, stats.frames);
      } catch (e) {
        fails.exception.add(`adapter: ${String(e)}`, text);
      }
      for (let s = 0; s < c.syms.length; s++) {
        if ((state.flags(s) & FLAG_VALID) === 0) continue;
        const prob = bookProblem(md.book(c.syms[s]!.name)!);
        if (prob !== '') fails.adapterBook.add(prob, text);
      }
    }
  }
  return { stats, fails };
}

// ---- private streams --------------------------------------------------------------------------------------------

function fuzzBinanceUser(n: number, seed: number): { stats: Stats; fails: Record<string, Failures> } {
  const r = prng(seed);
  const fails = { exception: new Failures(), fastMismatch: new Failures(), jsonMismatch: new Failures(), unmutatedRefused: new Failures() };
  const stats: Stats = { frames: 0, accepted: 0, refAccepted: 0, overRejected: 0 };
  const corpus = binanceUserCorpus();
  const fast = { binanceSpot: new BinanceFastUserParser('binanceSpot', SCALE), binanceUsdm: new BinanceFastUserParser('binanceUsdm', SCALE) } as Record<
    string,
    BinanceFastUserParser
  >;
  const out = blankOrderEvent();
  const check = (text: string, venue: VenueId, mutated: boolean) => {
    stats.frames++;
    const buf = latin1(text);
    const utf8 = buf.toString('utf8');
    const ref = refBinanceUser(utf8, venue, SCALE);
    if (ref !== undefined && ref !== 'none') stats.refAccepted++;
    const got: EvRef[] = [];
    const h = { order: (e: OrderEvent) => got.push(evOf(e)) };
    try {
      const res = fast[venue]!.parse(buf, out, h, 1);
      if (res === 'order') {
        stats.accepted++;
        if (typeof ref !== 'object' || got.length !== 1 || !same(got[0], ref))
          fails.fastMismatch.add(`got ${JSON.stringify(got)} ref ${JSON.stringify(ref)}`, text);
      } else if (got.length > 0) fails.fastMismatch.add(`reported ${got.length} events and answered ${res}`, text);
      got.length = 0;
      const k = parseUserFrame(utf8, venue, SCALE, out, h, 1);
      if (k === 'order') {
        if (typeof ref !== 'object' || got.length !== 1 || !same(got[0], ref))
          fails.jsonMismatch.add(`got ${JSON.stringify(got)} ref ${JSON.stringify(ref)}`, text);
      } else {
        if (got.length > 0) fails.jsonMismatch.add(`reported ${got.length} events and answered ${k}`, text);
        if (typeof ref === 'object') {
          stats.overRejected++;
          if (!mutated) fails.unmutatedRefused.add(k, text);
        }
      }
    } catch (e) {
      fails.exception.add(String(e), text);
    }
  };
  for (const c of corpus) check(c.frame, c.venue, false);
  for (let k = 0; k < n; k++) {
    const c = corpus[k % corpus.length]!;
    check(mutate(c.frame, r), c.venue, true);
  }
  return { stats, fails };
}

function fuzzBybitPrivate(n: number, seed: number): { stats: Stats; fails: Record<string, Failures> } {
  const r = prng(seed);
  const fails = { exception: new Failures(), fastMismatch: new Failures(), jsonMismatch: new Failures(), unmutatedRefused: new Failures() };
  const stats: Stats = { frames: 0, accepted: 0, refAccepted: 0, overRejected: 0 };
  const corpus = bybitPrivateCorpus();
  const fast = new BybitFastParser(SCALE);
  const out = blankOrderEvent();
  const check = (text: string, mutated: boolean) => {
    stats.frames++;
    const buf = latin1(text);
    const utf8 = buf.toString('utf8');
    const ref = refBybitPrivate(utf8, SCALE);
    if (Array.isArray(ref)) stats.refAccepted++;
    const got: EvRef[] = [];
    const h = { order: (e: OrderEvent) => got.push(evOf(e)) };
    try {
      const res = fast.parsePrivate(buf, out, h, 1);
      if (res === 'execution') {
        stats.accepted++;
        if (!Array.isArray(ref) || !same(got, ref)) fails.fastMismatch.add(`got ${JSON.stringify(got)} ref ${JSON.stringify(ref)}`, text);
      } else if (got.length > 0) fails.fastMismatch.add(`reported ${got.length} events and answered ${res}`, text);
      got.length = 0;
      const k = parsePrivateFrame(utf8, SCALE, out, h, 1);
      if (k === 'order' || k === 'execution') {
        if (!Array.isArray(ref) || !same(got, ref)) fails.jsonMismatch.add(`got ${JSON.stringify(got)} ref ${JSON.stringify(ref)}`, text);
      } else {
        if (got.length > 0) fails.jsonMismatch.add(`reported ${got.length} events and answered ${k}`, text);
        if (Array.isArray(ref)) {
          stats.overRejected++;
          if (!mutated) fails.unmutatedRefused.add(k, text);
        }
      }
    } catch (e) {
      fails.exception.add(String(e), text);
    }
  };
  for (const c of corpus) check(c, false);
  for (let k = 0; k < n; k++) check(mutate(corpus[k % corpus.length]!, r), true);
  return { stats, fails };
}

// ---- the test ---------------------------------------------------------------------------------------------------

const timeout = Math.max(120_000, FRAMES * 2); // bounded by count; the timeout only guards a hang

describe(`fuzz (seed ${SEED}, ${FRAMES} frames per venue)`, () => {
  it(
    'Binance: market data (spot, USD-M, simulator) and user data (executionReport, ORDER_TRADE_UPDATE, TRADE_LITE)',
    () => {
      const md = fuzzBinanceMd(Math.round(FRAMES * 0.7), SEED);
      const user = fuzzBinanceUser(Math.round(FRAMES * 0.3), SEED + 1);
      console.log(report('binance md', md.stats, md.fails));
      console.log(report('binance user', user.stats, user.fails));
      expectClean(md.fails);
      expectClean(user.fails);
      expect(md.stats.frames + user.stats.frames).toBeGreaterThanOrEqual(FRAMES);
      // the mutations leave a good share of frames valid: the comparison is not vacuous
      expect(md.stats.accepted).toBeGreaterThan(md.stats.frames / 10);
      expect(user.stats.accepted).toBeGreaterThan(user.stats.frames / 20);
    },
    timeout,
  );

  it(
    'Bybit: market data (orderbook, publicTrade; capture and simulator) and private (execution, order)',
    () => {
      const md = fuzzBybitMd(Math.round(FRAMES * 0.7), SEED + 2);
      const priv = fuzzBybitPrivate(Math.round(FRAMES * 0.3), SEED + 3);
      console.log(report('bybit md', md.stats, md.fails));
      console.log(report('bybit private', priv.stats, priv.fails));
      expectClean(md.fails);
      expectClean(priv.fails);
      expect(md.stats.frames + priv.stats.frames).toBeGreaterThanOrEqual(FRAMES);
      expect(md.stats.accepted).toBeGreaterThan(md.stats.frames / 10);
      expect(priv.stats.accepted).toBeGreaterThan(priv.stats.frames / 20);
    },
    timeout,
  );
});
