/**
 * The strict reference the fuzz test holds every parser to: JSON.parse must accept the frame, then a small JSON reader
 * of its own (numbers kept as their source text, duplicate keys visible) and strict field validation per message
 * kind, with an exact decimal -> scaled-integer conversion in BigInt (independent of util/fixed.ts). A parser may
 * refuse more than the reference; whatever it accepts must carry exactly the reference's values.
 */

import type { VenueId } from '../../src/model/types.js';

export type JV =
  | { t: 'str'; v: string }
  | { t: 'num'; raw: string }
  | { t: 'lit'; v: boolean | null }
  | { t: 'arr'; v: JV[] }
  | { t: 'obj'; keys: string[]; vals: JV[]; dup: Set<string>; escKey: boolean };

/** Parse JSON text keeping number source text and duplicate keys; undefined when JSON.parse refuses it. */
export function parseRef(text: string): JV | undefined {
  try {
    JSON.parse(text);
  } catch {
    return undefined;
  }
  let i = 0;
  const ws = () => {
    while (i < text.length && ' \t\n\r'.includes(text[i]!)) i++;
  };
  const str = (): { v: string; esc: boolean } => {
    const start = i;
    i++;
    let esc = false;
    while (text[i] !== '"') {
      if (text[i] === '\\') {
        esc = true;
        i++;
      }
      i++;
    }
    i++;
    return { v: JSON.parse(text.slice(start, i)) as string, esc };
  };
  const val = (): JV => {
    ws();
    const c = text[i];
    if (c === '"') return { t: 'str', v: str().v };
    if (c === '{') {
      i++;
      const o: JV & { t: 'obj' } = { t: 'obj', keys: [], vals: [], dup: new Set(), escKey: false };
      ws();
      if (text[i] === '}') {
        i++;
        return o;
      }
      for (;;) {
        ws();
        const k = str();
        if (k.esc) o.escKey = true;
        ws();
        i++; // :
        const v = val();
        if (o.keys.includes(k.v)) o.dup.add(k.v);
        o.keys.push(k.v);
        o.vals.push(v);
        ws();
        if (text[i++] === '}') return o;
      }
    }
    if (c === '[') {
      i++;
      const a: JV[] = [];
      ws();
      if (text[i] === ']') {
        i++;
        return { t: 'arr', v: a };
      }
      for (;;) {
        a.push(val());
        ws();
        if (text[i++] === ']') return { t: 'arr', v: a };
      }
    }
    if (text.startsWith('true', i)) {
      i += 4;
      return { t: 'lit', v: true };
    }
    if (text.startsWith('false', i)) {
      i += 5;
      return { t: 'lit', v: false };
    }
    if (text.startsWith('null', i)) {
      i += 4;
      return { t: 'lit', v: null };
    }
    const m = /^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?/.exec(text.slice(i))!;
    i += m[0].length;
    return { t: 'num', raw: m[0] };
  };
  return val();
}

/** the last value of key k (JSON.parse semantics) */
export function get(o: JV | undefined, k: string): JV | undefined {
  if (o?.t !== 'obj') return undefined;
  const i = o.keys.lastIndexOf(k);
  return i < 0 ? undefined : o.vals[i];
}

const MAX = 9007199254740991n;

/** exact decimal (JSON number grammar) -> integer units of 10^-dec, half away from zero; undefined if not one or out of range */
export function refUnits(
  text: string,
  dec: number,
  opts: { exponent: boolean; sign: boolean; extraMustBeZero: boolean; leadingZeros: boolean },
): number | undefined {
  const re = opts.leadingZeros ? /^(-?)([0-9]+)(?:\.([0-9]+))?(?:[eE]([+-]?[0-9]+))?$/ : /^(-?)(0|[1-9][0-9]*)(?:\.([0-9]+))?(?:[eE]([+-]?[0-9]+))?$/;
  const m = re.exec(text);
  if (!m) return undefined;
  if (m[1] === '-' && !opts.sign) return undefined;
  if (m[4] !== undefined && !opts.exponent) return undefined;
  const digits = m[2]! + (m[3] ?? '');
  const exp = Number(m[4] ?? '0') - (m[3] ?? '').length + dec; // units = digits * 10^exp
  let v: bigint;
  if (exp >= 0) {
    if (BigInt(digits) !== 0n && exp > 40) return undefined;
    v = BigInt(digits) * 10n ** BigInt(Math.max(0, exp));
  } else {
    const cut = digits.length + exp; // digits kept
    const kept = cut > 0 ? digits.slice(0, cut) : '0';
    const rest = cut > 0 ? digits.slice(cut) : cut === 0 ? digits : '';
    if (opts.extraMustBeZero && /[1-9]/.test(cut >= 0 ? rest : digits)) return undefined;
    v = BigInt(kept);
    if (rest.length > 0 && rest.charCodeAt(0) >= 53) v += 1n;
  }
  if (v > MAX) return undefined;
  const n = Number(v);
  return m[1] === '-' && n !== 0 ? -n : n;
}

