/**
 * The one portfolio: per instrument slot, the position, cash, fees, average entry price and realized PnL, plus the
 * open exposure pre-trade risk reads (open buy / sell quantity and open orders per slot), all in preallocated typed
 * arrays indexed by BotState slot (src/risk/pretrade.ts RiskExposure reads them as they are).
 *
 * Written only by the order owner (src/orders/state.ts OrderStore): fills it accepted (deduped there by trade id)
 * and the exposure of its open orders. Everything else reads. Allocation-free per fill and per order.
 *
 * Fees, in whatever asset the venue charged them (every figure is net of them):
 * - in the slot's quote asset: `fees` (quote), subtracted from PnL and from realized PnL (`realized` is net);
 * - in the slot's base asset (a spot buy on Binance or Bybit): the position received is smaller by the fee
 *   (`position` is what the wallet holds), `feesBase` keeps the amount (base). A long position keeps its cost over
 *   fewer units (cost basis: the average entry rises, so the fee is realized when the position is sold); otherwise
 *   the fee units leave at the fill's price into realized PnL;
 * - in a third asset (BNB with Binance's discount on): kept per asset (`feeAssetAmount`), and valued in the slot's
 *   quote at the mark of a configured instrument `<asset><quote>` (its `markOf` price at the fill) into `fees`; with
 *   no such instrument the fee stays unvalued (`unvaluedFees` counts it, `feesUnvalued` per slot in asset units is
 *   not in PnL; `/metrics` shows it) rather than valued at a guess;
 * - an empty fee asset (a venue that does not say) is the standard one: futures the quote, a spot buy the base, a
 *   spot sell the quote.
 * A negative fee is a rebate and books the same way with the other sign.
 *
 * `walletDelta` keeps, per wallet (Binance Spot, Binance USD-M, Bybit's unified wallet) and asset, what the booked
 * fills moved since the process started: spot base and quote, futures realized PnL, every fee. The balance
 * reconciliation (src/engine/balances.ts) compares the venues' account balances against start + these.
 */
import type { Instrument, Side, VenueId } from '../model/types.js';

/** The wallets fills move: Binance Spot, Binance USD-M, Bybit (unified: its spot and linear share one). */
export const WALLETS = ['binanceSpot', 'binanceUsdm', 'bybit'] as const;
export type WalletId = (typeof WALLETS)[number];
export function walletOfVenue(v: VenueId): WalletId {
  return v === 'bybitSpot' || v === 'bybitLinear' ? 'bybit' : v;
}
function walletIndex(v: VenueId): number {
  return v === 'binanceSpot' ? 0 : v === 'binanceUsdm' ? 1 : 2;
}
function isSpot(v: VenueId): boolean {
  return v === 'binanceSpot' || v === 'bybitSpot';
}

