/**
 * The engine's order path as production wires it, with a stub venue in place of the network: shared by the bench
 * suite bench/suites/orders-path.ts and the allocation test test/core/orderpath-alloc.test.ts.
 *
 *   Engine.place (OrderApi) -> pre-trade risk -> OrderManager.intent (the one order record, OrderStore) -> send
 *   -> StubVenue.place -> journal intent (write-behind, one write(2))
 *   venue answers: StubVenue -> OrderManager (state machine, portfolio) -> Engine.onOrderEvent -> journal event
 *
 * Built with the public constructors `wireNetwork` (src/app/wiring.ts) and `runEngine` (src/app/run.ts) use:
 * OrderManager (the order owner, with its one id generator), the Journal opened on a directory, and the Engine. The one venue is Binance Spot BTCUSDT with the simulator's
 * reference data; its book sits at 97,000.00 / 97,000.01 so every order passes risk.
 *
 * The stub venue answers synchronously when the driver asks it to (`ack`, `fill`, `canceled`), right after the
 * engine call returned, as a private-stream frame would in a later turn: no sockets, no timers. It reports through
 * one reused OrderEvent (as the real gateways do) and makes only the strings a venue's answers bring: one exchange
 * order id per order and one trade id per fill (the parsers make those too).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BotState, FLAG_VALID } from '../src/model/botstate.js';
import { Engine } from '../src/engine/engine.js';
import { IDS_MARK } from '../src/model/ids.js';
import { instrumentFromSim } from '../src/exchange/paper.js';
import type { Instrument, VenueId } from '../src/model/types.js';
import { loadConfig } from '../src/config/load.js';
import { nowNs } from '../src/util/clock.js';
import { HopRecorder, Transport } from '../src/util/hops.js';
import type { GatewayOrder, VenueGateway } from '../src/orders/gateway.js';
import { OrderManager } from '../src/orders/manager.js';
import { blankOrderEvent, resetOrderEvent, type ExchangeOrder, type ExchangePosition, type OrderEvent, type OrderRequest } from '../src/model/orders.js';
import { Journal } from '../src/persist/journal.js';
import { REFUSAL_NAMES } from '../src/risk/pretrade.js';
import { makeInstrument } from '../src/sim/core/instruments.js';

/** A venue gateway without a network: it keeps the last order sent and answers when told to. */
export class StubVenue implements VenueGateway {
  onEvent: (ev: OrderEvent) => void = () => undefined;
  onStreamResync: () => void = () => undefined;
  /** the order of the last place / cancel call (the manager's record, as a real gateway gets it) */
  placed: GatewayOrder | undefined;
  cancelled: GatewayOrder | undefined;
  places = 0;
  cancels = 0;
  private readonly ev: OrderEvent = blankOrderEvent();
  private exchSeq = 8_000_000_000;
  private tradeSeq = 1_000_000_000;
  private timeMs = 1_763_776_800_000;

  constructor(
    readonly venue: VenueId,
    private readonly symbol: string,
    private readonly quote: string,
  ) {}

  async start(): Promise<void> {}
  async stop(): Promise<void> {}
  isHalted(): boolean {
    return false;
  }

  place(o: GatewayOrder): void {
    o.sentNs = nowNs();
    o.sentVia = Transport.Ws;
    this.places++;
    this.placed = o;
  }

  cancel(o: GatewayOrder): void {
    this.cancels++;
    this.cancelled = o;
  }

  private begin(o: GatewayOrder): OrderEvent {
    const ev = this.ev;
    resetOrderEvent(ev, this.venue, 'stream');
    ev.symbol = this.symbol;
    ev.clientOrderId = o.clientOrderId;
    ev.exchangeOrderId = o.exchangeOrderId;
    ev.exchTimeMs = ++this.timeMs;
    return ev;
  }

  /** The venue accepted the order: its exchange order id (a new string, as the parser makes it). */
  ack(o: GatewayOrder): void {
    const ev = this.begin(o);
    ev.exchangeOrderId = String(++this.exchSeq);
    ev.kind = 'ack';
    ev.state = 'ACKED';
    ev.localNs = nowNs();
    this.onEvent(ev);
  }

  /** A trade of `qty` at the order's price, `cumQty` filled in all (a new trade id string per fill). */
  fill(o: GatewayOrder, qty: number, cumQty: number): void {
    const ev = this.begin(o);
    ev.kind = 'fill';
    ev.state = cumQty >= o.qty ? 'FILLED' : 'PARTIALLY_FILLED';
    ev.tradeId = String(++this.tradeSeq);
    ev.fillPrice = o.price;
    ev.fillQty = qty;
    ev.cumQty = cumQty;
    ev.fee = 0.0097;
    ev.feeAsset = this.quote;
    ev.maker = true;
    ev.localNs = nowNs();
    this.onEvent(ev);
  }