/** a market-data decimal string: `digits[.digits]`, extra decimals zero, within 2^53 */
export function mdDec(v: JV | undefined, dec: number): number | undefined {
  if (v?.t !== 'str') return undefined;
  if (!/^[0-9]+(\.[0-9]+)?$/.test(v.v)) return undefined;
  return refUnits(v.v, dec, { exponent: false, sign: false, extraMustBeZero: true, leadingZeros: true });
}

/** a market-data integer: a JSON integer (no fraction/exponent) or a string of digits, within 2^53 */
export function mdUint(v: JV | undefined): number | undefined {
  let raw: string;
  if (v?.t === 'num') raw = v.raw;
  else if (v?.t === 'str') raw = v.v;
  else return undefined;
  if (!/^[0-9]+$/.test(raw)) return undefined;
  const b = BigInt(raw);
  return b > MAX ? undefined : Number(b);
}

export interface Levels {
  px: number[];
  qty: number[];
}

/** `[[px, qty, ...extra], ...]`: prices > 0, sizes >= 0 */
export function mdLevels(v: JV | undefined, pd: number, qd: number): Levels | undefined {
  if (v?.t !== 'arr') return undefined;
  const out: Levels = { px: [], qty: [] };
  for (const l of v.v) {
    if (l.t !== 'arr' || l.v.length < 2) return undefined;
    const px = mdDec(l.v[0], pd);
    const q = mdDec(l.v[1], qd);
    if (px === undefined || q === undefined || px <= 0) return undefined;
    out.px.push(px);
    out.qty.push(q);
  }
  return out;
}

export interface Sym {
  name: string;
  pd: number;
  qd: number;
}

function symOf(v: JV | undefined, syms: Sym[]): number {
  if (v?.t !== 'str') return -1;
  return syms.findIndex((s) => s.name === v.v.toUpperCase());
}

function dupOf(o: JV & { t: 'obj' }, keys: string[]): boolean {
  return keys.some((k) => o.dup.has(k));
}

// ---- Binance market data ----------------------------------------------------------------------------------------

export type BnRef =
  | { kind: 'depth'; sym: number; U: number; u: number; pu: number; E: number; T: number; bids: Levels; asks: Levels }
  | { kind: 'ticker'; sym: number; u: number; E: number; bidPx: number; bidQty: number; askPx: number; askQty: number }
  | { kind: 'trade'; sym: number; px: number; qty: number; side: number; E: number; T: number };

const BN_KEYS = ['e', 'E', 'T', 's', 'U', 'u', 'pu', 'b', 'a', 'B', 'A', 'p', 'q', 'm'];

