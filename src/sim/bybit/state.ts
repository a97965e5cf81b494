/**
 * State of one Bybit venue shared by its parts: the symbols (book, feeds, formatting, market history), the accounts
 * as the venue sees them (orderLinkIds used, recent orders, executions, private connections, leverage, margin mode,
 * DCP), the open sockets, the rate limits, and the venue's order ids (core id <-> Bybit's id shapes).
 */
import type { SimBook, SimBookListener, SimContext, SimMarketId, SimOrder } from '../core/types.js';
import type { TemplatedApp } from '../../util/uws.js';
import { makeConnIdPrefix, type Category, type InstrumentFmt } from './common.js';
import type { MarketHistory } from './market.js';
import type { DepthFeed, Depth, TickerFeed, TradeFeed } from './feeds.js';
import type { Ws, WsKind } from './conn.js';
import { Limits } from './limits.js';
import type { BybitVenueOptions, DcpProduct } from './options.js';
import { isOpen, type OrderExtra } from './orders.js';

export interface AcctState {
  /** orderLinkIds ever used (110072 even after the order closed), per category */
  usedLinkIds: Record<Category, Set<string>>;
  /** recent orders by orderId (latest state), for openOnly=1 and order pushes */
  recent: Map<string, { category: Category; symbol: string; order: SimOrder }>;
  extras: Map<string, OrderExtra>;
  /** recent executions, newest last; `n` increases by one per execution of the account (the list cursor) */
  execs: Array<{ n: number; category: Category; symbol: string; orderId: string; link: string; time: number; json: string }>;
  execN: number;
  conns: Set<Ws>;
  privMsgSeq: number;
  /** linear leverage per symbol (POST /v5/position/set-leverage; default 10) */
  leverage: Map<string, string>;
  /** POST /v5/account/set-margin-mode (GET /v5/account/info shows it) */
  marginMode: string;
  marginModeUpdatedMs: number;
  /** DCP per product: window (s), countdown after the last dcp-subscribed private connection went away, fired count */
  dcp: Record<DcpProduct, { windowSec: number; timer: NodeJS.Timeout | undefined; started: number; fired: number }>;
}

const MAX_RECENT = 2000;
/** executions kept per account (GET /v5/execution/list) */
export const MAX_EXECS = 5000;

export interface SymState {
  category: Category;
  market: SimMarketId;
  symbol: string;
  book: SimBook;
  fmt: InstrumentFmt;
  depthFeeds: Map<Depth, DepthFeed>;
  trades: TradeFeed;
  tickers: TickerFeed;
  /** recent public trades and one-minute candles (REST recent-trade, kline) */
  hist: MarketHistory;
  cts: number;
  listener: SimBookListener;
}

/** linear order ids: UUID-shaped, the last group is the core's order id (unique per market) */
const LINEAR_ID_PREFIX = '5f1c0a7e-0000-4000-8000-';

export class VenueState {
  readonly syms = new Map<string, SymState>(); // `${category}|${symbol}`
  readonly accts = new Map<string, AcctState>();
  readonly conns: Record<WsKind, Set<Ws>> = { public: new Set(), private: new Set(), trade: new Set() };
  readonly limits: Limits;
  readonly connPrefix = makeConnIdPrefix();
  readonly startedMs = Date.now();
  closed = false;
  /** set while this venue cancels (the order pushes' `cancelType`: CancelByUser, CancelByDCP) */
  cancelling: string | undefined = undefined;
  /** core id of the order a conditional order placed when it triggered -> the conditional order's venue id (Bybit
   * keeps one orderId from Untriggered to Filled), and back */
  readonly aliases = new Map<string, string>();
  readonly aliasOf = new Map<string, string>();

  constructor(
    readonly ctx: SimContext,
    readonly opts: BybitVenueOptions,
    readonly app: TemplatedApp,
  ) {
    this.limits = new Limits(opts.rateLimits);
  }

