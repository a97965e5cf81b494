/**
 * Cross-exchange signal: the leader's mid (Binance) moves first; when it is above the follower's mid (Bybit) by
 * more than `thresholdBps`, buy the follower with an IOC at its ask; below, sell at its bid. One order in flight
 * at a time, a cooldown between orders, and a position cap. Prices of the two instruments may use different
 * scales: both mids are compared in real price (units / 10^priceDecimals).
 */
import { F } from '../model/botstate.js';
import type { OrderEvent, OrderRequest } from '../model/orders.js';
import { TERMINAL_STATES } from '../model/orders.js';
import type { CrossVenueParams } from '../config/schema.js';
import type { Strategy, StrategyContext } from './types.js';
import { nowNs } from '../util/clock.js';

export class CrossVenueSignal implements Strategy {
  readonly name = 'crossVenue';
  private ctx!: StrategyContext;
  private p: CrossVenueParams;
  private lead = -1;
  private follow = -1;
  private leadScale = 1;
  private followScale = 1;
  private sizeUnits = 0;
  private maxPosUnits = 0;
  private inflight = '';
  private lastOrderNs = -Infinity;
  private readonly req: OrderRequest = { slot: 0, side: 'BUY', type: 'LIMIT', tif: 'IOC', price: 0, qty: 0 };
  /** signals seen / orders sent */
  signals = 0;
  sent = 0;
  /** last computed gap, bps (for status) */
  lastGapBps = 0;

  /** `clock`: monotonic ns (default the engine's `nowNs`; a backtest passes its virtual clock) */
  constructor(
    params: CrossVenueParams,
    private readonly clock: () => number = nowNs,
  ) {
    this.p = params;
  }

  start(ctx: StrategyContext): void {
    this.ctx = ctx;
    this.resolve();
  }

  private resolve(): void {
    const c = this.ctx;
    this.lead = c.slotOf(this.p.leader.venue, this.p.leader.symbol);
    this.follow = c.slotOf(this.p.follower.venue, this.p.follower.symbol);
    if (this.lead < 0 || this.follow < 0) throw new Error('crossVenue: leader and follower must be configured instruments');
    const li = c.instruments[this.lead]!;
    const fi = c.instruments[this.follow]!;
    this.leadScale = 10 ** li.priceDecimals;
    this.followScale = 10 ** fi.priceDecimals;
    const q = 10 ** fi.qtyDecimals;
    this.sizeUnits = Math.max(fi.lotUnits, Math.round((this.p.size * q) / fi.lotUnits) * fi.lotUnits);
    this.maxPosUnits = Math.round(this.p.maxPosition * q);
    this.req.slot = this.follow;
  }

  setParams(params: unknown): void {
    this.p = params as CrossVenueParams;
    this.resolve();
  }

  onTick(now: number): void {
    this.evaluate(now);
  }

  onBook(slot: number): void {
    if (slot === this.lead || slot === this.follow) this.evaluate(this.clock());
  }

  onOrderEvent(ev: OrderEvent): void {
    if (ev.clientOrderId === this.inflight && TERMINAL_STATES.has(ev.state)) this.inflight = '';
  }

  private evaluate(now: number): void {
    const s = this.ctx.state;
    if (!s.tradable(this.lead) || !s.tradable(this.follow)) return;
    const lm = s.get(this.lead, F.mid) / this.leadScale;
    const fm = s.get(this.follow, F.mid) / this.followScale;
    const gap = ((lm - fm) / fm) * 1e4;
    this.lastGapBps = gap;
    if (gap < this.p.thresholdBps && gap > -this.p.thresholdBps) return;
    this.signals++;
    if (this.inflight !== '' || now - this.lastOrderNs < this.p.cooldownMs * 1e6) return;
    const pos = this.ctx.portfolio.position(this.follow);
    const buy = gap > 0;
    if (buy ? pos + this.sizeUnits > this.maxPosUnits : pos - this.sizeUnits < -this.maxPosUnits) return;
    this.req.side = buy ? 'BUY' : 'SELL';
    this.req.price = buy ? s.get(this.follow, F.askPx) : s.get(this.follow, F.bidPx);
    this.req.qty = this.sizeUnits;
    const id = this.ctx.orders.place(this.req);
    this.lastOrderNs = now;
    if (id !== null) {
      this.inflight = id;
      this.sent++;
    }
  }
}
