/**
 * Bybit v5 public market-data frame parser, byte level, no object tree, no allocation.
 *
 *  - `orderbook.{depth}.{symbol}` snapshot/delta: `{"topic","type","ts","data":{"s","b":[[px,sz]..],"a":[..],"u","seq"},"cts"}`
 *  - `publicTrade.{symbol}`: `{"topic","type","ts","data":[{"T","s","S","v","p",...},...]}` (last trade kept)
 * Acks and pongs (`{"success":..,"op":..}`, `{"op":"pong"..}`, `{"retCode"..}`) are `Cold` (JSON.parse them);
 * other topics (tickers, kline...) are `Ignored`. Key order is not relied upon: if `data` comes before `topic`,
 * its span is remembered and parsed once the topic is known.
 */
import { LevelScratch, type SymbolTable, readLevels, setSymbolDecimals } from '../../../md/common.js';
import { Reason, Scanner, ascii, hashKey } from '../../../codec/scan.js';

export const enum BbMsg {
  None = 0,
  Book = 1,
  Trade = 2,
  Cold = 3,
  Ignored = 4,
}

const K_TOPIC = hashKey('topic');
const K_TYPE = hashKey('type');
const K_TS = hashKey('ts');
const K_CTS = hashKey('cts');
const K_DATA = hashKey('data');
const K_SUCCESS = hashKey('success');
const K_OP = hashKey('op');
const K_RETCODE = hashKey('retCode');
const K_REQID = hashKey('req_id');
const K_s = hashKey('s');
const K_b = hashKey('b');
const K_a = hashKey('a');
const K_u = hashKey('u');
const K_seq = hashKey('seq');
const K_T = hashKey('T');
const K_S = hashKey('S');
const K_v = hashKey('v');
const K_p = hashKey('p');

const TY_SNAPSHOT = ascii('snapshot');
const TY_DELTA = ascii('delta');
const W_BUY = ascii('Buy');
const W_SELL = ascii('Sell');
const P_ORDERBOOK = ascii('orderbook.');
const P_TRADE = ascii('publicTrade.');

export class BybitParser {
  readonly sc = new Scanner();
  readonly symbols: SymbolTable;
  private pxDec: Int32Array;
  private qtyDec: Int32Array;

  kind: number = BbMsg.None;
  sym = -1;
  /** true for type "snapshot" */
  snapshot = false;
  // Double fields from the start (fractional initial values): large numbers stored in place, never boxed
  u = -0.5;
  seq = -0.5;
  /** message generation time (ts), ms */
  ts = -0.5;
  /** matching-engine time (cts), ms */
  cts = -0.5;
  /** local receive time (ns), set by the adapter before dispatch */
  recvNs = 0.5;
  readonly bids = new LevelScratch();
  readonly asks = new LevelScratch();
  tradePx = -1;
  tradeQty = -1;
  tradeSide = 0;
  tradeTime = -0.5;
  trades = 0;

  private topicKind = 0; // 1 book, 2 trade, 3 other
  /** 1 snapshot, 2 delta, 3 another word */
  private typeWord = 0;
  private cold = false;
  /** keys read in the object being scanned (bit per key: a second one is Reason.DuplicateKey) */
  private seen = 0;

  constructor(symbols: SymbolTable, pxDecimals: ArrayLike<number>, qtyDecimals: ArrayLike<number>) {
    this.symbols = symbols;
    this.pxDec = Int32Array.from(pxDecimals);
    this.qtyDec = Int32Array.from(qtyDecimals);
  }

  setDecimals(sym: number, pxDecimals: number, qtyDecimals: number): void {
    this.pxDec = setSymbolDecimals(this.pxDec, sym, pxDecimals);
    this.qtyDec = setSymbolDecimals(this.qtyDec, sym, qtyDecimals);
  }