/** Portfolio part of a snapshot (v2; v1 kept the same maps under `ledger`). Keys `venue:symbol`. */
export interface PortfolioSnapshot {
  positions: Record<string, number>;
  cash: Record<string, number>;
  fees: Record<string, number>;
  /** fees paid in the base asset (base units); absent in older snapshots */
  feesBase?: Record<string, number>;
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
  /** fees in quote: those paid in the quote asset plus third-asset fees valued at a mark (see the header) */
  readonly fees: Float64Array;
  /** fees paid in the base asset (base; already out of `position`) */
  readonly feesBase: Float64Array;
  /** third-asset fees with no price to value them (asset units; not in PnL) */
  readonly feesUnvalued: Float64Array;
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
  /** third-asset fees booked with no price to value them */
  unvaluedFees = 0;
  /** mark price (price units) of a slot, for valuing third-asset fees; the engine sets it to BotState's mid */
  markOf: (slot: number) => number = () => 0;
  private readonly qScale: Float64Array;
  private readonly pScale: Float64Array;
  private readonly bySlotKey = new Map<string, number>();
  private readonly baseOf: string[] = [];
  private readonly quoteOf: string[] = [];
  private readonly walletOf: Int32Array;
  private readonly spot: Uint8Array;
  /** quote -> base -> the slot that prices base in quote (an instrument of a spot venue preferred) */
  private readonly pricer = new Map<string, Map<string, number>>();
  /** asset -> index into the per-asset arrays (grows, once per new asset: cold) */
  private readonly assetIx = new Map<string, number>();
  private assetNames: string[] = [];
  /** fees per asset (asset units, every slot) */
  private feeAmt = new Float64Array(16);
  /** per wallet x asset: what booked fills moved (asset units); index wallet * capacity + asset */
  private walletAmt = new Float64Array(3 * 16);

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
    this.feesBase = new Float64Array(slots);
    this.feesUnvalued = new Float64Array(slots);
    this.walletOf = new Int32Array(slots);
    this.spot = new Uint8Array(slots);
    this.avgPrice = new Float64Array(slots);
    this.realized = new Float64Array(slots);
    this.fillsPerSlot = new Float64Array(slots);
    this.qScale = new Float64Array(slots).fill(1);
    this.pScale = new Float64Array(slots).fill(1);
    for (const ins of instruments) {
      this.qScale[ins.slot] = 10 ** ins.qtyDecimals;
      this.pScale[ins.slot] = 10 ** ins.priceDecimals;
      this.bySlotKey.set(`${ins.venue}:${ins.symbol}`, ins.slot);
      this.baseOf[ins.slot] = ins.base;
      this.quoteOf[ins.slot] = ins.quote;
      this.walletOf[ins.slot] = walletIndex(ins.venue);
      this.spot[ins.slot] = isSpot(ins.venue) ? 1 : 0;
      this.asset(ins.base);
      this.asset(ins.quote);
      let m = this.pricer.get(ins.quote);
      if (!m) this.pricer.set(ins.quote, (m = new Map()));
      if (!m.has(ins.base) || isSpot(ins.venue)) m.set(ins.base, ins.slot);
    }
    this.asset('BNB');
  }

  /** index of an asset in the per-asset arrays (a new asset grows them: allocates once) */
  private asset(name: string): number {
    const i = this.assetIx.get(name);
    if (i !== undefined) return i;
    const n = this.assetNames.length;
    const cap = this.feeAmt.length;
    if (n >= cap) {
      const fa = new Float64Array(cap * 2);
      fa.set(this.feeAmt);
      const wa = new Float64Array(3 * cap * 2);
      for (let w = 0; w < 3; w++) wa.set(this.walletAmt.subarray(w * cap, (w + 1) * cap), w * cap * 2);
      this.feeAmt = fa;
      this.walletAmt = wa;
    }
    this.assetIx.set(name, n);
    this.assetNames.push(name);
    return n;
  }

  private moveWallet(slot: number, asset: number, amount: number): void {
    this.walletAmt[(this.walletOf[slot] as number) * this.feeAmt.length + asset]! += amount;
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
   * Book a fill on a slot, net of its fee in `feeAsset` (see the header). The boundary of the positions: a price,
   * quantity or fee that is not a finite number (or a negative quantity or price) throws, so that it can never make
   * PnL NaN and blind the drawdown trigger.
   */
  fillAt(slot: number, side: Side, price: number, qty: number, fee: number, feeAsset: string): void {
    if (!(price >= 0 && price < Infinity && qty >= 0 && qty < Infinity && fee > -Infinity && fee < Infinity)) {
      throw new RangeError(`refused to book a fill with price ${price}, qty ${qty}, fee ${fee} on slot ${slot}`);
    }
    if (slot < 0 || slot >= this.position.length) throw new RangeError(`refused to book a fill on unknown slot ${slot}`);
    const pS = this.pScale[slot] as number;
    const qS = this.qScale[slot] as number;
    const notional = (price / pS) * (qty / qS);
    const cur = this.position[slot] as number;
    const signed = side === 'BUY' ? qty : -qty;
    const spot = this.spot[slot] === 1;
    let realizedDelta = 0;
    if (cur === 0 || cur > 0 === signed > 0) {
      const absCur = cur < 0 ? -cur : cur;
      if (absCur + qty > 0) this.avgPrice[slot] = ((this.avgPrice[slot] as number) * absCur + price * qty) / (absCur + qty);
    } else {
      // reducing, closing or flipping
      const absCur = cur < 0 ? -cur : cur;
      const closing = absCur < qty ? absCur : qty;
      realizedDelta = (price - (this.avgPrice[slot] as number)) * closing * (cur > 0 ? 1 : -1);
      this.realized[slot]! += realizedDelta;
      const after = cur + signed;
      if (after === 0) this.avgPrice[slot] = 0;
      else if (after > 0 !== cur > 0) this.avgPrice[slot] = price; // flipped: the remainder opened at this price
    }
    this.position[slot] = cur + signed;
    if (side === 'BUY') this.cash[slot]! -= notional;
    else this.cash[slot]! += notional;
    const base = this.baseOf[slot];
    const quote = this.quoteOf[slot];
    if (base !== undefined && quote !== undefined) {
      const qIx = this.asset(quote);
      if (spot) {
        this.moveWallet(slot, this.asset(base), signed / qS);
        this.moveWallet(slot, qIx, side === 'BUY' ? -notional : notional);
      } else if (realizedDelta !== 0) this.moveWallet(slot, qIx, realizedDelta / (pS * qS));
      if (fee !== 0) this.bookFee(slot, side, price, fee, feeAsset, base, quote, spot);
    }
    this.fills++;
    this.fillsPerSlot[slot]!++;
    this.volumeQuote += notional;
  }

  private bookFee(slot: number, side: Side, price: number, fee: number, feeAsset: string, base: string, quote: string, spot: boolean): void {
    const pS = this.pScale[slot] as number;
    const qS = this.qScale[slot] as number;
    const asset = feeAsset !== '' ? feeAsset : spot && side === 'BUY' ? base : quote;
    const ix = this.asset(asset);
    this.feeAmt[ix]! += fee;
    this.moveWallet(slot, ix, -fee);
    if (asset === quote) {
      this.fees[slot]! += fee;
      this.realized[slot]! -= fee * pS * qS;
    } else if (asset === base && spot) {
      // the position received is smaller by the fee. Long after it: the cost stays, spread over fewer units (the
      // average entry rises: cost basis); otherwise the fee units leave at the fill's price (realized)
      const units = fee * qS;
      const pos = this.position[slot] as number;
      if (pos > 0 && pos - units > 0) this.avgPrice[slot] = ((this.avgPrice[slot] as number) * pos) / (pos - units);
      else this.realized[slot]! -= price * units;
      this.position[slot] = pos - units;
      if (this.position[slot] === 0) this.avgPrice[slot] = 0;
      this.feesBase[slot]! += fee;
    } else {
      const ps = this.pricer.get(quote)?.get(asset);
      const m = ps === undefined ? 0 : this.markOf(ps);
      if (ps !== undefined && m > 0) {
        const value = fee * (m / (this.pScale[ps] as number));
        this.fees[slot]! += value;
        this.realized[slot]! -= value * pS * qS;
      } else {
        this.feesUnvalued[slot]! += fee;
        this.unvaluedFees++;
      }
    }
  }

  /** fees paid in each asset (asset units, every slot; cold) */
  feesByAsset(): Record<string, number> {
    const out: Record<string, number> = {};
    for (let i = 0; i < this.assetNames.length; i++) if (this.feeAmt[i] !== 0) out[this.assetNames[i]!] = this.feeAmt[i]!;
    return out;
  }

  /** what booked fills moved in a wallet, per asset touched (asset units; cold) */
  walletDeltas(wallet: WalletId): Record<string, number> {
    const w = WALLETS.indexOf(wallet);
    const cap = this.feeAmt.length;
    const out: Record<string, number> = {};
    for (let i = 0; i < this.assetNames.length; i++) out[this.assetNames[i]!] = this.walletAmt[w * cap + i]!;
    return out;
  }

  /** PnL in quote currency: cash + position (net of base fees) marked at `mark(slot)` - fees (quote and valued). */
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
  of(
    venue: VenueId,
    symbol: string,
  ): { qty: number; avgPrice: number; realized: number; cash: number; fees: number; feesBase: number; feesUnvalued: number; fills: number } {
    const s = this.slotOf(venue, symbol);
    if (s < 0) return { qty: 0, avgPrice: 0, realized: 0, cash: 0, fees: 0, feesBase: 0, feesUnvalued: 0, fills: 0 };
    return {
      qty: this.position[s]!,
      avgPrice: this.avgPrice[s]!,
      realized: this.realized[s]!,
      cash: this.cash[s]!,
      fees: this.fees[s]!,
      feesBase: this.feesBase[s]!,
      feesUnvalued: this.feesUnvalued[s]!,
      fills: this.fillsPerSlot[s]!,
    };
  }

  snapshot(): PortfolioSnapshot {
    const s: Required<PortfolioSnapshot> = {
      positions: {},
      cash: {},
      fees: {},
      feesBase: {},
      avgPrice: {},
      realized: {},
      fills: this.fills,
      volumeQuote: this.volumeQuote,
    };
    for (const ins of this.instruments) {
      const k = `${ins.venue}:${ins.symbol}`;
      s.positions[k] = this.position[ins.slot] as number;
      s.cash[k] = this.cash[ins.slot] as number;
      s.fees[k] = this.fees[ins.slot] as number;
      s.feesBase[k] = this.feesBase[ins.slot] as number;
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
      this.feesBase[ins.slot] = s.feesBase?.[k] ?? 0;
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
