/**
 * Simulated accounts: spot balances and futures positions, driven by the matching engine's fills.
 *
 * - One `SimAccount` per API key (the HMAC key and the Ed25519 key of a run map to the SAME account, so an order
 *   placed with either is seen by both). Created on first use for configured keys; unknown keys get undefined.
 * - One wallet per venue (`SimAccount.wallets`): Binance Spot, Binance USD-M, Bybit (unified: spot and linear share
 *   it). Each starts with the default balances; a fill, a lock or a realized PnL moves only its venue's wallet.
 * - Spot fills move base and quote balances, net of the fill's fee (src/sim/core/fees.ts: computed here once per fill,
 *   stored on the SimFill, paid in the asset the fee table says: a spot buy in the base asset, a sell in the quote,
 *   futures in the quote, Binance with the BNB discount on in BNB). A spot order needs the free balance to pay for it
 *   (INSUFFICIENT_BALANCE otherwise). A RESTING spot order locks what it may still spend (free -> locked): a buy its
 *   remaining quantity times its limit price in quote, a sell its remaining quantity in base; fills, amends and
 *   cancels release or re-size the lock (`syncLock`, driven by the book). A taker part never locks (it is paid at
 *   once). Futures fills update the signed position, its average entry
 *   price and realized PnL (quote currency), and the quote balance by the realized PnL; the fee leaves its asset.
 * - Balances are generous (1,000,000 USDT, 100 BTC, 1,000 ETH, 1,000,000 of any other asset) so tests never run dry.
 *   Amounts are floats: reporting only, matching never reads them.
 */
import type { BookAccountHooks } from './book.js';
import { FeeSchedule, roundFee } from './fees.js';
import type { SimAccount, SimBalances, SimFill, SimInstrument, SimMarketId, SimOrder, SimPosition, SimWalletId } from './types.js';

export const DEFAULT_BALANCES: Record<string, number> = { USDT: 1_000_000, USDC: 1_000_000, BTC: 100, ETH: 1_000, BNB: 10_000 };
const OTHER_ASSET_BALANCE = 1_000_000;

export interface AccountEvents {
  /** balances or a position changed after a fill (venues push ACCOUNT_UPDATE / wallet / position) */
  onAccountChange?(account: SimAccount, instrument: SimInstrument, fill: SimFill): void;
}

function isFutures(ins: SimInstrument): boolean {
  return ins.market === 'binanceUsdm' || ins.market === 'bybitLinear';
}

/** What a spot order of `qtyLots` at `priceTicks` locks: quote for a buy, base for a sell (units -> float). */
export function lockAmount(ins: SimInstrument, side: 'BUY' | 'SELL', priceTicks: number, qtyLots: number): number {
  if (side === 'SELL') return qtyLots / 10 ** ins.qtyDecimals;
  return (priceTicks * qtyLots) / 10 ** (ins.priceDecimals + ins.qtyDecimals);
}

/** the wallet a market's fills and locks move */
export function walletOf(market: SimMarketId): SimWalletId {
  return market === 'bybitSpot' || market === 'bybitLinear' ? 'bybit' : market;
}

function defaultWallet(): SimBalances {
  const m: SimBalances = new Map();
  for (const [asset, amount] of Object.entries(DEFAULT_BALANCES)) m.set(asset, { free: amount, locked: 0 });
  return m;
}

export function positionKey(ins: SimInstrument): string {
  return `${ins.market}:${ins.symbol}`;
}

export class Accounts implements BookAccountHooks {
  private readonly byKey = new Map<string, SimAccount>();
  private readonly listeners: AccountEvents[] = [];
  /** spot locks of resting orders: `${market}:${orderId}` -> amount locked (quote for a buy, base for a sell) */
  private readonly locks = new Map<string, number>();

  /** the mid price (a float, quote per base) of a symbol of a market, 0 when unknown: values BNB fees (startSim sets it) */
  priceOf: (market: SimMarketId, symbol: string) => number = () => 0;