/** The hot message a Binance frame is, by the rules of src/exchange/binance/md/parser.ts; undefined when it is none or invalid. */
export function refBinanceMd(text: string, syms: Sym[]): BnRef | undefined {
  const root = parseRef(text);
  if (root?.t !== 'obj' || root.escKey) return undefined;
  let ev: JV | undefined = root;
  if (root.keys[0] === 'stream') {
    if (root.dup.has('stream') || root.dup.has('data')) return undefined;
    ev = get(root, 'data');
  } else if (root.keys[0] === 'result' || root.keys[0] === 'id' || root.keys[0] === 'code') return undefined;
  if (ev?.t !== 'obj' || ev.escKey || dupOf(ev, BN_KEYS)) return undefined;
  const e = get(ev, 'e');
  if (e !== undefined && e.t !== 'str') return undefined;
  const sym = symOf(get(ev, 's'), syms);
  const s = syms[sym];
  const opt = (k: string): number | undefined => (get(ev, k) === undefined ? -1 : mdUint(get(ev, k)));
  const E = opt('E');
  const T = opt('T');
  if (E === undefined || T === undefined) return undefined;
  const name = e?.t === 'str' ? e.v : '';
  if (name === 'depthUpdate') {
    const U = mdUint(get(ev, 'U'));
    const u = mdUint(get(ev, 'u'));
    const pu = opt('pu');
    if (!s || U === undefined || u === undefined || pu === undefined) return undefined;
    const bids = mdLevels(get(ev, 'b'), s.pd, s.qd);
    const asks = mdLevels(get(ev, 'a'), s.pd, s.qd);
    if (!bids || !asks) return undefined;
    return { kind: 'depth', sym, U, u, pu, E, T, bids, asks };
  }
  if (name === 'bookTicker' || (e === undefined && get(ev, 'b')?.t === 'str')) {
    const u = mdUint(get(ev, 'u'));
    if (!s || u === undefined) return undefined;
    const bidPx = mdDec(get(ev, 'b'), s.pd);
    const bidQty = mdDec(get(ev, 'B'), s.qd);
    const askPx = mdDec(get(ev, 'a'), s.pd);
    const askQty = mdDec(get(ev, 'A'), s.qd);
    if (bidPx === undefined || bidQty === undefined || askPx === undefined || askQty === undefined || bidPx <= 0 || askPx <= 0) return undefined;
    return { kind: 'ticker', sym, u, E, bidPx, bidQty, askPx, askQty };
  }
  if (name === 'aggTrade' || name === 'trade') {
    if (!s) return undefined;
    const px = mdDec(get(ev, 'p'), s.pd);
    const qty = mdDec(get(ev, 'q'), s.qd);
    const m = get(ev, 'm');
    if (px === undefined || qty === undefined || px <= 0 || m?.t !== 'lit' || typeof m.v !== 'boolean') return undefined;
    return { kind: 'trade', sym, px, qty, side: m.v ? -1 : 1, E, T };
  }
  return undefined;
}

// ---- Bybit market data ------------------------------------------------------------------------------------------

export type BbRef =
  | { kind: 'book'; sym: number; snapshot: boolean; u: number; seq: number; ts: number; cts: number; bids: Levels; asks: Levels }
  | { kind: 'trade'; sym: number; px: number; qty: number; side: number; time: number; trades: number };

/** The hot message a Bybit public frame is, by the rules of src/exchange/bybit/md/parser.ts; undefined when none or invalid. */
export function refBybitMd(text: string, syms: Sym[]): BbRef | undefined {
  const root = parseRef(text);
  if (root?.t !== 'obj' || root.escKey || dupOf(root, ['topic', 'type', 'ts', 'cts', 'data'])) return undefined;
  const topic = get(root, 'topic');
  if (topic?.t !== 'str') return undefined;
  const book = topic.v.startsWith('orderbook.');
  if (!book && !topic.v.startsWith('publicTrade.')) return undefined;
  const sym = syms.findIndex((s) => s.name === topic.v.slice(topic.v.lastIndexOf('.') + 1).toUpperCase());
  const s = syms[sym];
  if (!s) return undefined;
  const opt = (o: JV | undefined, k: string): number | undefined => (get(o, k) === undefined ? -1 : mdUint(get(o, k)));
  const ts = opt(root, 'ts');
  const cts = opt(root, 'cts');
  if (ts === undefined || cts === undefined) return undefined;
  const data = get(root, 'data');
  if (book) {
    const type = get(root, 'type');
    if (type?.t !== 'str' || (type.v !== 'snapshot' && type.v !== 'delta')) return undefined;
    if (data?.t !== 'obj' || data.escKey || dupOf(data, ['s', 'b', 'a', 'u', 'seq'])) return undefined;
    const ds = get(data, 's');
    if (ds !== undefined && symOf(ds, syms) !== sym) return undefined;
    const u = mdUint(get(data, 'u'));
    const seq = opt(data, 'seq');
    const bids = mdLevels(get(data, 'b'), s.pd, s.qd);
    const asks = mdLevels(get(data, 'a'), s.pd, s.qd);
    if (u === undefined || seq === undefined || !bids || !asks) return undefined;
    return { kind: 'book', sym, snapshot: type.v === 'snapshot', u, seq, ts, cts, bids, asks };
  }
  if (data?.t !== 'arr' || data.v.length === 0) return undefined;
  let last: BbRef | undefined;
  let n = 0;
  for (const it of data.v) {
    if (it.t !== 'obj' || it.escKey || dupOf(it, ['p', 'v', 'T', 'S'])) return undefined;
    const px = mdDec(get(it, 'p'), s.pd);
    const qty = mdDec(get(it, 'v'), s.qd);
    const time = mdUint(get(it, 'T'));
    const S = get(it, 'S');
    const side = S?.t === 'str' ? (S.v === 'Buy' ? 1 : S.v === 'Sell' ? -1 : 0) : 0;
    if (px === undefined || qty === undefined || time === undefined || side === 0 || px <= 0) return undefined;
    last = { kind: 'trade', sym, px, qty, side, time, trades: ++n };
  }
  return last;
}

