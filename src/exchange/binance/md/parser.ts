/**
 * Binance market-data frame parser (Spot and USD-M), byte level, no object tree, no allocation.
 *
 * Handles raw-stream events and the combined-stream wrapper `{"stream":"x@depth@100ms","data":{...}}`:
 *  - depthUpdate (spot U/u; USD-M U/u/pu, E, T) -> levels into scratch buffers
 *  - bookTicker (spot: u,s,b,B,a,A; USD-M adds e,E,T) -> best bid/ask
 *  - aggTrade / trade -> last trade
 * Everything else: control responses ({"result":..,"id":..}, errors) are `Cold` (caller uses JSON.parse),
 * other streams (kline, markPrice, ...) are `Ignored`. Malformed bytes give a Reason, never an exception.
 *
 * Prices/sizes become integers scaled by each symbol's priceDecimals/qtyDecimals (spot pads to 8 decimals;
 * extra decimals must be zeros, else Reason.Precision).
 */
import { LevelScratch, type SymbolTable, readLevels, setSymbolDecimals } from '../../../md/common.js';
import { Reason, Scanner, ascii, hashKey } from '../../../codec/scan.js';

export const enum BnMsg {
  None = 0,
  Depth = 1,
  BookTicker = 2,
  Trade = 3,
  /** control response / error: parse with JSON.parse */
  Cold = 4,
  /** a stream we do not use on the hot path */
  Ignored = 5,
}

const K_STREAM = hashKey('stream');
const K_DATA = hashKey('data');
const K_RESULT = hashKey('result');
const K_ID = hashKey('id');
const K_CODE = hashKey('code');
const K_e = hashKey('e');
const K_E = hashKey('E');
const K_T = hashKey('T');
const K_s = hashKey('s');
const K_U = hashKey('U');
const K_u = hashKey('u');
const K_pu = hashKey('pu');
const K_b = hashKey('b');
const K_a = hashKey('a');
const K_B = hashKey('B');
const K_A = hashKey('A');
const K_p = hashKey('p');
const K_q = hashKey('q');
const K_m = hashKey('m');

const PRE_STREAM = ascii('{"stream":"');
const PRE_DATA = ascii(',"data":{');

const EV_DEPTH = hashKey('depthUpdate');
const EV_BOOKTICKER = hashKey('bookTicker');
const EV_AGGTRADE = hashKey('aggTrade');
const EV_TRADE = hashKey('trade');
const EV_SHUTDOWN = hashKey('serverShutdown');

export class BinanceParser {
  readonly sc = new Scanner();
  readonly symbols: SymbolTable;
  private pxDec: Int32Array;
  private qtyDec: Int32Array;

  // ---- result of the last parse() ----
  kind: number = BnMsg.None;
  /** symbol index in `symbols`, -1 if none */
  sym = -1;
  // sequences and times: initialised with fractions so that V8 keeps Double fields (stored in place)
  U = -0.5;
  u = -0.5;
  pu = -0.5;
  /** event time ms (-1 if absent, e.g. spot bookTicker) */
  E = -0.5;
  /** transaction time ms (USD-M, trades) */
  T = -0.5;
  readonly bids = new LevelScratch();
  readonly asks = new LevelScratch();
  bidPx = -1;
  bidQty = -1;
  askPx = -1;
  askQty = -1;
  tradePx = -1;
  tradeQty = -1;
  /** +1 buyer was the aggressor, -1 seller */
  tradeSide = 0;
  /** local receive time of the frame (ns), set by the adapter before dispatch (a Double field: no boxing) */
  recvNs = 0.5;

  private ev = 0;
  private deferred = false;
  private sawLevels = false;
  /** keys read in the current event object (bit per key: a second one is Reason.DuplicateKey) */
  private seen = 0;
  /** how "b" / "a" came: 1 an array (depth levels), 2 a string (bookTicker price), 3 anything else */
  private bShape = 0;
  private aShape = 0;

