/**
 * Contract between the simulator's shared core (matching, market data generation, replay, faults, clock,
 * accounts, HTTP/WS plumbing) and the per-venue protocol layers (src/sim/binance, src/sim/bybit).
 *
 * The core knows nothing of JSON field names; the venue layers know nothing of matching.
 *
 * ONE meaning for prices and quantities (the one src/util/fixed.ts, both venues and the engine use):
 *  - every `priceTicks` (SimNewOrder, SimOrder, SimFill, SimLevelChange, SimPublicTrade, SimBook, SimPosition) is an
 *    integer count of 10^-priceDecimals units, NOT a count of tickSize: with tickSize "0.05" (priceDecimals 2) the
 *    price 12.35 is 1235, and a valid price is a multiple of 5 (tickSize in units); otherwise `BAD_PRICE`;
 *  - every `qtyLots` is an integer count of 10^-qtyDecimals units, NOT a count of stepSize: with stepSize "0.5"
 *    (qtyDecimals 1) the quantity 2.5 is 25, and a valid quantity is a multiple of 5; otherwise `BAD_QTY`;
 *  - a price times a quantity (`cumQuoteTL`) is in units of 10^-(priceDecimals + qtyDecimals) of the quote asset:
 *    notional = priceTicks * qtyLots / 10^(priceDecimals + qtyDecimals).
 * The names `priceTicks` / `qtyLots` stay for compatibility; they coincide with tick / step counts only when
 * tickSize / stepSize are powers of ten.
 */
import type { TemplatedApp } from '../../util/uws.js';

/** One simulated market. Binance Spot and USD-M are separate venues; Bybit spot and linear are categories of one. */
export type SimMarketId = 'binanceSpot' | 'binanceUsdm' | 'bybitSpot' | 'bybitLinear';
export type SimSide = 'BUY' | 'SELL';

export interface SimInstrument {
  market: SimMarketId;
  symbol: string; // upper case, as the exchange spells it: BTCUSDT
  base: string;
  quote: string;
  tickSize: string; // "0.01"
  stepSize: string; // "0.00001"
  minQty: string;
  maxQty: string;
  minNotional: string;
  priceDecimals: number; // decimals of tickSize: prices are integer counts of 10^-priceDecimals
  qtyDecimals: number; // decimals of stepSize: quantities are integer counts of 10^-qtyDecimals
  /** initial mid price as a decimal string, where the synthetic random walk starts */
  initialPrice: string;
  /** futures only: contract type for exchangeInfo ("PERPETUAL") */
  contractType?: string;
}

export type SimOrderType = 'LIMIT' | 'MARKET';
/** POST_ONLY covers Binance LIMIT_MAKER / GTX and Bybit PostOnly. */
export type SimTimeInForce = 'GTC' | 'IOC' | 'FOK' | 'POST_ONLY';
export type SimOrderStatus = 'NEW' | 'PARTIALLY_FILLED' | 'FILLED' | 'CANCELED' | 'REJECTED' | 'EXPIRED';

export interface SimNewOrder {
  accountId: string;
  clientOrderId: string;
  side: SimSide;
  type: SimOrderType;
  tif: SimTimeInForce;
  priceTicks: number; // 0 for MARKET
  qtyLots: number;
  reduceOnly: boolean;
  /** a venue-held order entering the book: the id it already has (from `SimBook.allocOrderId`) */
  orderId?: string;
  /** a triggered stop order: its venue fields, carried unchanged onto the book's order */
  stop?: SimStop;
}

/**
 * Venue fields of a stop order that waits outside the book until its trigger (Binance Spot STOP_LOSS[_LIMIT],
 * TAKE_PROFIT[_LIMIT]); the order's own `type` is what it works as once triggered (MARKET or LIMIT).
 */
export interface SimStop {
  /** the venue's order type name */
  type: string;
  stopTicks: number;
  /** when the stop order was placed */
  placedMs: number;
  /** when it was triggered and started working; -1 until then */
  workingMs: number;
}