// ---- private streams ---------------------------------------------------------------------------------------------

/** The OrderEvent fields the fuzz compares. */
export interface EvRef {
  venue: string;
  symbol: string;
  kind: string;
  clientOrderId: string;
  exchangeOrderId: string;
  state: string;
  tradeId: string;
  fillPrice: number;
  fillQty: number;
  cumQty: number;
  fee: number;
  feeAsset: string;
  maker: boolean;
  orderPrice: number;
  orderQty: number;
  reason: string;
  exchTimeMs: number;
}

type Scale = (venue: VenueId, symbol: string) => { priceDecimals: number; qtyDecimals: number } | undefined;

const units = (v: JV | undefined, d: number): number | undefined => {
  if (v?.t !== 'str') return undefined;
  const u = refUnits(v.v, d, { exponent: true, sign: true, extraMustBeZero: false, leadingZeros: false });
  return u !== undefined && u >= 0 && !Object.is(u, -0) ? u + 0 : undefined;
};
const fee = (v: JV | undefined): number | undefined => {
  if (v?.t !== 'str' || !/^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?$/.test(v.v)) return undefined;
  const n = Number(v.v);
  return Number.isFinite(n) ? n + 0 : undefined;
};
const uint = (v: JV | undefined): number | undefined => {
  if (v === undefined) return 0;
  if (v.t === 'num') {
    const n = Number(v.raw);
    return Number.isSafeInteger(n) && n >= 0 ? n + 0 : undefined;
  }
  if (v.t === 'str' && /^[0-9]+$/.test(v.v)) return Number.isSafeInteger(Number(v.v)) ? Number(v.v) : undefined;
  return undefined;
};
/** ids: a string, or an integer; 16+ digit integers stay exact text (the JSON path quotes them) */
const idv = (v: JV | undefined): string | undefined => {
  if (v?.t === 'str') return v.v;
  if (v?.t !== 'num') return undefined;
  if (/^-?[0-9]{16,}$/.test(v.raw)) return v.raw;
  const n = Number(v.raw);
  return Number.isSafeInteger(n) ? String(n) : undefined;
};
const optStr = (v: JV | undefined): string | undefined => (v === undefined || (v.t === 'lit' && v.v === null) ? '' : v.t === 'str' ? v.v : undefined);
const boolOk = (v: JV | undefined): boolean => v === undefined || (v.t === 'lit' && typeof v.v === 'boolean');
const isTrue = (v: JV | undefined): boolean => v?.t === 'lit' && v.v === true;

const BN_KIND: Record<string, string> = {
  TRADE: 'fill',
  CALCULATED: 'fill',
  CANCELED: 'cancel',
  REJECTED: 'reject',
  EXPIRED: 'expire',
  TRADE_PREVENTION: 'expire',
  AMENDMENT: 'amend',
  REPLACED: 'amend',
};
const BN_STATE: Record<string, string> = {
  NEW: 'ACKED',
  PARTIALLY_FILLED: 'PARTIALLY_FILLED',
  FILLED: 'FILLED',
  CANCELED: 'CANCELED',
  PENDING_CANCEL: 'CANCEL_PENDING',
  REJECTED: 'REJECTED',
  EXPIRED: 'EXPIRED',
  EXPIRED_IN_MATCH: 'EXPIRED',
};

