/**
 * USD-M algo (conditional) orders: `POST/DELETE /fapi/v1/algoOrder`, `DELETE /fapi/v1/algoOpenOrders`,
 * `GET /fapi/v1/openAlgoOrders`. A NEW algo order waits outside the book; when the book crosses its trigger price
 * (BUY stop: best ask >= trigger; SELL stop: best bid <= trigger; take-profits the other way) it goes
 * TRIGGERING -> TRIGGERED (an order is placed in the book) -> FINISHED (that order is done), each as ALGO_UPDATE.
 */
import { parseScaled } from '../../util/fixed.js';
import type { SimAccount, SimBook, SimBookListener, SimContext, SimFill, SimMarketId, SimOrder, SimSide, SimTimeInForce } from '../core/types.js';
import { BnError, E } from './errors.js';
import { type InstFmt, q } from './format.js';
import { FILTERS } from './info.js';
import { genClientId, type BnOps, type Params } from './ops.js';
import type { UserData } from './userdata.js';

type AlgoType = 'STOP_MARKET' | 'TAKE_PROFIT_MARKET' | 'STOP' | 'TAKE_PROFIT';
type AlgoStatus = 'NEW' | 'CANCELED' | 'TRIGGERING' | 'TRIGGERED' | 'FINISHED' | 'REJECTED' | 'EXPIRED';

interface Algo {
  algoId: number;
  clientAlgoId: string;
  accountId: string;
  symbol: string;
  side: SimSide;
  type: AlgoType;
  tif: SimTimeInForce;
  qtyLots: number;
  priceTicks: number;
  triggerTicks: number;
  reduceOnly: boolean;
  status: AlgoStatus;
  orderId: string;
  order: SimOrder | undefined;
  createMs: number;
  updateMs: number;
  triggerMs: number;
}

const DEC_RE = /^([0-9]{1,20})(\.[0-9]{1,20})?$/;

export class AlgoOrders implements SimBookListener {
  private nextId = 1000000000000001;
  private readonly open = new Map<number, Algo>();
  private readonly bySymbol = new Map<string, number>();
  private readonly byOrderId = new Map<string, Algo>();
  private checkQueued = new Set<string>();

  constructor(
    private readonly ctx: SimContext,
    private readonly market: SimMarketId,
    private readonly ops: BnOps,
    private readonly ud: UserData,
  ) {
    for (const book of ctx.books.get(market)?.values() ?? []) book.addListener(this);
    ud.orderObservers.push((_s, o) => this.onOrderChange(o));
  }

  close(): void {
    for (const book of this.ctx.books.get(this.market)?.values() ?? []) book.removeListener(this);
  }

  private now(): number {
    return this.ctx.nowMs(this.market);
  }

  // ------------------------------------------------------------------------------------------ REST
  place(acc: SimAccount, p: Params): string | BnError {
    const at = p.get('algoType');
    if (!at) return E.mandatory('algoType');
    if (at !== 'CONDITIONAL') return E.invalidParam('algoType');
    const sr = this.ops.sym(p);
    if (sr instanceof BnError) return sr;
    const { book, fmt } = sr!;
    const side = p.get('side');
    if (!side) return E.mandatory('side');
    if (side !== 'BUY' && side !== 'SELL') return E.invalidSide();
    const type = p.get('type');
    if (!type) return E.mandatory('type');
    if (type !== 'STOP_MARKET' && type !== 'TAKE_PROFIT_MARKET' && type !== 'STOP' && type !== 'TAKE_PROFIT') return E.invalidType();
    const ps = p.get('positionSide');
    if (ps !== undefined && ps !== 'BOTH') return new BnError(400, -4061, "Order's position side does not match user's setting.");
    const trig = this.px(p.get('triggerPrice'), fmt, 'triggerPrice');
    if (trig instanceof BnError) return trig;
    const qtyText = p.get('quantity');
    if (!qtyText) return E.mandatory('quantity');
    if (!DEC_RE.test(qtyText)) return E.illegalChars('quantity', '^([0-9]{1,20})(\\.[0-9]{1,20})?$');
    const lots = parseScaled(qtyText, fmt.inst.qtyDecimals);
    if (Number.isNaN(lots)) return E.futPrecision();
    if (lots <= 0) return E.futQtyZero();
    if (lots % fmt.stepUnits !== 0) return E.futStep();
    let priceTicks = 0;
    let tif: SimTimeInForce = 'GTC';
    if (type === 'STOP' || type === 'TAKE_PROFIT') {
      const pt = this.px(p.get('price'), fmt, 'price');
      if (pt instanceof BnError) return pt;
      priceTicks = pt;
      const t = p.get('timeInForce') ?? 'GTC';
      if (t === 'GTX') tif = 'POST_ONLY';
      else if (t === 'GTC' || t === 'IOC' || t === 'FOK') tif = t;
      else return E.invalidTif();
    }
    const ro = p.get('reduceOnly');
    if (ro !== undefined && ro !== 'true' && ro !== 'false') return E.invalidParam('reduceOnly');
    let cid = p.get('clientAlgoId');
    if (cid === undefined || cid.length === 0) cid = genClientId('x-algo');
    else if (cid.length > 36 || !/^[.A-Z:/a-z0-9_-]{1,36}$/.test(cid)) return E.illegalChars('clientAlgoId', '^[\\.A-Z\\:/a-z0-9_-]{1,36}$');
    for (const a of this.open.values()) if (a.accountId === acc.id && a.clientAlgoId === cid) return E.futDuplicate();
    // MAX_NUM_ALGO_ORDERS: open conditional orders of the account on the symbol
    let n = 0;
    for (const a of this.open.values()) if (a.accountId === acc.id && a.symbol === fmt.inst.symbol && a.status === 'NEW') n++;
    if (n >= FILTERS.usdmMaxAlgoOrders) return E.futMaxAlgoOrders();
    const now = this.now();
    const algo: Algo = {
      algoId: this.nextId++,
      clientAlgoId: cid,
      accountId: acc.id,
      symbol: fmt.inst.symbol,
      side,
      type,
      tif,
      qtyLots: lots,
      priceTicks,
      triggerTicks: trig,
      reduceOnly: ro === 'true',
      status: 'NEW',
      orderId: '',
      order: undefined,
      createMs: now,
      updateMs: now,
      triggerMs: 0,
    };
    if (this.crossed(algo, book)) return new BnError(400, -2021, 'Order would immediately trigger.');
    this.open.set(algo.algoId, algo);
    this.bySymbol.set(algo.symbol, (this.bySymbol.get(algo.symbol) ?? 0) + 1);
    this.emit(algo);
    return this.json(algo, fmt);
  }