  /** `keys`: API keys accepted; keys in one group share one account (e.g. [hmacKey, ed25519Key]). */
  constructor(
    groups: string[][] = [],
    readonly fees: FeeSchedule = new FeeSchedule(),
  ) {
    for (const g of groups) this.register(g);
  }

  /** Create (or return) the account shared by these API keys; its id is the first key. */
  register(keys: string[]): SimAccount {
    const first = keys[0];
    if (first === undefined) throw new Error('Accounts.register: at least one key');
    let acc: SimAccount | undefined;
    for (const k of keys) acc ??= this.byKey.get(k);
    if (!acc) {
      const wallets: Record<SimWalletId, SimBalances> = { binanceSpot: defaultWallet(), binanceUsdm: defaultWallet(), bybit: defaultWallet() };
      acc = { id: first, balances: wallets.binanceSpot, wallets, positions: new Map(), bnbBurn: { ...this.fees.bnbBurn } };
    }
    for (const k of keys) this.byKey.set(k, acc);
    return acc;
  }

  get(apiKey: string): SimAccount | undefined {
    return this.byKey.get(apiKey);
  }

  /** every distinct account */
  all(): SimAccount[] {
    return [...new Set(this.byKey.values())];
  }

  addListener(l: AccountEvents): void {
    this.listeners.push(l);
  }

  private account(id: string): SimAccount {
    return this.byKey.get(id) ?? this.register([id]);
  }

  /** an asset's balance in one wallet (default: Binance Spot's), created with the default amount on first use */
  balance(acc: SimAccount, asset: string, wallet: SimWalletId = 'binanceSpot'): { free: number; locked: number } {
    const w = acc.wallets[wallet];
    let b = w.get(asset);
    if (!b) {
      b = { free: OTHER_ASSET_BALANCE, locked: 0 };
      w.set(asset, b);
    }
    return b;
  }

  position(acc: SimAccount, ins: SimInstrument): SimPosition {
    const k = positionKey(ins);
    let p = acc.positions.get(k);
    if (!p) {
      p = { symbol: ins.symbol, sizeLots: 0, entryPriceTicks: 0, realizedPnlQuote: 0 };
      acc.positions.set(k, p);
    }
    return p;
  }

  // BookAccountHooks ------------------------------------------------------------------------------------------
  positionLots(accountId: string, ins: SimInstrument): number {
    return this.byKey.get(accountId)?.positions.get(positionKey(ins))?.sizeLots ?? 0;
  }

  /** Spot affordability against the FREE balance (funds locked by resting orders are not available); when amending,
   * the order's own current lock counts as available. */
  canAfford(accountId: string, ins: SimInstrument, side: 'BUY' | 'SELL', priceTicks: number, qtyLots: number, amending?: SimOrder): boolean {
    const acc = this.byKey.get(accountId);
    if (!acc) return true; // accounts the core does not know (tests driving books directly) are not checked
    const own = amending ? (this.locks.get(ins.market + ':' + amending.orderId) ?? 0) : 0;
    const need = lockAmount(ins, side, priceTicks, qtyLots);
    const free = this.balance(acc, side === 'SELL' ? ins.base : ins.quote, walletOf(ins.market)).free + own;
    return free >= need - (side === 'SELL' ? 1e-12 : 1e-9);
  }

  /** Spot: re-size the lock of an order (resting: its remaining at its price; else nothing). */
  syncLock(ins: SimInstrument, o: SimOrder, resting: boolean): void {
    const key = ins.market + ':' + o.orderId;
    const cur = this.locks.get(key) ?? 0;
    const want = resting ? lockAmount(ins, o.side, o.priceTicks, o.qtyLots - o.filledLots) : 0;
    if (want === cur) return;
    const b = this.balance(this.account(o.accountId), o.side === 'BUY' ? ins.quote : ins.base, walletOf(ins.market));
    const d = want - cur;
    b.free -= d;
    b.locked += d;
    if (b.locked < 1e-9 && b.locked > -1e-9) b.locked = 0; // float dust after the last release
    if (want === 0) this.locks.delete(key);
    else this.locks.set(key, want);
  }

