/**
 * What the engine needs from the order-entry layer (src/orders), venue-agnostic. The strategy never sees this:
 * it gets the engine's `OrderApi` (risk first, then here). Implementations: the venue gateways (OrderManager,
 * adapted in src/core/gateway.ts when present) and the in-process paper venue (src/core/paper.ts).
 */
import type { Instrument } from './types.js';
import type { ExchangeOrder, ExchangePosition, OrderEventSink, OrderRequest } from '../orders/types.js';

export interface OrderEntry {
  /** true when this layer records the ack/fill hops itself (the engine then does not) */
  readonly recordsOrderHops?: boolean;
  /** transport the last `place` went over (`Transport` of src/latency/hops.ts; 0 or absent = not known) */
  readonly lastSendVia?: number;
  /** Send a new order under the engine's client id; the outcome arrives as OrderEvents on the sink. */
  place(clientOrderId: string, ins: Instrument, req: OrderRequest): void;
  cancel(clientOrderId: string, ins: Instrument): void;
  /** Change price/qty in place; false when the venue (or this implementation) does not support it. */
  amend(clientOrderId: string, ins: Instrument, price: number, qty: number): boolean;
  /** Cancel-all endpoints on every given instrument, algo/conditional orders included. Resolves when answered. */
  cancelAll(instruments: readonly Instrument[]): Promise<void>;
  /** Query open orders (reconciliation, kill-switch verification). */
  openOrders(instruments: readonly Instrument[]): Promise<ExchangeOrder[]>;
  /** Futures positions (spot: none). */
  positions(instruments: readonly Instrument[]): Promise<ExchangePosition[]>;
  /** One order's state, open or recently closed; undefined when the exchange does not know it. */
  queryOrder(ins: Instrument, clientOrderId: string): Promise<ExchangeOrder | undefined>;
  /** Take over tracking of an order found on the exchange (reconciliation after a restart). */
  adopt?(x: ExchangeOrder, ins: Instrument): void;
  setSink(sink: OrderEventSink): void;
  close(): Promise<void>;
}
