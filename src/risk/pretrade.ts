/**
 * Pre-trade risk: synchronous, allocation-free. `check(req, nowNs)` returns 0 (pass) or a refusal reason code;
 * every refusal increments `refusals[reason]` (a typed-array counter, exported on /metrics).
 *
 * Order rate: two separate budgets, each a preallocated ring of the send times of its last N passed orders. The
 * strategy's orders count against `maxOrdersPerSecond` (refusal `max_order_rate`); manual orders (control plane
 * `POST /order`) against their own `maxManualOrdersPerSecond` (refusal `max_manual_order_rate`), so a busy strategy
 * never blocks an operator's order and manual orders never eat the strategy's budget. Cancels are not checked here.
 *
 * Limits are configured in human units (config `risk`) and converted once per instrument into integer quantity
 * units and quote currency, so the check compares numbers only. Position limits count the worst case: the current
 * position plus every open order on the same side plus this one (reduce-only orders that reduce are exempt).
 */
import type { BotState } from '../model/botstate.js';
import { F } from '../model/botstate.js';
import type { Instrument } from '../model/types.js';
import type { OrderRequest } from '../model/orders.js';
import type { RiskConfig } from '../config/schema.js';

export const enum Refusal {
  None = 0,
  KillSwitch = 1,
  TradingStopped = 2,
  UnknownSlot = 3,
  BookNotTradable = 4,
  BadOrder = 5,
  MaxOrderQty = 6,
  MaxOrderNotional = 7,
  MaxPosition = 8,
  MaxTotalNotional = 9,
  MaxOpenOrders = 10,
  MaxOrderRate = 11,
  PriceBand = 12,
  /** below the instrument's minimum quantity or notional (the exchange would reject it) */
  BelowMinimum = 13,
  /** manual (control-plane) order over its own budget `risk.maxManualOrdersPerSecond` */
  MaxManualOrderRate = 14,
  /** the engine has not finished starting (every part up, reconciliation done): nothing is sent before that */
  NotStarted = 15,
}

export const REFUSAL_NAMES = [
  'none',
  'kill_switch',
  'trading_stopped',
  'unknown_slot',
  'book_not_tradable',
  'bad_order',
  'max_order_qty',
  'max_order_notional',
  'max_position',
  'max_total_notional',
  'max_open_orders',
  'max_order_rate',
  'price_band',
  'below_minimum',
  'max_manual_order_rate',
  'not_started',
] as const;
export const REFUSAL_COUNT = REFUSAL_NAMES.length;

/** What risk reads from the engine's order/position books (typed arrays, indexed by slot). */
export interface RiskExposure {
  /** signed position, quantity units */
  position: Float64Array;
  /** open buy / sell quantity not yet filled, quantity units */
  openBuyQty: Float64Array;
  openSellQty: Float64Array;
  /** open orders in total */
  openOrders(): number;
}

export class PreTradeRisk {
  readonly refusals = new Uint32Array(REFUSAL_COUNT);
  passed = 0;
  /** set by the kill switch: refuse everything at once */
  killed = false;
  /** set by stop trading: strategy orders refused, manual orders still allowed (flag per call) */
  stopped = false;
  /** set until the engine has started: everything refused, manual orders too */
  notStarted = false;

  private maxQty: Float64Array;
  private minQty: Float64Array;
  private minNotional: Float64Array;
  private maxPos: Float64Array;
  private qtyScale: Float64Array;
  private pxScale: Float64Array;
  private maxNotional = 0;
  private maxTotal = 0;
  private maxOpen = 0;
  private bandBps = 0;
  /** ring of the send times of the strategy's last `maxOrdersPerSecond` passed orders */
  private sendRing: Float64Array;
  private ringPos = 0;
  /** ring of the send times of the last `maxManualOrdersPerSecond` passed manual orders */
  private manualRing: Float64Array;
  private manualPos = 0;

  constructor(
    private readonly state: BotState,
    private readonly instruments: readonly Instrument[],
    private readonly exposure: RiskExposure,
    cfg: RiskConfig,
  ) {
    const n = state.slots;
    this.maxQty = new Float64Array(n);
    this.minQty = new Float64Array(n);
    this.minNotional = new Float64Array(n);
    this.maxPos = new Float64Array(n);
    this.qtyScale = new Float64Array(n);
    this.pxScale = new Float64Array(n);
    this.sendRing = new Float64Array(0);
    this.manualRing = new Float64Array(0);
    this.configure(cfg);
  }

