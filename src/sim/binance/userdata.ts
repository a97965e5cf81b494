/**
 * Binance user data: Spot events over WS API subscriptions (`{"subscriptionId":N,"event":{..}}`), USD-M events over
 * listenKey streams (`/private/ws?listenKey=K[&events=A/B]`, `/private/stream?...`, or a bare `/private/ws|stream` and a
 * JSON SUBSCRIBE of `K` / `K@<EVENT>` items, see venue.ts onPrivateMessage), driven by the core's onOrder.
 * Account pushes (outboundAccountPosition / ACCOUNT_UPDATE) are coalesced per account into one microtask, after the
 * core has applied the fill to the account.
 */
import { randomBytes } from 'node:crypto';
import type { SimContext, SimFill, SimMarketId, SimOrder } from '../core/types.js';
import { wsSend, type BnSocket } from './conn.js';
import { InstFmt, amt, executionReport, orderTradeUpdate, q, tradeLite, type BnKind } from './format.js';

/** USD-M user-data event types (shared/exchange/binance.md section 7): the names `events=` and listenKey items filter on */
export const USDM_USER_EVENTS: ReadonlySet<string> = new Set([
  'ORDER_TRADE_UPDATE',
  'TRADE_LITE',
  'ACCOUNT_UPDATE',
  'ALGO_UPDATE',
  'CONDITIONAL_ORDER_TRIGGER_REJECT',
  'MARGIN_CALL',
  'ACCOUNT_CONFIG_UPDATE',
  'STRATEGY_UPDATE',
  'GRID_UPDATE',
  'listenKeyExpired',
]);

interface ListenKey {
  key: string;
  accountId: string;
  expiresAt: number;
  timer: NodeJS.Timeout;
  conns: Set<BnSocket>;
}

interface SpotSub {
  ws: BnSocket;
  subId: number;
}

export class UserData {
  private readonly fmts = new Map<string, InstFmt>();
  private readonly spotSubs = new Map<string, SpotSub[]>();
  private readonly keys = new Map<string, ListenKey>();
  private readonly keyByAccount = new Map<string, ListenKey>();
  private execId = 0;
  /** client id of the Spot cancel request being executed (set by the ops around book.cancel) */
  cancelClientId: string | undefined;
  /** the order being amended (set by the ops around book.amend): its no-fill event is AMENDMENT (USD-M) / REPLACED (Spot) */
  amending: { orderId: string; origClientOrderId: string } | undefined;
  /** Spot: execution id of the last REPLACED event (allocated even when nobody listens) */
  lastAmendExecId = 0;
  /** accounts (and the symbols they touched) with a pending account push */
  private readonly pendingAcc = new Map<string, Set<string>>();
  /** accounts -> fee assets of their pending fills (a BNB fee moves BNB too) */
  private readonly pendingFeeAssets = new Map<string, Set<string>>();
  private flushQueued = false;
  /** extra observers of order events (algo orders) */
  orderObservers: Array<(symbol: string, o: SimOrder, fill: SimFill | undefined) => void> = [];

  constructor(
    private readonly ctx: SimContext,
    private readonly market: SimMarketId,
    private readonly kind: BnKind,
    private readonly listenKeyTtlMs: number,
  ) {
    for (const [sym, book] of ctx.books.get(market) ?? []) {
      this.fmts.set(sym, new InstFmt(book.instrument, kind));
      book.addListener(this);
    }
  }

  close(): void {
    for (const book of this.ctx.books.get(this.market)?.values() ?? []) book.removeListener(this);
    for (const k of this.keys.values()) clearTimeout(k.timer);
    this.keys.clear();
    this.keyByAccount.clear();
  }

  onLevels(): void {}
  onTrade(): void {}

  hasListeners(accountId: string): boolean {
    return this.kind === 'spot' ? (this.spotSubs.get(accountId)?.length ?? 0) > 0 : this.usdmListening(accountId);
  }