  parse(b: Uint8Array, start = 0, end = b.length): number {
    const sc = this.sc;
    sc.reset(b, start, end);
    this.kind = BbMsg.None;
    this.sym = -1;
    this.snapshot = false;
    this.u = -1;
    this.seq = -1;
    this.ts = -1;
    this.cts = -1;
    this.bids.n = 0;
    this.asks.n = 0;
    this.tradePx = this.tradeQty = this.tradeTime = -1;
    this.tradeSide = 0;
    this.trades = 0;
    this.topicKind = 0;
    this.typeWord = 0;
    this.cold = false;
    this.seen = 0;
    let seen = 0;

    if (sc.peek() !== 123) return Reason.NotObject;
    sc.p++;
    let dataPos = -1;
    let first = true;
    while (sc.more(first)) {
      first = false;
      const k = sc.key();
      if (sc.err !== Reason.Ok) return sc.err;
      const bit = k === K_TOPIC ? 1 : k === K_TYPE ? 2 : k === K_TS ? 4 : k === K_CTS ? 8 : k === K_DATA ? 16 : 0;
      if ((seen & bit) !== 0) return Reason.DuplicateKey;
      seen |= bit;
      if (k === K_TOPIC) {
        this.topic();
      } else if (k === K_TYPE) {
        if (sc.strSpan()) this.typeWord = sc.strIs(TY_SNAPSHOT) ? 1 : sc.strIs(TY_DELTA) ? 2 : 3;
      } else if (k === K_TS) {
        sc.readUint();
        this.ts = sc.num;
      } else if (k === K_CTS) {
        sc.readUint();
        this.cts = sc.num;
      } else if (k === K_DATA) {
        if (this.topicKind === 0) {
          dataPos = sc.p;
          sc.skip();
        } else this.data();
      } else if (k === K_SUCCESS || k === K_OP || k === K_RETCODE || k === K_REQID) {
        this.cold = true;
        sc.skip();
      } else sc.skip();
      if (sc.err !== Reason.Ok) return sc.err;
    }
    if (sc.err !== Reason.Ok || !sc.atEnd()) return sc.err;
    if (this.topicKind === 0) {
      if (this.cold) {
        this.kind = BbMsg.Cold;
        return Reason.Ok;
      }
      return Reason.MissingField;
    }
    if (this.topicKind === 3) {
      this.kind = BbMsg.Ignored;
      return Reason.Ok;
    }
    if (this.sym < 0) return Reason.UnknownSymbol;
    if (dataPos >= 0) {
      const endAll = sc.p;
      sc.p = dataPos;
      this.data();
      if (sc.err !== Reason.Ok) return sc.err;
      sc.p = endAll;
    }
    if (this.topicKind === 1) {
      if (this.typeWord === 1) this.snapshot = true;
      else if (this.typeWord !== 2) return Reason.MissingField;
      // both sides, as arrays (readLevels refuses anything else), and the update id: whole or not at all
      if (this.u < 0 || (this.seen & 6) !== 6) return Reason.MissingField;
      this.kind = BbMsg.Book;
      return Reason.Ok;
    }
    if (this.trades === 0) return Reason.MissingField;
    this.kind = BbMsg.Trade;
    return Reason.Ok;
  }

  /** The symbol of a rejected frame that was an orderbook message (a resync is due), else -1. */
  rejectedBookSym(): number {
    return this.topicKind === 1 ? this.sym : -1;
  }

  /** Note key `bit` as read in the object being scanned; true (Reason.DuplicateKey set) when it was read before. */
  private dup(bit: number): boolean {
    if ((this.seen & bit) !== 0) {
      this.sc.fail(Reason.DuplicateKey);
      return true;
    }
    this.seen |= bit;
    return false;
  }