export interface SimOrder {
  /** decimal string, unique across the books of a market and across markets (one id allocator per market in
   * startSim); USD-M and Bybit spot ids exceed 2^53 */
  orderId: string;
  clientOrderId: string;
  accountId: string;
  symbol: string;
  side: SimSide;
  type: SimOrderType;
  tif: SimTimeInForce;
  priceTicks: number;
  qtyLots: number;
  filledLots: number;
  /** sum of fill price(ticks) * fill qty(lots); avg price ticks = cumQuoteTL / filledLots */
  cumQuoteTL: number;
  reduceOnly: boolean;
  status: SimOrderStatus;
  createdMs: number;
  updatedMs: number;
  /** set on a stop order (waiting outside the book, or triggered into it) */
  stop?: SimStop | undefined;
}

export interface SimFill {
  tradeId: number;
  orderId: string;
  clientOrderId: string;
  accountId: string;
  side: SimSide;
  priceTicks: number;
  qtyLots: number;
  maker: boolean;
  timeMs: number;
  /** commission of this fill, set once by the accounts when the fill is booked (src/sim/core/fees.ts): positive paid,
   * negative a rebate; 8 decimals. Every venue report of the fill (and the balances) uses these. */
  fee: number;
  /** the asset it is paid in ('' where no account booked the fill) */
  feeAsset: string;
  /** the rate applied (the discounted one when paid in BNB) */
  feeRate: number;
}

/** Why the core refused an order; the venue maps it to its own error code/message. */
export type SimRejectReason =
  | 'POST_ONLY_WOULD_TAKE'
  | 'FOK_NOT_FILLED'
  | 'REDUCE_ONLY'
  | 'DUPLICATE_CLIENT_ID'
  | 'INSUFFICIENT_BALANCE'
  | 'MIN_NOTIONAL'
  | 'BAD_QTY'
  | 'BAD_PRICE'
  | 'UNKNOWN_ORDER';

export type SimSubmitResult = { ok: true; order: SimOrder; fills: SimFill[] } | { ok: false; reason: SimRejectReason; order?: SimOrder };

/** `keptPriority`: the order kept its place in the queue (same price, smaller quantity). */
export type SimAmendResult = { ok: true; order: SimOrder; fills: SimFill[]; keptPriority: boolean } | { ok: false; reason: SimRejectReason };

export type SimCancelResult = { ok: true; order: SimOrder } | { ok: false; reason: 'UNKNOWN_ORDER' };

/** An aggregated price level changed (absolute quantity; 0 removes the level). */
export interface SimLevelChange {
  side: SimSide;
  priceTicks: number;
  qtyLots: number;
}

export interface SimPublicTrade {
  tradeId: number;
  priceTicks: number;
  qtyLots: number;
  takerSide: SimSide; // aggressor side
  timeMs: number;
}

/** Listener a venue attaches to a market's book to turn core events into wire frames. */
export interface SimBookListener {
  /** Called once per book mutation batch (a generator step, an order submission, a cancel) with every level it
   * changed, in order. `updateId` is the book's sequence after the batch (+1 per batch, never reused). */
  onLevels(symbol: string, changes: readonly SimLevelChange[], updateId: number, timeMs: number): void;
  onTrade(symbol: string, trade: SimPublicTrade): void;
  /** Private: an order of a non-synthetic account changed (new, fill, cancel, expire, reject). */
  onOrder(symbol: string, order: SimOrder, fill: SimFill | undefined): void;
}