  onOrder(symbol: string, o: SimOrder, fill: SimFill | undefined): void {
    for (const ob of this.orderObservers) ob(symbol, o, fill);
    const f = this.fmts.get(symbol);
    const amended = !fill && this.amending !== undefined && this.amending.orderId === o.orderId;
    if (amended && this.kind === 'spot') this.lastAmendExecId = ++this.execId;
    if (!f || !this.hasListeners(o.accountId)) return;
    const x = fill ? 'TRADE' : amended ? (this.kind === 'spot' ? 'REPLACED' : 'AMENDMENT') : o.status === 'PARTIALLY_FILLED' ? 'NEW' : o.status;
    const now = this.ctx.nowMs(this.market);
    if (this.kind === 'spot') {
      // on a cancel, `c` is the cancel request's client id and `C` the order's own; on an amend (REPLACED) `c` is the
      // order's new client id and `C` the one it had before
      const canceled = o.status === 'CANCELED';
      const orig = canceled ? o.clientOrderId : amended ? this.amending!.origClientOrderId : '';
      const execId = amended ? this.lastAmendExecId : ++this.execId;
      const er = executionReport(o, fill, f, x, now, execId, orig, canceled ? this.cancelClientId : undefined);
      this.sendSpot(o.accountId, er);
      this.queueAccount(o.accountId, symbol, fill?.feeAsset);
    } else {
      this.sendUsdm(o.accountId, 'ORDER_TRADE_UPDATE', orderTradeUpdate(o, fill, f, x, now));
      if (fill) {
        this.sendUsdm(o.accountId, 'TRADE_LITE', tradeLite(o, fill, f, now));
        this.queueAccount(o.accountId, symbol, fill.feeAsset);
      }
    }
  }

  /** NEW/EXPIRED events for an order the core rejected but the venue reports as EXPIRED (Spot FOK). */
  syntheticOrderEvents(symbol: string, o: SimOrder, statuses: Array<'NEW' | 'EXPIRED'>): void {
    const f = this.fmts.get(symbol);
    if (!f || !this.hasListeners(o.accountId)) return;
    const now = this.ctx.nowMs(this.market);
    for (const s of statuses) {
      const v: SimOrder = { ...o, status: s };
      if (this.kind === 'spot') this.sendSpot(o.accountId, executionReport(v, undefined, f, s, now, ++this.execId, ''));
      else this.sendUsdm(o.accountId, 'ORDER_TRADE_UPDATE', orderTradeUpdate(v, undefined, f, s, now));
    }
  }

  // ------------------------------------------------------------------------------------------ account pushes
  /** `feeAsset`: the asset a fill's fee moved (BNB with the discount on), pushed with the symbol's assets */
  private queueAccount(accountId: string, symbol: string, feeAsset?: string): void {
    let s = this.pendingAcc.get(accountId);
    if (!s) this.pendingAcc.set(accountId, (s = new Set()));
    s.add(symbol);
    if (feeAsset) {
      let a = this.pendingFeeAssets.get(accountId);
      if (!a) this.pendingFeeAssets.set(accountId, (a = new Set()));
      a.add(feeAsset);
    }
    if (!this.flushQueued) {
      this.flushQueued = true;
      queueMicrotask(() => this.flushAccounts());
    }
  }