  constructor(symbols: SymbolTable, pxDecimals: ArrayLike<number>, qtyDecimals: ArrayLike<number>) {
    this.symbols = symbols;
    this.pxDec = Int32Array.from(pxDecimals);
    this.qtyDec = Int32Array.from(qtyDecimals);
  }

  /** Register decimals for a symbol index added to the table later. */
  setDecimals(sym: number, pxDecimals: number, qtyDecimals: number): void {
    this.pxDec = setSymbolDecimals(this.pxDec, sym, pxDecimals);
    this.qtyDec = setSymbolDecimals(this.qtyDec, sym, qtyDecimals);
  }

  /** Parse one frame; returns Reason.Ok or the reason it was rejected. Results in the fields above. */
  parse(b: Uint8Array, start = 0, end = b.length): number {
    const sc = this.sc;
    sc.reset(b, start, end);
    this.kind = BnMsg.None;
    this.sym = -1;
    this.U = -1;
    this.u = -1;
    this.pu = -1;
    this.E = -1;
    this.T = -1;
    this.ev = 0;
    this.deferred = false;
    this.sawLevels = false;
    this.seen = 0;
    this.bShape = 0;
    this.aShape = 0;
    this.bidPx = this.bidQty = this.askPx = this.askQty = -1;
    this.tradePx = this.tradeQty = -1;
    this.tradeSide = 0;
    this.bids.n = 0;
    this.asks.n = 0;

    // the combined-stream wrapper, byte for byte as Binance sends it: `{"stream":"<name>","data":{` (the name
    // is not needed: the payload's "s" names the symbol); any other spelling takes the general path below
    const pre = PRE_STREAM;
    let q = start;
    if (end - start > 24 && b[q] === 123 && b[q + 1] === 34 && b[q + 2] === 115) {
      let i = 3;
      while (i < pre.length && b[q + i] === pre[i]) i++;
      if (i === pre.length) {
        q += i;
        while (q < end) {
          const c = b[q] as number;
          if (c === 34 || c === 92 || c < 32) break; // a quote ends the name; an escape or a control byte: general path
          q++;
        }
        if (q < end && b[q] === 34) {
          q++;
          const dp = PRE_DATA;
          i = 0;
          while (i < dp.length && q + i < end && b[q + i] === dp[i]) i++;
          if (i === dp.length) {
            sc.p = q + i;
            return this.combinedData();
          }
        }
      }
    }

    if (sc.peek() !== 123) return sc.p >= sc.end ? Reason.NotObject : Reason.NotObject;
    sc.p++;
    if (!sc.more(true)) {
      if (sc.err !== Reason.Ok) return sc.err;
      this.kind = BnMsg.Cold;
      return Reason.Ok;
    }
    const k = sc.key();
    if (sc.err !== Reason.Ok) return sc.err;
    if (k === K_STREAM) {
      // combined stream: the payload's "s" names the symbol (it precedes the numbers; if not, the body is
      // re-scanned), so the stream name is only skipped
      sc.skip();
      if (sc.err !== Reason.Ok) return sc.err;
      let sawData = false;
      while (sc.more(false)) {
        const k2 = sc.key();
        if ((k2 === K_DATA && sawData) || k2 === K_STREAM) return Reason.DuplicateKey;
        if (k2 === K_DATA) {
          sawData = true;
          if (!sc.expect(123)) return sc.err;
          if (!sc.more(true)) {
            if (sc.err !== Reason.Ok) return sc.err;
            this.kind = BnMsg.Ignored;
            continue;
          }
          this.event(sc.key());
        } else sc.skip();
        if (sc.err !== Reason.Ok) return sc.err;
      }
      if (sc.err !== Reason.Ok || !sc.atEnd()) return sc.err;
      if (!sawData) return Reason.MissingField;
      return this.finish();
    }
    if (k === K_RESULT || k === K_ID || k === K_CODE) {
      this.kind = BnMsg.Cold;
      return Reason.Ok;
    }
    this.event(k);
    if (sc.err !== Reason.Ok || !sc.atEnd()) return sc.err;
    return this.finish();
  }

