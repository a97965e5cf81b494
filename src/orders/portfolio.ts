/**
 * The one portfolio: per instrument slot, the position, cash, fees, average entry price and realized PnL, plus the
 * open exposure pre-trade risk reads (open buy / sell quantity and open orders per slot), all in preallocated typed
 * arrays indexed by BotState slot (src/risk/pretrade.ts RiskExposure reads them as they are).
 *
 * Written only by the order owner (src/orders/state.ts OrderStore): fills it accepted (deduped there by trade id)
 * and the exposure of its open orders. Everything else reads. Allocation-free per fill and per order.
 */
import type { Instrument, Side, VenueId } from '../model/types.js';

/** Portfolio part of a snapshot (v2; v1 kept the same maps under `ledger`). Keys `venue:symbol`. */
export interface PortfolioSnapshot {
  positions: Record<string, number>;
  cash: Record<string, number>;
  fees: Record<string, number>;
  avgPrice?: Record<string, number>;
  realized?: Record<string, number>;
  fills: number;
  volumeQuote: number;
}

export class Portfolio {
  /** signed position, quantity units */
  readonly position: Float64Array;
  /** open quantity not yet filled of the open orders, per side, quantity units */
  readonly openBuyQty: Float64Array;
  readonly openSellQty: Float64Array;
  readonly openPerSlot: Int32Array;
  /** quote currency spent (-) / received (+) */
  readonly cash: Float64Array;
  /** fees paid in the quote currency */
  readonly fees: Float64Array;
  /** average entry price of the open position (price units, may be fractional) */
  readonly avgPrice: Float64Array;
  /** realized PnL, price units x quantity units (divide by 10^(pd+qd) for quote currency) */
  readonly realized: Float64Array;
  /** fills booked per slot */
  readonly fillsPerSlot: Float64Array;
  /** open orders over every slot */
  open = 0;
  fills = 0;
  volumeQuote = 0;
  private readonly qScale: Float64Array;
  private readonly pScale: Float64Array;
  private readonly bySlotKey = new Map<string, number>();

  constructor(
    readonly instruments: readonly Instrument[],
    slots: number,
  ) {
    this.position = new Float64Array(slots);
    this.openBuyQty = new Float64Array(slots);
    this.openSellQty = new Float64Array(slots);
    this.openPerSlot = new Int32Array(slots);
    this.cash = new Float64Array(slots);
    this.fees = new Float64Array(slots);
    this.avgPrice = new Float64Array(slots);
    this.realized = new Float64Array(slots);
    this.fillsPerSlot = new Float64Array(slots);
    this.qScale = new Float64Array(slots).fill(1);
    this.pScale = new Float64Array(slots).fill(1);
    for (const ins of instruments) {
      this.qScale[ins.slot] = 10 ** ins.qtyDecimals;
      this.pScale[ins.slot] = 10 ** ins.priceDecimals;
      this.bySlotKey.set(`${ins.venue}:${ins.symbol}`, ins.slot);
    }
  }

  get slots(): number {
    return this.position.length;
  }

  /** slot of a configured instrument, or -1 (cold path: builds a key) */
  slotOf(venue: string, symbol: string): number {
    return this.bySlotKey.get(`${venue}:${symbol}`) ?? -1;
  }

  /** The open quantity of an order enters (+1) or leaves (-1) the exposure; `count` moves the open-order count. */
  exposure(slot: number, side: Side, rest: number, sign: 1 | -1, count: boolean): void {
    if (slot < 0 || slot >= this.position.length) return;
    if (side === 'BUY') this.openBuyQty[slot]! += rest * sign;
    else this.openSellQty[slot]! += rest * sign;
    if (count) {
      this.openPerSlot[slot]! += sign;
      this.open += sign;
    }
  }