function blank(venue: string, symbol: string): EvRef {
  return {
    venue,
    symbol,
    kind: 'ack',
    clientOrderId: '',
    exchangeOrderId: '',
    state: 'ACKED',
    tradeId: '',
    fillPrice: 0,
    fillQty: 0,
    cumQty: 0,
    fee: 0,
    feeAsset: '',
    maker: false,
    orderPrice: 0,
    orderQty: 0,
    reason: '',
    exchTimeMs: 0,
  };
}

function inRange(e: EvRef): boolean {
  return !(e.kind === 'fill' && e.fillQty > 0 && e.fillPrice === 0);
}

/** A Binance user-data frame: the event, 'none' (not an order event or not ours), or undefined (invalid). */
export function refBinanceUser(text: string, venue: VenueId, scale: Scale): EvRef | 'none' | undefined {
  const root = parseRef(text);
  if (root?.t !== 'obj') return undefined;
  let ev: JV | undefined = root;
  const w = get(root, 'event')?.t === 'obj' ? get(root, 'event') : get(root, 'data')?.t === 'obj' ? get(root, 'data') : undefined;
  if (w) ev = w;
  const e = get(ev, 'e');
  const type = e?.t === 'str' ? e.v : '';
  const isOtu = type === 'ORDER_TRADE_UPDATE';
  if (type !== 'executionReport' && !isOtu && type !== 'TRADE_LITE') return 'none';
  const f = isOtu ? get(ev, 'o') : ev;
  if (f?.t !== 'obj') return undefined;
  const s = get(f, 's');
  if (s?.t !== 'str') return undefined;
  const sc = scale(venue, s.v);
  if (!sc) return 'none';
  const out = blank(venue, s.v);
  const c = get(f, 'c');
  const i = idv(get(f, 'i'));
  if (c?.t !== 'str' || i === undefined) return undefined;
  out.clientOrderId = c.v;
  out.exchangeOrderId = i;
  if (type === 'TRADE_LITE') {
    const t = idv(get(f, 't'));
    const px = units(get(f, 'L'), sc.priceDecimals);
    const q = units(get(f, 'l'), sc.qtyDecimals);
    if (t === undefined || px === undefined || q === undefined || !boolOk(get(f, 'm'))) return undefined;
    Object.assign(out, { kind: 'fill', state: 'PARTIALLY_FILLED', tradeId: t, fillPrice: px, fillQty: q, maker: isTrue(get(f, 'm')) });
  } else {
    const x = get(f, 'x');
    const X = get(f, 'X');
    const z = units(get(f, 'z'), sc.qtyDecimals);
    if (x?.t !== 'str' || X?.t !== 'str' || z === undefined) return undefined;
    out.kind = BN_KIND[x.v] ?? 'ack';
    out.state = BN_STATE[X.v] ?? 'ACKED';
    out.cumQty = z;
    if (!isOtu) {
      const C = optStr(get(f, 'C'));
      if (C === undefined) return undefined;
      if (x.v === 'CANCELED' && C !== '') out.clientOrderId = C;
    }
    if (out.kind === 'fill') {
      const t = idv(get(f, 't'));
      const N = optStr(get(f, 'N'));
      const px = units(get(f, 'L'), sc.priceDecimals);
      const q = units(get(f, 'l'), sc.qtyDecimals);
      const n = get(f, 'n') === undefined ? 0 : fee(get(f, 'n'));
      if (t === undefined || N === undefined || px === undefined || q === undefined || n === undefined || !boolOk(get(f, 'm'))) return undefined;
      Object.assign(out, { tradeId: !isOtu && t === '-1' ? '' : t, fillPrice: px, fillQty: q, fee: n, feeAsset: N, maker: isTrue(get(f, 'm')) });
    }
    if (out.kind === 'reject' && !isOtu) {
      const r = optStr(get(f, 'r'));
      if (r === undefined) return undefined;
      out.reason = r;
    }
    if (out.kind === 'amend') {
      const p = units(get(f, 'p'), sc.priceDecimals);
      const q = units(get(f, 'q'), sc.qtyDecimals);
      if (p === undefined || q === undefined) return undefined;
      out.orderPrice = p;
      out.orderQty = q;
    }
  }
  const T = uint(get(f, 'T'));
  const E = uint(get(ev, 'E'));
  if (T === undefined || E === undefined) return undefined;
  out.exchTimeMs = T || E;
  return inRange(out) ? out : undefined;
}

