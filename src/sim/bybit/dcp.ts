/**
 * Disconnection Protection (DCP), Bybit's dead-man switch: off for every product unless `dcpEnabled` (Bybit: the
 * account manager switches it on). `GET /v5/account/query-dcp-info`, `POST /v5/order/disconnected-cancel-all`, and the
 * countdown: when the last private connection of an account that subscribed the product's `dcp.*` topic goes away,
 * every active order of the product is cancelled after the window (`cancelType: "CancelByDCP"`), unless a connection
 * subscribes the topic again before it ends.
 */
import type { Category } from './common.js';
import type { EpResult } from './errors.js';
import type { DcpProduct } from './options.js';
import type { VenueState, AcctState } from './state.js';

/** the private topic that arms DCP for a product, and the sim category it cancels (none for options) */
export const DCP_TOPIC: Record<DcpProduct, string> = { DERIVATIVES: 'dcp.future', SPOT: 'dcp.spot', OPTIONS: 'dcp.option' };
export const DCP_CATEGORY: Record<DcpProduct, Category | undefined> = { DERIVATIVES: 'linear', SPOT: 'spot', OPTIONS: undefined };
export const DCP_PRODUCTS: readonly DcpProduct[] = ['SPOT', 'DERIVATIVES', 'OPTIONS'];

export class Dcp {
  constructor(private readonly s: VenueState) {}

  private on(product: DcpProduct): boolean {
    return this.s.opts.dcpEnabled?.[product] === true;
  }

  /** GET /v5/account/query-dcp-info: the products DCP is switched on for (empty when none) */
  info(apiKey: string): EpResult {
    const a = this.s.acct(apiKey);
    const items = DCP_PRODUCTS.filter((p) => this.on(p)).map((p) => `{"product":"${p}","dcpStatus":"ON","timeWindow":"${a.dcp[p].windowSec}"}`);
    return { code: 0, msg: 'success', result: `{"dcpInfos":[${items.join(',')}]}` };
  }

  /**
   * POST /v5/order/disconnected-cancel-all `{product?: OPTIONS|DERIVATIVES|SPOT, timeWindow: 3..300}`. Applied at once
   * (Bybit: "takes ~10 s"). Error codes/messages for a bad window and for an account without DCP are guessed (not in
   * Bybit's docs): 10001 and 10005.
   */
  set(apiKey: string, p: Record<string, unknown>): EpResult {
    const prodIn = p['product'] ?? 'OPTIONS';
    if (prodIn !== 'OPTIONS' && prodIn !== 'DERIVATIVES' && prodIn !== 'SPOT') return { code: 10001, msg: 'params error: product invalid', result: '{}' };
    const product: DcpProduct = prodIn;
    const tw = p['timeWindow'];
    const sec = typeof tw === 'number' ? tw : typeof tw === 'string' && /^\d+$/.test(tw) ? Number(tw) : NaN;
    if (!Number.isInteger(sec) || sec < 3 || sec > 300) return { code: 10001, msg: 'params error: timeWindow must be an integer in [3, 300]', result: '{}' };
    if (!this.on(product)) return { code: 10005, msg: 'Permission denied: disconnection protection is not enabled for this account', result: '{}' };
    this.s.acct(apiKey).dcp[product].windowSec = sec;
    return { code: 0, msg: 'success', result: '{}' };
  }

  /** some live private connection of the account has subscribed the product's dcp topic */
  armed(a: AcctState, product: DcpProduct): boolean {
    const topic = DCP_TOPIC[product];
    for (const ws of a.conns) {
      const d = ws.getUserData();
      if (!d.closed && d.topics.has(topic)) return true;
    }
    return false;
  }

  /**
   * After a private connection that had dcp topics closed, or a dcp subscribe/unsubscribe: a subscribed live
   * connection stops the countdown; the last one going away (closed, not unsubscribed) starts it.
   */
  check(a: AcctState, topics: ReadonlySet<string>, closing = false): void {
    if (this.s.closed) return;
    for (const product of DCP_PRODUCTS) {
      if (!topics.has(DCP_TOPIC[product]) || !this.on(product)) continue;
      const dc = a.dcp[product];
      if (this.armed(a, product)) {
        if (dc.timer) clearTimeout(dc.timer);
        dc.timer = undefined;
      } else if (closing && !dc.timer) {
        dc.started++;
        dc.timer = setTimeout(() => this.fire(a, product), dc.windowSec * 1000);
      }
    }
  }

  /** the window passed with no dcp-subscribed private connection: cancel every active order of the product */
  private fire(a: AcctState, product: DcpProduct): void {
    const dc = a.dcp[product];
    dc.timer = undefined;
    if (this.s.closed || this.armed(a, product)) return;
    dc.fired++;
    const category = DCP_CATEGORY[product];
    if (!category) return;
    const apiKey = [...this.s.accts].find(([, v]) => v === a)?.[0];
    if (apiKey === undefined) return;
    let n = 0;
    this.s.cancelling = 'CancelByDCP';
    try {
      for (const st of this.s.syms.values()) if (st.category === category) n += st.book.cancelAll(apiKey).length;
    } finally {
      this.s.cancelling = undefined;
    }
    this.s.ctx.log.info({ product, cancelled: n, windowSec: dc.windowSec }, 'bybit sim: DCP fired');
  }
}