  /**
   * Book a fill on a slot. The boundary of the positions: a price, quantity or fee that is not a finite number (or
   * a negative quantity or price) throws, so that it can never make PnL NaN and blind the drawdown trigger.
   */
  fillAt(slot: number, side: Side, price: number, qty: number, fee: number, feeInQuote: boolean): void {
    if (!(price >= 0 && price < Infinity && qty >= 0 && qty < Infinity && fee > -Infinity && fee < Infinity)) {
      throw new RangeError(`refused to book a fill with price ${price}, qty ${qty}, fee ${fee} on slot ${slot}`);
    }
    if (slot < 0 || slot >= this.position.length) throw new RangeError(`refused to book a fill on unknown slot ${slot}`);
    const notional = (price / (this.pScale[slot] as number)) * (qty / (this.qScale[slot] as number));
    const cur = this.position[slot] as number;
    const signed = side === 'BUY' ? qty : -qty;
    if (cur === 0 || cur > 0 === signed > 0) {
      const absCur = cur < 0 ? -cur : cur;
      if (absCur + qty > 0) this.avgPrice[slot] = ((this.avgPrice[slot] as number) * absCur + price * qty) / (absCur + qty);
    } else {
      // reducing, closing or flipping
      const absCur = cur < 0 ? -cur : cur;
      const closing = absCur < qty ? absCur : qty;
      this.realized[slot]! += (price - (this.avgPrice[slot] as number)) * closing * (cur > 0 ? 1 : -1);
      const after = cur + signed;
      if (after === 0) this.avgPrice[slot] = 0;
      else if (after > 0 !== cur > 0) this.avgPrice[slot] = price; // flipped: the remainder opened at this price
    }
    this.position[slot] = cur + signed;
    if (side === 'BUY') this.cash[slot]! -= notional;
    else this.cash[slot]! += notional;
    if (feeInQuote) this.fees[slot]! += fee;
    this.fills++;
    this.fillsPerSlot[slot]!++;
    this.volumeQuote += notional;
  }

  /** PnL in quote currency: cash + position marked at `mark(slot)` - fees. */
  pnl(mark: (slot: number) => number): number {
    let p = 0;
    for (const ins of this.instruments) {
      const s = ins.slot;
      const pos = this.position[s] as number;
      const m = mark(s);
      p += (this.cash[s] as number) - (this.fees[s] as number);
      if (pos !== 0 && m > 0) p += (m / (this.pScale[s] as number)) * (pos / (this.qScale[s] as number));
    }
    return p;
  }

  /** position in base currency */
  positionReal(slot: number): number {
    return (this.position[slot] ?? 0) / (this.qScale[slot] ?? 1);
  }

  /** one instrument's figures (tests, status; cold) */
  of(venue: VenueId, symbol: string): { qty: number; avgPrice: number; realized: number; cash: number; fees: number; fills: number } {
    const s = this.slotOf(venue, symbol);
    if (s < 0) return { qty: 0, avgPrice: 0, realized: 0, cash: 0, fees: 0, fills: 0 };
    return {
      qty: this.position[s]!,
      avgPrice: this.avgPrice[s]!,
      realized: this.realized[s]!,
      cash: this.cash[s]!,
      fees: this.fees[s]!,
      fills: this.fillsPerSlot[s]!,
    };
  }

  snapshot(): PortfolioSnapshot {
    const s: Required<PortfolioSnapshot> = { positions: {}, cash: {}, fees: {}, avgPrice: {}, realized: {}, fills: this.fills, volumeQuote: this.volumeQuote };
    for (const ins of this.instruments) {
      const k = `${ins.venue}:${ins.symbol}`;
      s.positions[k] = this.position[ins.slot] as number;
      s.cash[k] = this.cash[ins.slot] as number;
      s.fees[k] = this.fees[ins.slot] as number;
      s.avgPrice[k] = this.avgPrice[ins.slot] as number;
      s.realized[k] = this.realized[ins.slot] as number;
    }
    return s;
  }

  /** Positions, cash, fees and totals from a snapshot (v1's ledger maps have the same shape); exposure is not in it. */
  restore(s: PortfolioSnapshot): void {
    for (const ins of this.instruments) {
      const k = `${ins.venue}:${ins.symbol}`;
      this.position[ins.slot] = s.positions[k] ?? 0;
      this.cash[ins.slot] = s.cash[k] ?? 0;
      this.fees[ins.slot] = s.fees[k] ?? 0;
      this.avgPrice[ins.slot] = s.avgPrice?.[k] ?? 0;
      this.realized[ins.slot] = s.realized?.[k] ?? 0;
    }
    this.openBuyQty.fill(0);
    this.openSellQty.fill(0);
    this.openPerSlot.fill(0);
    this.open = 0;
    this.fills = s.fills;
    this.volumeQuote = s.volumeQuote;
  }
}