  /**
   * The fee of a fill (sets `f.fee`, `f.feeAsset`, `f.feeRate`): the market's maker or taker rate on the standard
   * asset (spot buy: base; spot sell and futures: quote), or in BNB at the discounted rate where the account's Binance
   * BNB discount is on, the rate is positive and the free BNB covers it.
   */
  private chargeFee(acc: SimAccount, ins: SimInstrument, f: SimFill, baseQty: number, quoteQty: number): void {
    const rate = this.fees.rate(ins.market, f.maker);
    const m = ins.market;
    if ((m === 'binanceSpot' || m === 'binanceUsdm') && acc.bnbBurn[m] && rate > 0) {
      const px = ins.base === 'BNB' ? f.priceTicks / 10 ** ins.priceDecimals : this.bnbPrice(m, ins.quote);
      const disc = rate * this.fees.bnbDiscount[m];
      const fee = roundFee((quoteQty * disc) / px);
      if (this.balance(acc, 'BNB', walletOf(m)).free >= fee) {
        f.fee = fee;
        f.feeAsset = 'BNB';
        f.feeRate = disc;
        return;
      }
    }
    const spotBuy = !isFutures(ins) && f.side === 'BUY';
    f.fee = roundFee((spotBuy ? baseQty : quoteQty) * rate);
    f.feeAsset = spotBuy ? ins.base : ins.quote;
    f.feeRate = rate;
  }

  /** BNB in `quote`: the mid of BNB<quote> on the market, else on Binance Spot, else the configured price */
  private bnbPrice(market: SimMarketId, quote: string): number {
    const sym = 'BNB' + quote;
    const px = this.priceOf(market, sym) || this.priceOf('binanceSpot', sym);
    return px > 0 ? px : this.fees.bnbPrice;
  }

  onFill(ins: SimInstrument, f: SimFill): void {
    const acc = this.account(f.accountId);
    // prices are units of 10^-priceDecimals, quantities units of 10^-qtyDecimals (NOT counts of tickSize/stepSize)
    const pScale = 10 ** ins.priceDecimals;
    const qScale = 10 ** ins.qtyDecimals;
    const signed = f.side === 'BUY' ? f.qtyLots : -f.qtyLots;
    const w = walletOf(ins.market);
    const baseQty = f.qtyLots / qScale;
    const quoteQty = (f.priceTicks / pScale) * baseQty;
    this.chargeFee(acc, ins, f, baseQty, quoteQty);
    if (isFutures(ins)) {
      const p = this.position(acc, ins);
      const old = p.sizeLots;
      const next = old + signed;
      if (old === 0 || Math.sign(old) === Math.sign(signed)) {
        // open or add: weighted average entry
        const absOld = Math.abs(old);
        p.entryPriceTicks = (p.entryPriceTicks * absOld + f.priceTicks * f.qtyLots) / (absOld + f.qtyLots);
      } else {
        // reduce, close or flip
        const closed = Math.min(Math.abs(old), f.qtyLots);
        const pnl = (((f.priceTicks - p.entryPriceTicks) / pScale) * closed * Math.sign(old)) / qScale;
        p.realizedPnlQuote += pnl;
        this.balance(acc, ins.quote, w).free += pnl;
        if (next === 0) p.entryPriceTicks = 0;
        else if (Math.sign(next) !== Math.sign(old)) p.entryPriceTicks = f.priceTicks;
      }
      p.sizeLots = next;
    } else {
      this.balance(acc, ins.base, w).free += f.side === 'BUY' ? baseQty : -baseQty;
      this.balance(acc, ins.quote, w).free += f.side === 'BUY' ? -quoteQty : quoteQty;
    }
    if (f.fee !== 0) this.balance(acc, f.feeAsset, w).free -= f.fee;
    for (const l of this.listeners) l.onAccountChange?.(acc, ins, f);
  }
}