  /** (Re)apply limits; callable at run time (reload). */
  configure(cfg: RiskConfig): void {
    for (const ins of this.instruments) {
      const q = 10 ** ins.qtyDecimals;
      this.qtyScale[ins.slot] = q;
      this.pxScale[ins.slot] = 10 ** ins.priceDecimals;
      this.maxQty[ins.slot] = Math.round(cfg.maxOrderQty * q);
      this.maxPos[ins.slot] = Math.round(cfg.maxPositionPerSymbol * q);
      this.minQty[ins.slot] = Math.round((Number(ins.minQty) || 0) * q);
      this.minNotional[ins.slot] = Number(ins.minNotional) || 0;
    }
    this.maxNotional = cfg.maxOrderNotional;
    this.maxTotal = cfg.maxTotalNotional;
    this.maxOpen = cfg.maxOpenOrders;
    this.bandBps = cfg.priceBandBps;
    if (this.sendRing.length !== cfg.maxOrdersPerSecond) {
      this.sendRing = new Float64Array(cfg.maxOrdersPerSecond).fill(-Infinity);
      this.ringPos = 0;
    }
    if (this.manualRing.length !== cfg.maxManualOrdersPerSecond) {
      this.manualRing = new Float64Array(cfg.maxManualOrdersPerSecond).fill(-Infinity);
      this.manualPos = 0;
    }
  }

  private refuse(r: Refusal): Refusal {
    this.refusals[r]!++;
    return r;
  }

  /**
   * An amend's new limit price: inside the price band around mid (the same rule as a new order's). Counted as a
   * PriceBand refusal when not. Amends never add quantity (the engine refuses that), so no exposure check.
   */
  checkAmendPrice(slot: number, price: number): Refusal {
    if (this.killed) return this.refuse(Refusal.KillSwitch);
    const mid = slot >= 0 && slot < this.state.slots ? this.state.get(slot, F.mid) : 0;
    if (!(mid > 0)) return this.refuse(Refusal.BookNotTradable);
    if (!(price > 0 && Number.isInteger(price))) return this.refuse(Refusal.BadOrder);
    const dev = ((price > mid ? price - mid : mid - price) / mid) * 1e4;
    return dev > this.bandBps ? this.refuse(Refusal.PriceBand) : Refusal.None;
  }

  /** Quote-currency value of qty units at price units on a slot. */
  notional(slot: number, price: number, qty: number): number {
    return (price / (this.pxScale[slot] as number)) * (qty / (this.qtyScale[slot] as number));
  }