  /** The venue cancelled the order. */
  canceled(o: GatewayOrder): void {
    const ev = this.begin(o);
    ev.kind = 'cancel';
    ev.state = 'CANCELED';
    ev.localNs = nowNs();
    this.onEvent(ev);
  }

  async cancelAll(): Promise<void> {}
  async queryOrder(): Promise<ExchangeOrder | null> {
    return null;
  }
  async openOrders(): Promise<ExchangeOrder[]> {
    return [];
  }
  async positions(): Promise<ExchangePosition[]> {
    return [];
  }
}

export interface OrderPathOptions {
  /** write the journal (fsync 'never') into a new temp directory; false: an engine without a journal */
  journal: boolean;
}

export interface OrderPath {
  readonly engine: Engine;
  readonly manager: OrderManager;
  readonly venue: StubVenue;
  readonly journal: Journal | undefined;
  readonly instrument: Instrument;
  /** One order: place, ack, partial fill (half), fill (the rest). Sides alternate, so the position stays flat. */
  fillCycle(): void;
  /** One order: place, ack, cancel, canceled. */
  cancelCycle(): void;
  /** Write the journal's queued acks and fills (what its batch timer does every `batchMs`). */
  flush(): void;
  /** orders completed by the cycles */
  cycles: number;
  /** Stop the engine (journal closed) and remove the temp directory; once. */
  close(): void;
}

/** order size 0.002 BTC (qty units of 10^-5), filled in two halves */
const QTY = 200;
const BID = 9_700_000;
const ASK = 9_700_001;

export async function orderPath(opts: OrderPathOptions): Promise<OrderPath> {
  const dir = opts.journal ? mkdtempSync(join(tmpdir(), 'tw-orderpath-')) : undefined;
  const config = loadConfig({
    env: {},
    overrides: {
      // the per-second order budget is a ring of send times: the largest allowed, so the rate limit never binds
      risk: { maxOrdersPerSecond: 1_000_000, maxManualOrdersPerSecond: 1_000_000 },
      persistence: { dir: dir ?? join(tmpdir(), 'tw-orderpath-unused'), fsync: 'never', snapshotIntervalMs: 3_600_000 },
    },
  });
  const state = BotState.create(8);
  const ins = instrumentFromSim(makeInstrument('binanceSpot', 'BTCUSDT'), 0);
  const instruments = [ins];
  state.writeTop(ins.slot, BID, 100_000, ASK, 100_000, 1, 0, 1);
  state.setFlag(ins.slot, FLAG_VALID);
  const hops = new HopRecorder();
  const venue = new StubVenue(ins.venue, ins.symbol, ins.quote);
  // as wireNetwork: the order owner over the venue gateways
  const manager = new OrderManager({ instruments, gateways: [venue], hops, slots: state.slots });
  // as runEngine: journal, engine, the ids mark, then the gateways start and the engine last
  const journal = dir ? Journal.open(dir, config.persistence) : undefined;
  const engine = new Engine({ config, state, instruments, orders: manager, hops, journal });
  journal?.appendNow({ t: 'mark', what: IDS_MARK + engine.ids.base, ms: Date.now() });
  await manager.start();
  engine.start();

  const req: OrderRequest = { slot: ins.slot, side: 'BUY', type: 'LIMIT', tif: 'GTC', price: BID, qty: QTY };
  let buy = false;
  let closed = false;
  const place = (): GatewayOrder => {
    buy = !buy;
    req.side = buy ? 'BUY' : 'SELL';
    req.price = buy ? BID : ASK;
    const id = engine.place(req);
    const o = venue.placed;
    if (id === null || o === undefined || o.clientOrderId !== id) throw new Error(`order refused: ${REFUSAL_NAMES[engine.lastRefusal]}`);
    return o;
  };
  const p: OrderPath = {
    engine,
    manager,
    venue,
    journal,
    instrument: ins,
    cycles: 0,
    fillCycle() {
      const o = place();
      venue.ack(o);
      venue.fill(o, QTY / 2, QTY / 2);
      venue.fill(o, QTY / 2, QTY);
      p.cycles++;
    },
    cancelCycle() {
      const o = place();
      venue.ack(o);
      if (!engine.cancel(o.clientOrderId) || venue.cancelled !== o) throw new Error(`cancel of ${o.clientOrderId} not sent`);
      venue.canceled(o);
      p.cycles++;
    },
    flush() {
      journal?.flush();
    },
    close() {
      if (closed) return;
      closed = true;
      engine.shutdown();
      if (dir) rmSync(dir, { recursive: true, force: true });
    },
  };
  return p;
}