export interface SimBook {
  readonly instrument: SimInstrument;
  /** current sequence of the book (the updateId of the last batch) */
  readonly updateId: number;
  /** allocates a small object: prefer the allocation-free bestBidPrice/bestBidQty on hot paths */
  bestBid(): { priceTicks: number; qtyLots: number } | undefined;
  bestAsk(): { priceTicks: number; qtyLots: number } | undefined;
  /** best bid price (price units), or 0 when the bid side is empty (a real price is > 0). No allocation. */
  bestBidPrice(): number;
  /** best ask price (price units), or 0 when the ask side is empty. No allocation. */
  bestAskPrice(): number;
  /** aggregated quantity (qty units) at the best bid, or 0 when the bid side is empty. No allocation. */
  bestBidQty(): number;
  /** aggregated quantity (qty units) at the best ask, or 0 when the ask side is empty. No allocation. */
  bestAskQty(): number;
  /** top `depth` levels per side, best first: [priceTicks, qtyLots][] (allocates: REST snapshots only) */
  depth(depth: number): { bids: Array<[number, number]>; asks: Array<[number, number]>; updateId: number };
  submit(order: SimNewOrder): SimSubmitResult;
  cancel(accountId: string, ref: { orderId?: string; clientOrderId?: string }): SimCancelResult;
  /** Change an open LIMIT order's price and/or TOTAL quantity. Same price and a smaller quantity keeps the queue
   * priority; a new price or a larger quantity loses it (and a crossing price trades at once). `clientOrderId` gives the
   * order a new client id (Binance keepPriority's newClientOrderId). See MatchingBook. */
  amend(
    accountId: string,
    ref: { orderId?: string; clientOrderId?: string },
    change: { priceTicks?: number; qtyLots?: number; clientOrderId?: string },
  ): SimAmendResult;
  cancelAll(accountId: string): SimOrder[];
  openOrders(accountId: string): SimOrder[];
  /** number of open orders of an account in this book (the venues' MAX_NUM_ORDERS counts these) */
  openCountOf(accountId: string): number;
  /** a fresh order id from the book's allocator, for an order the venue holds outside the book (a stop order) */
  allocOrderId(): string;
  /** open or recently closed order of an account */
  getOrder(accountId: string, ref: { orderId?: string; clientOrderId?: string }): SimOrder | undefined;
  addListener(l: SimBookListener): void;
  removeListener(l: SimBookListener): void;
}

/** Futures position / spot balances per account, driven by fills. */
export interface SimPosition {
  symbol: string;
  /** signed lots: + long, - short */
  sizeLots: number;
  /** entry price in ticks (average of the open position) */
  entryPriceTicks: number;
  realizedPnlQuote: number; // in quote currency, float is fine here (reporting only)
}

/** One wallet per venue, as on the real exchanges: Binance Spot, Binance USD-M futures, Bybit's unified account
 * (its spot and linear categories share one wallet, as on the real UTA). */
export type SimWalletId = 'binanceSpot' | 'binanceUsdm' | 'bybit';
export type SimBalances = Map<string, { free: number; locked: number }>; // asset -> amounts (float, reporting only)

export interface SimAccount {
  id: string; // the API key it is bound to
  /** the Binance Spot wallet (=== wallets.binanceSpot; kept under this name for code written before wallets) */
  balances: SimBalances;
  /** per-venue wallets: a fill moves only the wallet of its market's venue (`walletOf` in accounts.ts) */
  wallets: Record<SimWalletId, SimBalances>;
  positions: Map<string, SimPosition>; // futures markets only, key `${market}:${symbol}`
  /** Binance's BNB fee discount per venue (Spot `spotBNBBurn`, USD-M `feeBurn`): fees paid in BNB when it covers them */
  bnbBurn: { binanceSpot: boolean; binanceUsdm: boolean };
}

/** The resolved fee table (src/sim/core/fees.ts `FeeSchedule` implements it). */
export interface SimFeeTable {
  readonly rates: Readonly<Record<SimMarketId, { maker: number; taker: number }>>;
  /** share of the rate paid in BNB with the discount on */
  readonly bnbDiscount: Readonly<{ binanceSpot: number; binanceUsdm: number }>;
  readonly bnbBurn: Readonly<{ binanceSpot: boolean; binanceUsdm: boolean }>;
  readonly bnbPrice: number;
  rate(market: SimMarketId, maker: boolean): number;
}