  /**
   * Check an order. `manual` orders (control plane) pass a stopped strategy but not the kill switch.
   * On pass the order counts towards its rate budget: the manual one for manual orders, else the strategy's.
   */
  check(req: OrderRequest, nowNs: number, manual = false): Refusal {
    if (this.killed) return this.refuse(Refusal.KillSwitch);
    if (this.notStarted) return this.refuse(Refusal.NotStarted);
    if (this.stopped && !manual) return this.refuse(Refusal.TradingStopped);
    const slot = req.slot;
    if (slot < 0 || slot >= this.state.slots || this.instruments[slot] === undefined) return this.refuse(Refusal.UnknownSlot);
    if (!this.state.tradable(slot)) return this.refuse(Refusal.BookNotTradable);
    const mid = this.state.get(slot, F.mid);
    if (!(mid > 0)) return this.refuse(Refusal.BookNotTradable);
    const qty = req.qty;
    if (!(qty > 0) || !Number.isInteger(qty) || (req.type === 'LIMIT' && !(req.price > 0 && Number.isInteger(req.price)))) return this.refuse(Refusal.BadOrder);
    if (qty > (this.maxQty[slot] as number)) return this.refuse(Refusal.MaxOrderQty);
    const px = req.type === 'MARKET' ? (req.side === 'BUY' ? this.state.get(slot, F.askPx) : this.state.get(slot, F.bidPx)) : req.price;
    const notional = this.notional(slot, px, qty);
    if (notional > this.maxNotional) return this.refuse(Refusal.MaxOrderNotional);
    // reduce-only closes may be smaller than the minimums on some venues: let the exchange decide those
    if (req.reduceOnly !== true && (qty < (this.minQty[slot] as number) || notional < (this.minNotional[slot] as number) * (1 - 1e-9)))
      return this.refuse(Refusal.BelowMinimum);
    if (req.type === 'LIMIT') {
      const dev = ((px > mid ? px - mid : mid - px) / mid) * 1e4;
      if (dev > this.bandBps) return this.refuse(Refusal.PriceBand);
    }
    const e = this.exposure;
    const pos = e.position[slot] as number;
    const reducing = req.side === 'BUY' ? pos < 0 && pos + qty <= 0 : pos > 0 && pos - qty >= 0;
    if (!(req.reduceOnly === true && reducing)) {
      const worst = req.side === 'BUY' ? pos + (e.openBuyQty[slot] as number) + qty : -(pos - (e.openSellQty[slot] as number) - qty);
      if (worst > (this.maxPos[slot] as number)) return this.refuse(Refusal.MaxPosition);
      // total: |position| * mid over every slot, plus this order's notional
      let total = notional;
      for (let s = 0; s < this.instruments.length; s++) {
        const p = e.position[s] as number;
        if (p !== 0) total += this.notional(s, this.state.get(s, F.mid), p < 0 ? -p : p);
      }
      if (total > this.maxTotal) return this.refuse(Refusal.MaxTotalNotional);
    }
    if (e.openOrders() >= this.maxOpen) return this.refuse(Refusal.MaxOpenOrders);
    if (manual) {
      const ring = this.manualRing;
      if (nowNs - (ring[this.manualPos] as number) < 1e9) return this.refuse(Refusal.MaxManualOrderRate);
      ring[this.manualPos] = nowNs;
      this.manualPos = (this.manualPos + 1) % ring.length;
    } else {
      const ring = this.sendRing;
      if (nowNs - (ring[this.ringPos] as number) < 1e9) return this.refuse(Refusal.MaxOrderRate);
      ring[this.ringPos] = nowNs;
      this.ringPos = (this.ringPos + 1) % ring.length;
    }
    this.passed++;
    return Refusal.None;
  }

  /**
   * Quantity units (whole lots) one more strategy order on `side` may have before the size, notional, position and
   * total-notional limits refuse it, at the current mid (the strategy's `ctx.risk.headroom`). Read-only: counts
   * nothing, allocates nothing; 0 when the book has no mid.
   */
  headroom(slot: number, side: 'BUY' | 'SELL'): number {
    const ins = this.instruments[slot];
    if (!ins || slot >= this.state.slots) return 0;
    const mid = this.state.get(slot, F.mid);
    if (!(mid > 0)) return 0;
    const e = this.exposure;
    const pos = e.position[slot] as number;
    const qs = this.qtyScale[slot] as number;
    const unitValue = mid / (this.pxScale[slot] as number) / qs; // quote currency per quantity unit
    let room = this.maxQty[slot] as number;
    const byNotional = this.maxNotional / unitValue;
    if (byNotional < room) room = byNotional;
    const maxPos = this.maxPos[slot] as number;
    const byPos = side === 'BUY' ? maxPos - pos - (e.openBuyQty[slot] as number) : maxPos + pos - (e.openSellQty[slot] as number);
    if (byPos < room) room = byPos;
    let total = 0;
    for (let s = 0; s < this.instruments.length; s++) {
      const p = e.position[s] as number;
      if (p !== 0) total += this.notional(s, this.state.get(s, F.mid), p < 0 ? -p : p);
    }
    const byTotal = (this.maxTotal - total) / unitValue;
    if (byTotal < room) room = byTotal;
    const lot = ins.lotUnits > 0 ? ins.lotUnits : 1;
    return room > 0 ? Math.floor(room / lot) * lot : 0;
  }

  /** Open orders still allowed before `maxOpenOrders`. */
  openOrdersLeft(): number {
    const left = this.maxOpen - this.exposure.openOrders();
    return left > 0 ? left : 0;
  }

  /** Strategy orders still allowed within the sliding second ending at `nowNs` (`maxOrdersPerSecond`). */
  ordersLeftThisSecond(nowNs: number): number {
    const ring = this.sendRing;
    let used = 0;
    for (let i = 0; i < ring.length; i++) if (nowNs - (ring[i] as number) < 1e9) used++;
    return ring.length - used;
  }

  totalRefusals(): number {
    let t = 0;
    for (let i = 1; i < this.refusals.length; i++) t += this.refusals[i] as number;
    return t;
  }
}