  /** Combined wrapper fast path: positioned right after `"data":{`; same rules as the general path. */
  private combinedData(): number {
    const sc = this.sc;
    if (!sc.more(true)) {
      if (sc.err !== Reason.Ok) return sc.err;
      this.kind = BnMsg.Ignored;
    } else this.event(sc.key());
    if (sc.err !== Reason.Ok) return sc.err;
    // members after "data" (none today): skipped (validated); a second "data" or "stream" is a duplicate
    while (sc.more(false)) {
      const k = sc.key();
      if (k === K_DATA || k === K_STREAM) return Reason.DuplicateKey;
      sc.skip();
      if (sc.err !== Reason.Ok) return sc.err;
    }
    if (sc.err !== Reason.Ok || !sc.atEnd()) return sc.err;
    return this.finish();
  }

  /** The symbol of a rejected frame that was a depth diff (a resync is due), else -1. */
  rejectedDepthSym(): number {
    return this.sym >= 0 && (this.ev === EV_DEPTH || this.sawLevels) ? this.sym : -1;
  }

  /** Members of an event object, starting with key `k` already read; consumes the closing brace. */
  private event(k: number): void {
    const sc = this.sc;
    const bodyStart = sc.p; // position of the first value (after "key":)
    const firstKey = k;
    this.members(k);
    if (sc.err !== Reason.Ok) return;
    if (this.deferred && this.sym >= 0) {
      // fields with numbers came before "s": scan the body again now that the scale is known
      const endAfter = sc.p;
      this.deferred = false;
      this.bids.n = 0;
      this.asks.n = 0;
      this.seen = 0;
      sc.p = bodyStart;
      this.members(firstKey);
      if (sc.err === Reason.Ok) sc.p = endAfter;
    }
  }

  private members(k: number): void {
    const sc = this.sc;
    for (;;) {
      if (k === K_e) {
        if (this.dup(1)) return;
        this.ev = sc.strHash(false);
      } else if (k === K_u) {
        if (this.dup(2)) return;
        sc.readUint();
        this.u = sc.num;
      } else if (k === K_U) {
        if (this.dup(4)) return;
        sc.readUint();
        this.U = sc.num;
      } else if (k === K_pu) {
        if (this.dup(8)) return;
        sc.readUint();
        this.pu = sc.num;
      } else if (k === K_E) {
        if (this.dup(16)) return;
        sc.readUint();
        this.E = sc.num;
      } else if (k === K_T) {
        if (this.dup(32)) return;
        sc.readUint();
        this.T = sc.num;
      } else if (k === K_s) {
        if (this.dup(64)) return;
        const h = sc.strHash(true);
        if (sc.err === Reason.Ok) {
          const i = this.symbols.lookup(h, sc.b, sc.sStart, sc.sLen, -1);
          if (i < 0) {
            sc.fail(Reason.UnknownSymbol);
            return;
          }
          this.sym = i;
        }
      } else if (k === K_b || k === K_a) {
        if (this.dup(k === K_b ? 128 : 256)) return;
        const c = sc.peek();
        const shape = c === 91 ? 1 : c === 34 ? 2 : 3;
        if (k === K_b) this.bShape = shape;
        else this.aShape = shape;
        if (c === 91 /* [ */) {
          this.sawLevels = true;
          if (this.sym < 0) {
            this.deferred = true;
            sc.skip();
          } else readLevels(sc, this.pxDec[this.sym] as number, this.qtyDec[this.sym] as number, k === K_b ? this.bids : this.asks);
        } else if (c === 34 /* " */) {
          if (this.sym < 0) {
            this.deferred = true;
            sc.skip();
          } else if (k === K_b) {
            sc.readDec(this.pxDec[this.sym] as number);
            this.bidPx = sc.num;
          } else {
            sc.readDec(this.pxDec[this.sym] as number);
            this.askPx = sc.num;
          }
        } else sc.skip(); // aggTrade "a" = aggregate trade id
      } else if (k === K_B || k === K_A) {
        if (this.dup(k === K_B ? 512 : 1024)) return;
        if (sc.peek() === 34 && this.sym >= 0) {
          if (k === K_B) {
            sc.readDec(this.qtyDec[this.sym] as number);
            this.bidQty = sc.num;
          } else {
            sc.readDec(this.qtyDec[this.sym] as number);
            this.askQty = sc.num;
          }
        } else {
          if (this.sym < 0) this.deferred = true;
          sc.skip();
        }
      } else if (k === K_p || k === K_q) {
        if (this.dup(k === K_p ? 2048 : 4096)) return;
        if (sc.peek() === 34 && this.sym >= 0) {
          if (k === K_p) {
            sc.readDec(this.pxDec[this.sym] as number);
            this.tradePx = sc.num;
          } else {
            sc.readDec(this.qtyDec[this.sym] as number);
            this.tradeQty = sc.num;
          }
        } else {
          if (this.sym < 0) this.deferred = true;
          sc.skip();
        }
      } else if (k === K_m) {
        if (this.dup(8192)) return;
        if (sc.peek() === 116 || sc.peek() === 102)
          this.tradeSide = sc.bool() ? -1 : 1; // m: buyer is maker -> seller aggressed
        else sc.skip();
      } else {
        sc.skip();
      }
      if (sc.err !== Reason.Ok) return;
      if (!sc.more(false)) return;
      k = sc.key();
      if (sc.err !== Reason.Ok) return;
    }
  }