/** Faults a test or the control endpoint can inject. Scope by market (and symbol where it makes sense). */
export type SimFault =
  | { kind: 'dropDiff'; market: SimMarketId; symbol: string; count?: number } // skip the next N diff frames (sequence gap)
  | { kind: 'duplicateDiff'; market: SimMarketId; symbol: string; count?: number }
  | { kind: 'reorderDiff'; market: SimMarketId; symbol: string } // swap the next two diff frames
  | { kind: 'stallStream'; market: SimMarketId; ms: number } // send nothing on market streams for ms
  | { kind: 'closeConnections'; market: SimMarketId; which?: 'market' | 'private' | 'wsapi' | 'all' }
  | { kind: 'malformedFrame'; market: SimMarketId; count?: number } // next frames on market streams are broken JSON
  | { kind: 'oversizedFrame'; market: SimMarketId; bytes?: number }
  | { kind: 'httpStatus'; market: SimMarketId; status: 429 | 418 | 500 | 502 | 503 | 504; count?: number; retryAfterSec?: number }
  | { kind: 'clockSkewMs'; market: SimMarketId | 'all'; ms: number } // server clock = real + ms
  | { kind: 'latencyMs'; market: SimMarketId | 'all'; ms: number } // delay every order response by ms
  // Bybit-only (Binance venues ignore them):
  /** push a fresh orderbook `snapshot` mid-stream on the symbol's depth topics (one depth or all), `u` continuing */
  | { kind: 'snapshotReset'; market: SimBybitMarketId; symbol: string; depth?: 1 | 50 | 200 | 1000 }
  /** orderbook service restart: the next message of each depth topic of the symbol is a snapshot with u == 1 */
  | { kind: 'orderbookRestart'; market: SimBybitMarketId; symbol: string }
  /** the Bybit trade WS (shared by both categories: either market turns it on) answers every request with 10019 and
   * closes the connection, for `ms` (default: until `clear`) */
  | { kind: 'tradeServiceRestart'; market: SimBybitMarketId; ms?: number }
  | { kind: 'clear' };

export type SimBybitMarketId = 'bybitSpot' | 'bybitLinear';

/**
 * What the simulated account and its API key look like to the read-only account endpoints (Binance
 * `/sapi/v1/account/apiRestrictions`, `/fapi/v1/positionSide/dual`; Bybit `/v5/user/query-api`, `/v5/account/info`,
 * `/v5/position/list`), so that `tickwire doctor` and the engine's start check meet the accounts they must refuse.
 * Mutable while the simulator runs: the venues' own switches (`POST /fapi/v1/positionSide/dual`,
 * `POST /v5/position/switch-mode`) and the control endpoint (`POST /account`) change it.
 */
export interface SimAccountProfile {
  /** the API key may withdraw (Binance enableWithdrawals, Bybit permissions.Wallet "Withdraw"); default false */
  withdrawals: boolean;
  /** the API key is bound to an IP allowlist (Binance ipRestrict, Bybit ips ["127.0.0.1"] instead of ["*"]); default true */
  ipRestrict: boolean;
  /** Binance USD-M position mode is hedge (dualSidePosition true: orders need positionSide LONG/SHORT); default false */
  binanceUsdmHedge: boolean;
  /** Bybit linear position mode is hedge (both sides, positionIdx 1/2 on every order); default false */
  bybitLinearHedge: boolean;
  /** the Bybit account is a unified trading account (UTA 2.0 Pro); false = a classic account; default true */
  bybitUnified: boolean;
}

export const DEFAULT_ACCOUNT_PROFILE: Readonly<SimAccountProfile> = {
  withdrawals: false,
  ipRestrict: true,
  binanceUsdmHedge: false,
  bybitLinearHedge: false,
  bybitUnified: true,
};

/** The context's account profile (a context built without one gets the defaults, kept on it so changes stick). */
export function accountProfileOf(ctx: SimContext): SimAccountProfile {
  if (!ctx.accountProfile) ctx.accountProfile = { ...DEFAULT_ACCOUNT_PROFILE };
  return ctx.accountProfile;
}