  /**
   * Venue order id for a core order id. The core's ids are unique across the books of a market (one allocator per
   * market), so no symbol index is needed: spot shows the core id itself (19 digits from 1850000000000000000, as
   * Bybit's), linear a UUID-shaped string whose last group is the core id.
   */
  extId(st: SymState, coreId: string): string {
    const alias = this.aliases.get(coreId);
    if (alias !== undefined) return alias;
    if (st.category === 'linear') return `${LINEAR_ID_PREFIX}${coreId.padStart(12, '0')}`;
    return coreId;
  }

  /** core order id of a venue order id (the order may still belong to another symbol: the book lookup decides) */
  coreId(st: SymState, ext: string): string | undefined {
    const aliased = this.aliasOf.get(ext);
    if (aliased !== undefined) return aliased;
    if (st.category === 'linear') {
      if (!ext.startsWith(LINEAR_ID_PREFIX)) return undefined;
      const tail = ext.slice(LINEAR_ID_PREFIX.length);
      return /^\d{1,30}$/.test(tail) ? BigInt(tail).toString() : undefined;
    }
    return /^\d{1,30}$/.test(ext) ? BigInt(ext).toString() : undefined;
  }

  /** set while a triggered conditional order is submitted: its core order takes the conditional's venue id */
  pendingAlias: { accountId: string; clientOrderId: string; ext: string } | undefined;

  /** the order as the venue shows it (its venue id) */
  ext(st: SymState, o: SimOrder): SimOrder {
    const p = this.pendingAlias;
    if (p && o.accountId === p.accountId && o.clientOrderId === p.clientOrderId && !this.aliases.has(o.orderId)) {
      this.aliases.set(o.orderId, p.ext);
      this.aliasOf.set(p.ext, o.orderId);
    }
    return { ...o, orderId: this.extId(st, o.orderId) };
  }

  /** the symbol of a category, if listed */
  sym(category: Category, symbol: string): SymState | undefined {
    return this.syms.get(`${category}|${symbol}`);
  }

  /** the venue's record of an account (created on first use) */
  acct(apiKey: string): AcctState {
    let a = this.accts.get(apiKey);
    if (!a) {
      a = {
        usedLinkIds: { spot: new Set(), linear: new Set() },
        recent: new Map(),
        extras: new Map(),
        execs: [],
        execN: 0,
        conns: new Set(),
        privMsgSeq: 0,
        leverage: new Map(),
        marginMode: 'REGULAR_MARGIN',
        marginModeUpdatedMs: this.startedMs,
        dcp: {
          DERIVATIVES: { windowSec: this.opts.dcpDefaultWindowSec ?? 10, timer: undefined, started: 0, fired: 0 },
          SPOT: { windowSec: this.opts.dcpDefaultWindowSec ?? 10, timer: undefined, started: 0, fired: 0 },
          OPTIONS: { windowSec: this.opts.dcpDefaultWindowSec ?? 10, timer: undefined, started: 0, fired: 0 },
        },
      };
      this.accts.set(apiKey, a);
    }
    return a;
  }

  /** what Bybit shows of an order beyond the core's record (cancel type, reject reason, fees), created on first use */
  extraFor(a: AcctState, o: SimOrder, st: SymState): OrderExtra {
    let x = a.extras.get(o.orderId);
    if (!x) {
      const last = st.book.bestBid();
      x = {
        cancelType: 'UNKNOWN',
        rejectReason: 'EC_NoError',
        cumFee: 0,
        feeCoin: st.category === 'spot' ? (o.side === 'BUY' ? st.fmt.inst.base : st.fmt.inst.quote) : st.fmt.inst.quote,
        lastPriceOnCreated: last ? st.fmt.price(last.priceTicks) : '',
      };
      a.extras.set(o.orderId, x);
    }
    return x;
  }

  /** keep a copy of the order's latest state (order history, openOnly); past MAX_RECENT the oldest closed one is dropped */
  remember(a: AcctState, st: SymState, o: SimOrder): void {
    a.recent.delete(o.orderId);
    a.recent.set(o.orderId, { category: st.category, symbol: st.symbol, order: { ...o } });
    if (a.recent.size > MAX_RECENT) {
      for (const [id, r] of a.recent) {
        if (!isOpen(r.order.status)) {
          a.recent.delete(id);
          a.extras.delete(id);
          break;
        }
        if (a.recent.size <= MAX_RECENT) break;
      }
    }
  }
}