  cancel(acc: SimAccount, p: Params): string | BnError {
    const idText = p.get('algoId');
    const cid = p.get('clientAlgoId');
    if (!idText && !cid) return E.eitherParam('algoId', 'clientAlgoId');
    let found: Algo | undefined;
    for (const a of this.open.values()) {
      if (a.accountId !== acc.id) continue;
      if (idText ? String(a.algoId) === idText : a.clientAlgoId === cid) found = a;
    }
    if (found?.status !== 'NEW') return E.cancelRejected();
    this.finish(found, 'CANCELED');
    return `{"algoId":${found.algoId},"clientAlgoId":${q(found.clientAlgoId)},"code":"200","msg":"success"}`;
  }

  cancelAll(acc: SimAccount, p: Params): string | BnError {
    const sr = this.ops.sym(p);
    if (sr instanceof BnError) return sr;
    const sym = sr!.fmt.inst.symbol;
    for (const a of [...this.open.values()]) if (a.accountId === acc.id && a.symbol === sym && a.status === 'NEW') this.finish(a, 'CANCELED');
    return '{"code":200,"msg":"The operation of cancel all open order is done."}';
  }

  list(acc: SimAccount, p: Params): string | BnError {
    const sr = this.ops.sym(p, false);
    if (sr instanceof BnError) return sr;
    const out: string[] = [];
    for (const a of this.open.values()) {
      if (a.accountId !== acc.id || a.status !== 'NEW') continue;
      if (sr && a.symbol !== sr.fmt.inst.symbol) continue;
      out.push(this.json(a, this.ops.fmts.get(a.symbol)!));
    }
    return '[' + out.join(',') + ']';
  }

  // ------------------------------------------------------------------------------------------ triggering
  onLevels(symbol: string): void {
    if ((this.bySymbol.get(symbol) ?? 0) === 0 || this.checkQueued.has(symbol)) return;
    // never mutate a book from inside its own listener: check after the batch
    this.checkQueued.add(symbol);
    queueMicrotask(() => {
      this.checkQueued.delete(symbol);
      this.check(symbol);
    });
  }
  onTrade(): void {}
  onOrder(): void {}

  private crossed(a: Algo, book: SimBook): boolean {
    const stop = a.type === 'STOP' || a.type === 'STOP_MARKET';
    if (a.side === 'BUY') {
      const ask = book.bestAsk();
      if (!ask) return false;
      return stop ? ask.priceTicks >= a.triggerTicks : ask.priceTicks <= a.triggerTicks;
    }
    const bid = book.bestBid();
    if (!bid) return false;
    return stop ? bid.priceTicks <= a.triggerTicks : bid.priceTicks >= a.triggerTicks;
  }

  private check(symbol: string): void {
    const book = this.ctx.books.get(this.market)?.get(symbol);
    if (!book) return;
    for (const a of [...this.open.values()]) {
      if (a.symbol !== symbol || a.status !== 'NEW' || !this.crossed(a, book)) continue;
      this.trigger(a, book);
    }
  }