/** Shared services handed to each venue layer at start. */
export interface SimContext {
  /** books by market then symbol */
  books: Map<SimMarketId, Map<string, SimBook>>;
  instruments: Map<SimMarketId, SimInstrument[]>;
  /** server time in ms (with any injected skew for that market) */
  nowMs(market: SimMarketId): number;
  /** account for an API key (created on first use for the configured keys). The HMAC key and the Ed25519 key of a
   * run share ONE account: use `account.id` (not the key) as SimNewOrder.accountId. */
  account(apiKey: string): SimAccount | undefined;
  /** consume (and return) a pending fault of a kind for a market; undefined if none */
  takeFault<K extends SimFault['kind']>(market: SimMarketId, kind: K, symbol?: string): Extract<SimFault, { kind: K }> | undefined;
  /** peek without consuming (for persistent faults like latency/skew/stall) */
  peekFault<K extends SimFault['kind']>(market: SimMarketId, kind: K): Extract<SimFault, { kind: K }> | undefined;
  /** register a hook run when a fault is injected (e.g. closeConnections acts at once) */
  onFault(cb: (f: SimFault) => void): void;
  credentials: SimCredentials;
  /** the fee table (rates per market, the BNB discount): the venues' fee-rate endpoints read it; fills carry their fee */
  fees: SimFeeTable;
  /** book update frames coalescing interval for depth diffs in ms (0 = one frame per batch) */
  depthIntervalMs: number;
  /** (added) register a hook run after a fill changed an account's balances / position (ACCOUNT_UPDATE, wallet,
   * position pushes). Optional so that venue code written before it keeps compiling; the core always provides it. */
  onAccountChange?(cb: (account: SimAccount, instrument: SimInstrument, fill: SimFill) => void): void;
  log: import('../../util/log.js').Logger;
  /** wire-point hooks of the wire-to-wire harness (unset in every other run) */
  wireTap?: SimWireTap;
  /** the account's key permissions and modes (`accountProfileOf` fills in the defaults) */
  accountProfile?: SimAccountProfile;
}

/**
 * Wire-point hooks for `tickwire wire2wire --engine`: the same two points the harness's bare echo server stamps,
 * so that engine and floor are timed from the same wire events (a capture switch's view: packet out, packet in).
 * Called synchronously; keep them to a clock read.
 */
export interface SimWireTap {
  /** a market-data frame is about to be handed to the socket (first publish of a book batch included) */
  mdOut(): void;
  /** a request's bytes have been read: a WS API message arrived, or a REST request's last body chunk (or its
   * headers, when it has no body); runs before the venue parses it */
  orderIn(): void;
}

export interface SimCredentials {
  apiKey: string;
  apiSecret: string;
  ed25519ApiKey: string;
  ed25519PrivateKeyPem: string;
  ed25519PublicKeyPem: string;
}

/** Endpoints of one venue as printed in `tickwire sim`'s JSON line. */
export interface SimVenueEndpoints {
  restBaseUrl: string; // e.g. http://127.0.0.1:40001  (replaces https://api.binance.com)
  wsStreamBaseUrl: string; // e.g. ws://127.0.0.1:40002 (replaces wss://stream.binance.com:9443 / wss://fstream.binance.com / wss://stream.bybit.com)
  wsApiUrl: string; // Binance WS API full URL (.../ws-api/v3, .../ws-fapi/v1) or Bybit trade WS (.../v5/trade)
  wsPrivateUrl?: string; // Bybit private stream full URL (.../v5/private)
  apiKey: string;
  apiSecret: string;
  ed25519ApiKey?: string;
  ed25519PrivateKeyPem?: string;
  ed25519PublicKeyPem?: string;
}

/** What a venue layer returns after it started listening. */
export interface SimVenueHandle {
  endpoints: SimVenueEndpoints;
  close(): Promise<void>;
  /** sockets the venue closed because their connection lifetime ran out, by kind (market, private, wsapi / public, private, trade) */
  lifetimeCloses?(): Record<string, number>;
}

/** A venue layer: binds its uWS app(s) on 127.0.0.1 (port 0 unless given) and wires itself to the books. */
export type SimVenueFactory = (ctx: SimContext, opts: { host: string; port?: number; app?: TemplatedApp }) => Promise<SimVenueHandle>;