  private flushAccounts(): void {
    this.flushQueued = false;
    const now = this.ctx.nowMs(this.market);
    for (const [accountId, syms] of this.pendingAcc) {
      const acc = this.ctx.account(accountId);
      if (!acc) continue;
      if (this.kind === 'spot') {
        const assets = new Set<string>();
        for (const s of syms) {
          const f = this.fmts.get(s);
          if (f) {
            assets.add(f.inst.base);
            assets.add(f.inst.quote);
          }
        }
        for (const a of this.pendingFeeAssets.get(accountId) ?? []) assets.add(a);
        const B: string[] = [];
        for (const a of assets) {
          const b = acc.wallets.binanceSpot.get(a) ?? { free: 0, locked: 0 };
          B.push(`{"a":${q(a)},"f":"${amt(b.free)}","l":"${amt(b.locked)}"}`);
        }
        this.sendSpot(accountId, `{"e":"outboundAccountPosition","E":${now},"u":${now},"B":[${B.join(',')}]}`);
      } else {
        const B: string[] = [];
        const P: string[] = [];
        const quotes = new Set<string>();
        for (const s of syms) {
          const f = this.fmts.get(s);
          if (!f) continue;
          quotes.add(f.inst.quote);
          const pos = acc.positions.get(`${this.market}:${s}`);
          const size = pos?.sizeLots ?? 0;
          const ins = f.inst;
          const ep = size === 0 ? '0' : ((pos?.entryPriceTicks ?? 0) / 10 ** ins.priceDecimals).toFixed(ins.priceDecimals);
          P.push(
            `{"s":${q(s)},"pa":"${(size < 0 ? '-' : '') + f.qty(Math.abs(size))}","ep":"${ep}","bep":"${ep}","cr":"${amt(pos?.realizedPnlQuote ?? 0)}","up":"0","mt":"cross","iw":"0","ps":"BOTH"}`,
          );
        }
        for (const a of this.pendingFeeAssets.get(accountId) ?? []) quotes.add(a);
        for (const a of quotes) {
          const b = acc.wallets.binanceUsdm.get(a) ?? { free: 0, locked: 0 };
          const wb = amt(b.free + b.locked);
          B.push(`{"a":${q(a)},"wb":"${wb}","cw":"${wb}","bc":"0"}`);
        }
        this.sendUsdm(accountId, 'ACCOUNT_UPDATE', `{"e":"ACCOUNT_UPDATE","T":${now},"E":${now},"a":{"m":"ORDER","B":[${B.join(',')}],"P":[${P.join(',')}]}}`);
      }
    }
    this.pendingAcc.clear();
    this.pendingFeeAssets.clear();
  }

  // ------------------------------------------------------------------------------------------ Spot (WS API)
  subscribeSpot(ws: BnSocket, accountId: string, subId: number): void {
    let l = this.spotSubs.get(accountId);
    if (!l) this.spotSubs.set(accountId, (l = []));
    l.push({ ws, subId });
  }

  /** remove one subscription (subId) or all of a socket; sends eventStreamTerminated when `notify` */
  unsubscribeSpot(ws: BnSocket, subId: number | undefined, notify: boolean): number[] {
    const removed: number[] = [];
    for (const [acc, l] of this.spotSubs) {
      for (let i = l.length - 1; i >= 0; i--) {
        const s = l[i]!;
        if (s.ws === ws && (subId === undefined || s.subId === subId)) {
          l.splice(i, 1);
          removed.push(s.subId);
          if (notify) wsSend(ws, `{"subscriptionId":${s.subId},"event":{"e":"eventStreamTerminated","E":${this.ctx.nowMs(this.market)}}}`);
        }
      }
      if (l.length === 0) this.spotSubs.delete(acc);
    }
    return removed;
  }

  private sendSpot(accountId: string, event: string): void {
    const l = this.spotSubs.get(accountId);
    if (!l) return;
    for (let i = 0; i < l.length; i++) {
      const s = l[i]!;
      wsSend(s.ws, '{"subscriptionId":' + s.subId + ',"event":' + event + '}');
    }
  }

  // ------------------------------------------------------------------------------------------ USD-M listenKeys
  /** POST listenKey / userDataStream.start: the account's key (created, or extended if it exists). */
  startKey(accountId: string): string {
    const k = this.keyByAccount.get(accountId);
    if (k) {
      this.extend(k);
      return k.key;
    }
    const b = randomBytes(64);
    let key = '';
    const A = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
    for (let i = 0; i < 64; i++) key += A[b[i]! % 62]!;
    const rec: ListenKey = { key, accountId, expiresAt: 0, timer: setTimeout(() => {}, 0), conns: new Set() };
    this.keys.set(key, rec);
    this.keyByAccount.set(accountId, rec);
    this.extend(rec);
    return key;
  }

  /** PUT listenKey / userDataStream.ping: extend; undefined if the account has no key. */
  keepAlive(accountId: string): string | undefined {
    const k = this.keyByAccount.get(accountId);
    if (!k) return undefined;
    this.extend(k);
    return k.key;
  }