  private trigger(a: Algo, book: SimBook): void {
    const now = this.now();
    a.status = 'TRIGGERING';
    a.triggerMs = now;
    a.updateMs = now;
    this.emit(a);
    this.bySymbol.set(a.symbol, (this.bySymbol.get(a.symbol) ?? 1) - 1);
    const market = a.type === 'STOP_MARKET' || a.type === 'TAKE_PROFIT_MARKET';
    const r = book.submit({
      accountId: a.accountId,
      clientOrderId: a.clientAlgoId,
      side: a.side,
      type: market ? 'MARKET' : 'LIMIT',
      tif: market ? 'GTC' : a.tif,
      priceTicks: market ? 0 : a.priceTicks,
      qtyLots: a.qtyLots,
      reduceOnly: a.reduceOnly,
    });
    if (!r.ok) {
      a.status = 'REJECTED';
      this.emit(a);
      this.open.delete(a.algoId);
      return;
    }
    a.order = r.order;
    a.orderId = r.order.orderId;
    a.status = 'TRIGGERED';
    this.emit(a);
    if (isFinal(r.order)) {
      a.status = 'FINISHED';
      this.emit(a);
      this.open.delete(a.algoId);
    } else this.byOrderId.set(a.orderId, a);
  }

  private onOrderChange(o: SimOrder): void {
    if (this.byOrderId.size === 0) return;
    const a = this.byOrderId.get(o.orderId);
    if (!a || !isFinal(o)) return;
    this.byOrderId.delete(o.orderId);
    a.order = o;
    a.status = 'FINISHED';
    queueMicrotask(() => {
      this.emit(a);
      this.open.delete(a.algoId);
    });
  }

  private finish(a: Algo, status: AlgoStatus): void {
    a.status = status;
    a.updateMs = this.now();
    this.emit(a);
    this.open.delete(a.algoId);
    this.bySymbol.set(a.symbol, Math.max(0, (this.bySymbol.get(a.symbol) ?? 1) - 1));
  }

  // ------------------------------------------------------------------------------------------ wire
  private px(text: string | undefined, f: InstFmt, name: string): number | BnError {
    if (!text) return E.mandatory(name);
    if (!DEC_RE.test(text)) return E.illegalChars(name, '^([0-9]{1,20})(\\.[0-9]{1,20})?$');
    const t = parseScaled(text, f.inst.priceDecimals);
    if (Number.isNaN(t)) return E.futPrecision();
    if (t <= 0) return new BnError(400, -4001, 'Price less than 0.');
    if (t % f.tickUnits !== 0) return E.futTick();
    return t;
  }

  private tifName(a: Algo): string {
    return a.tif === 'POST_ONLY' ? 'GTX' : a.tif;
  }

  private json(a: Algo, f: InstFmt): string {
    return (
      `{"algoId":${a.algoId},"clientAlgoId":${q(a.clientAlgoId)},"algoType":"CONDITIONAL","orderType":"${a.type}","symbol":"${a.symbol}","side":"${a.side}",` +
      `"positionSide":"BOTH","timeInForce":"${this.tifName(a)}","quantity":"${f.qty(a.qtyLots)}","algoStatus":"${a.status}","triggerPrice":"${f.px(a.triggerTicks)}",` +
      `"price":"${a.priceTicks ? f.px(a.priceTicks) : '0'}","icebergQuantity":null,"selfTradePreventionMode":"EXPIRE_MAKER","workingType":"CONTRACT_PRICE",` +
      `"priceMatch":"NONE","closePosition":false,"priceProtect":false,"reduceOnly":${a.reduceOnly},"activatePrice":"","callbackRate":"",` +
      `"createTime":${a.createMs},"updateTime":${a.updateMs},"triggerTime":${a.triggerMs},"goodTillDate":0}`
    );
  }

  private emit(a: Algo): void {
    if (!this.ud.usdmListening(a.accountId)) return;
    const f = this.ops.fmts.get(a.symbol)!;
    const now = this.now();
    let extra = `"ai":"${a.orderId}"`;
    if (a.status === 'TRIGGERED' || a.status === 'FINISHED') {
      const o = a.order;
      extra += `,"ap":"${o ? (o.filledLots > 0 ? f.avgPx(o) : '0') : '0'}","aq":"${o ? (o.filledLots > 0 ? f.qty(o.filledLots) : '0') : '0'}","act":"${a.type.endsWith('MARKET') ? 'MARKET' : 'LIMIT'}"`;
    }
    const data =
      `{"e":"ALGO_UPDATE","T":${a.updateMs},"E":${now},"o":{"caid":${q(a.clientAlgoId)},"aid":${a.algoId},"at":"CONDITIONAL","o":"${a.type}","s":"${a.symbol}",` +
      `"S":"${a.side}","ps":"BOTH","f":"${this.tifName(a)}","q":"${f.qty(a.qtyLots)}","X":"${a.status}",${extra},"tp":"${f.px(a.triggerTicks)}",` +
      `"p":"${a.priceTicks ? f.px(a.priceTicks) : '0'}","V":"EXPIRE_MAKER","wt":"CONTRACT_PRICE","pm":"NONE","cp":false,"pP":false,"R":${a.reduceOnly},` +
      `"tt":${a.triggerMs},"gtd":0}}`;
    this.ud.sendUsdm(a.accountId, 'ALGO_UPDATE', data);
  }
}

function isFinal(o: SimOrder): boolean {
  return o.status === 'FILLED' || o.status === 'CANCELED' || o.status === 'EXPIRED' || o.status === 'REJECTED';
}

export type { SimFill };