  /** Note key `bit` as read in this event object; true (Reason.DuplicateKey set) when it was read before. */
  private dup(bit: number): boolean {
    if ((this.seen & bit) !== 0) {
      this.sc.fail(Reason.DuplicateKey);
      return true;
    }
    this.seen |= bit;
    return false;
  }

  /**
   * What the event was, whole or not at all. depthUpdate: s, U, u and both `b` and `a` as arrays of levels (a `b`
   * that is a number, object or string is refused, never read as "no change"); without `e` (key lost) levels are
   * refused. bookTicker (spot sends no `e`): s, u, and b, B, a, A as decimal strings, prices positive. aggTrade /
   * trade: s, p (positive), q, m.
   */
  private finish(): number {
    const ev = this.ev;
    if (ev === EV_DEPTH || (ev === 0 && this.sawLevels)) {
      if (this.sym < 0) return Reason.UnknownSymbol;
      if (ev === 0) return Reason.MissingField;
      if (this.bShape !== 1 || this.aShape !== 1) return this.bShape === 0 || this.aShape === 0 ? Reason.MissingField : Reason.WrongType;
      if (this.U < 0 || this.u < 0) return Reason.MissingField;
      this.kind = BnMsg.Depth;
      return Reason.Ok;
    }
    if (ev === EV_BOOKTICKER || (ev === 0 && this.bidPx >= 0)) {
      if (this.sym < 0) return Reason.UnknownSymbol;
      if (this.bShape === 3 || this.aShape === 3) return Reason.WrongType;
      if (this.u < 0 || this.bidPx < 0 || this.bidQty < 0 || this.askPx < 0 || this.askQty < 0) return Reason.MissingField;
      if (this.bidPx === 0 || this.askPx === 0) return Reason.ZeroPrice;
      this.kind = BnMsg.BookTicker;
      return Reason.Ok;
    }
    if (ev === EV_AGGTRADE || ev === EV_TRADE) {
      if (this.sym < 0) return Reason.UnknownSymbol;
      if (this.tradePx < 0 || this.tradeQty < 0 || this.tradeSide === 0) return Reason.MissingField;
      if (this.tradePx === 0) return Reason.ZeroPrice;
      this.kind = BnMsg.Trade;
      return Reason.Ok;
    }
    // serverShutdown ("reconnect now") goes to the cold path, which rotates the connection
    this.kind = ev === EV_SHUTDOWN ? BnMsg.Cold : BnMsg.Ignored;
    return Reason.Ok;
  }
}