  /** DELETE listenKey / userDataStream.stop */
  stopKey(accountId: string): boolean {
    const k = this.keyByAccount.get(accountId);
    if (!k) return false;
    this.dropKey(k);
    for (const ws of k.conns) ws.end(1000, 'listenKey closed');
    return true;
  }

  keyAccount(key: string): string | undefined {
    return this.keys.get(key)?.accountId;
  }

  private extend(k: ListenKey): void {
    clearTimeout(k.timer);
    k.expiresAt = this.ctx.nowMs(this.market) + this.listenKeyTtlMs;
    k.timer = setTimeout(() => this.expire(k), this.listenKeyTtlMs);
    k.timer.unref?.();
  }

  private dropKey(k: ListenKey): void {
    clearTimeout(k.timer);
    this.keys.delete(k.key);
    if (this.keyByAccount.get(k.accountId) === k) this.keyByAccount.delete(k.accountId);
  }

  private expire(k: ListenKey): void {
    const ev = `{"e":"listenKeyExpired","E":${this.ctx.nowMs(this.market)},"listenKey":"${k.key}"}`;
    for (const ws of k.conns) this.sendPrivate(ws, k.key, 'listenKeyExpired', ev);
    this.dropKey(k);
    for (const ws of k.conns) ws.end(1000, 'listenKeyExpired');
    k.conns.clear();
  }

  /** a /private connection opened: attach it to its query keys (none: it subscribes later); false if a key is gone */
  attach(ws: BnSocket): boolean {
    const d = ws.getUserData();
    if (!d.keys || d.keys.size === 0) return true;
    for (const key of d.keys.keys()) if (!this.keys.has(key)) return false;
    for (const key of d.keys.keys()) this.keys.get(key)!.conns.add(ws);
    return true;
  }

  /**
   * SUBSCRIBE of a listenKey item on a /private connection: start the key's user data on this socket, all events
   * (`event` undefined) or one more event type on its filter. False if the key does not exist (or expired).
   */
  subscribeKey(ws: BnSocket, key: string, event: string | undefined): boolean {
    const k = this.keys.get(key);
    if (!k) return false;
    const d = ws.getUserData();
    if (!d.keys) d.keys = new Map();
    const cur = d.keys.get(key);
    if (event === undefined) d.keys.set(key, undefined);
    else if (!d.keys.has(key)) d.keys.set(key, new Set([event]));
    else cur?.add(event); // a key subscribed for all events stays so
    k.conns.add(ws);
    return true;
  }

  /** UNSUBSCRIBE of a listenKey item: drop the key (or one event type of its filter; the last one drops the key) */
  unsubscribeKey(ws: BnSocket, key: string, event: string | undefined): void {
    const d = ws.getUserData();
    if (!d.keys?.has(key)) return;
    const cur = d.keys.get(key);
    if (event !== undefined) {
      if (cur === undefined) return; // all events: one type cannot be taken out of "all"
      cur.delete(event);
      if (cur.size > 0) return;
    }
    d.keys.delete(key);
    this.keys.get(key)?.conns.delete(ws);
  }

  detach(ws: BnSocket): void {
    const d = ws.getUserData();
    if (d.keys) for (const key of d.keys.keys()) this.keys.get(key)?.conns.delete(ws);
    this.unsubscribeSpot(ws, undefined, false);
  }

  private sendPrivate(ws: BnSocket, key: string, type: string, data: string): void {
    const d = ws.getUserData();
    const filter = d.keys?.get(key);
    if (filter && !filter.has(type) && type !== 'listenKeyExpired') return;
    wsSend(ws, d.combined ? `{"stream":"${key}","data":${data}}` : data);
  }

  sendUsdm(accountId: string, type: string, data: string): void {
    const k = this.keyByAccount.get(accountId);
    if (!k) return;
    for (const ws of k.conns) this.sendPrivate(ws, k.key, type, data);
  }

  usdmListening(accountId: string): boolean {
    return (this.keyByAccount.get(accountId)?.conns.size ?? 0) > 0;
  }
}