/** A Bybit private frame: its events (order / execution topics), 'none' for other frames, undefined when invalid. */
export function refBybitPrivate(text: string, scale: Scale): EvRef[] | 'none' | undefined {
  const root = parseRef(text);
  if (root?.t !== 'obj') return undefined;
  const op = get(root, 'op');
  if (op !== undefined && !(op.t === 'lit' && op.v === null) && !(op.t === 'str' && op.v === '')) return 'none';
  const topic = get(root, 'topic');
  const base = topic?.t === 'str' ? topic.v.split('.')[0] : topic?.t === 'num' ? topic.raw.split('.')[0] : '';
  if (base !== 'order' && base !== 'execution') return 'none';
  const data = get(root, 'data');
  if (data?.t !== 'arr') return undefined;
  const out: EvRef[] = [];
  for (const it of data.v) {
    if (it.t !== 'obj') return undefined;
    const cat = get(it, 'category');
    const symbol = get(it, 'symbol');
    const et = base === 'execution' ? optStr(get(it, 'execType')) : '';
    if (cat?.t !== 'str' || symbol?.t !== 'str' || et === undefined) return undefined;
    const venue: VenueId | undefined = cat.v === 'spot' ? 'bybitSpot' : cat.v === 'linear' ? 'bybitLinear' : undefined;
    if (!venue) continue;
    if (et !== 'Trade' && et !== '') continue;
    const sc = scale(venue, symbol.v);
    if (!sc) continue;
    const e = blank(venue, symbol.v);
    const link = get(it, 'orderLinkId');
    const id = idv(get(it, 'orderId'));
    if (link?.t !== 'str' || id === undefined) return undefined;
    e.clientOrderId = link.v;
    e.exchangeOrderId = id;
    const tm = uint(get(it, base === 'order' ? 'updatedTime' : 'execTime'));
    if (tm === undefined) return undefined;
    e.exchTimeMs = tm;
    if (base === 'order') {
      const st = get(it, 'orderStatus');
      const rr = optStr(get(it, 'rejectReason'));
      const cum = units(get(it, 'cumExecQty'), sc.qtyDecimals);
      if (st?.t !== 'str' || rr === undefined || cum === undefined) return undefined;
      const S: Record<string, string> = {
        New: 'ACKED',
        Untriggered: 'ACKED',
        Triggered: 'ACKED',
        Created: 'ACKED',
        PartiallyFilled: 'PARTIALLY_FILLED',
        Filled: 'FILLED',
        Cancelled: 'CANCELED',
        PartiallyFilledCanceled: 'CANCELED',
        Deactivated: 'CANCELED',
        Rejected: 'REJECTED',
      };
      e.state = S[st.v] ?? 'ACKED';
      e.kind = e.state === 'PARTIALLY_FILLED' || e.state === 'FILLED' ? 'fill' : e.state === 'CANCELED' ? 'cancel' : e.state === 'REJECTED' ? 'reject' : 'ack';
      e.cumQty = cum;
      if (rr !== '' && rr !== 'EC_NoError') e.reason = rr;
    } else {
      const execId = idv(get(it, 'execId'));
      const leaves = optStr(get(it, 'leavesQty'));
      const fa = optStr(get(it, 'feeCurrency'));
      const px = units(get(it, 'execPrice'), sc.priceDecimals);
      const q = units(get(it, 'execQty'), sc.qtyDecimals);
      const fv = get(it, 'execFee');
      const f = fv === undefined || (fv.t === 'str' && fv.v === '') ? 0 : fee(fv);
      const ln = leaves === '' ? -1 : leaves === undefined ? undefined : fee({ t: 'str', v: leaves });
      if (execId === undefined || fa === undefined || px === undefined || q === undefined || f === undefined || ln === undefined || !boolOk(get(it, 'isMaker')))
        return undefined;
      Object.assign(e, {
        kind: 'fill',
        state: ln === 0 ? 'FILLED' : 'PARTIALLY_FILLED',
        tradeId: execId,
        fillPrice: px,
        fillQty: q,
        fee: f,
        feeAsset: fa,
        maker: isTrue(get(it, 'isMaker')),
      });
    }
    if (!inRange(e)) return undefined;
    out.push(e);
  }
  return out;
}