  /** topic string: kind from the prefix, symbol from the part after the last '.' */
  private topic(): void {
    const sc = this.sc;
    if (!sc.strSpan()) return;
    if (sc.strStartsWith(P_ORDERBOOK)) this.topicKind = 1;
    else if (sc.strStartsWith(P_TRADE)) this.topicKind = 2;
    else {
      this.topicKind = 3;
      return;
    }
    const b = sc.b;
    const s = sc.sStart;
    const e = s + sc.sLen;
    let i = e - 1;
    while (i >= s && b[i] !== 46 /* . */) i--;
    let h = 0x811c9dc5;
    for (let j = i + 1; j < e; j++) {
      let c = b[j] as number;
      if (c >= 97 && c <= 122) c -= 32;
      h = Math.imul(h ^ c, 0x01000193);
    }
    const sym = this.symbols.lookup(h & 0x3fffffff, b, i + 1, e - i - 1, -1);
    if (sym < 0) {
      sc.fail(Reason.UnknownSymbol);
      return;
    }
    this.sym = sym;
  }

  private data(): void {
    if (this.topicKind === 1) this.bookData();
    else if (this.topicKind === 2) this.tradeData();
    else this.sc.skip();
  }

  private bookData(): void {
    const sc = this.sc;
    if (!sc.expect(123)) return;
    const pd = this.pxDec[this.sym] as number;
    const qd = this.qtyDec[this.sym] as number;
    let first = true;
    this.seen = 0;
    while (sc.more(first)) {
      first = false;
      const k = sc.key();
      if (sc.err !== Reason.Ok) return;
      if (k === K_b) {
        if (this.dup(2)) return;
        readLevels(sc, pd, qd, this.bids);
      } else if (k === K_a) {
        if (this.dup(4)) return;
        readLevels(sc, pd, qd, this.asks);
      } else if (k === K_u) {
        if (this.dup(8)) return;
        sc.readUint();
        this.u = sc.num;
      } else if (k === K_seq) {
        if (this.dup(16)) return;
        sc.readUint();
        this.seq = sc.num;
      } else if (k === K_s) {
        if (this.dup(32)) return;
        const h = sc.strHash(true);
        if (sc.err === Reason.Ok && this.symbols.lookup(h, sc.b, sc.sStart, sc.sLen, -1) !== this.sym) sc.fail(Reason.UnknownSymbol);
      } else sc.skip();
      if (sc.err !== Reason.Ok) return;
    }
  }

  private tradeData(): void {
    const sc = this.sc;
    if (!sc.expect(91)) return;
    const pd = this.pxDec[this.sym] as number;
    const qd = this.qtyDec[this.sym] as number;
    let firstItem = true;
    while (sc.moreItems(firstItem)) {
      firstItem = false;
      if (!sc.expect(123)) return;
      let px = -1;
      let qty = -1;
      let side = 0;
      let t = -1;
      let first = true;
      this.seen = 0;
      while (sc.more(first)) {
        first = false;
        const k = sc.key();
        if (sc.err !== Reason.Ok) return;
        if (k === K_p) {
          if (this.dup(1)) return;
          px = sc.dec(pd);
        } else if (k === K_v) {
          if (this.dup(2)) return;
          qty = sc.dec(qd);
        } else if (k === K_T) {
          if (this.dup(4)) return;
          sc.readUint();
          t = sc.num;
        } else if (k === K_S) {
          if (this.dup(8)) return;
          // "Buy" / "Sell": the taker's side (anything else: missing)
          if (sc.strSpan()) side = sc.strIs(W_BUY) ? 1 : sc.strIs(W_SELL) ? -1 : 0;
        } else sc.skip();
        if (sc.err !== Reason.Ok) return;
      }
      if (sc.err !== Reason.Ok) return;
      if (px < 0 || qty < 0 || side === 0 || t < 0) {
        sc.fail(Reason.MissingField);
        return;
      }
      if (px === 0) {
        sc.fail(Reason.ZeroPrice);
        return;
      }
      this.tradePx = px;
      this.tradeQty = qty;
      this.tradeSide = side;
      this.tradeTime = t;
      this.trades++;
    }
  }
}
