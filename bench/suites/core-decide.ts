/**
 * The engine's decision path, per book update: BotState read -> market maker (requote decision) -> pre-trade risk
 * -> order bytes (Binance WS API `order.place` frame). One iteration = the book moves by 3 ticks, the strategy pulls
 * both quotes (cancel) and, on the cancel confirmations, places both again: 2 cancels + 2 risk checks + 2 frames.
 * Ids and events are reused (the engine's ledger/journal bookkeeping is not in this path).
 *
 * With `node --expose-gc` (npm run bench has it) it also prints the heap delta over 1,000,000 iterations.
 * Run: npm run bench -- --filter core-decide
 */
import type { Bench } from 'tinybench';
import { BotState, FLAG_VALID } from '../../src/model/botstate.js';
import { instrumentFromSim } from '../../src/exchange/paper.js';
import { makeInstrument } from '../../src/sim/core/instruments.js';
import { PreTradeRisk } from '../../src/risk/pretrade.js';
import { MarketMaker } from '../../src/strategy/marketmaker.js';
import { strategyContext } from '../../src/strategy/context.js';
import { loadConfig } from '../../src/config/load.js';
import { BinanceOrderTemplate } from '../../src/exchange/binance/trade/template.js';
import { blankOrderFields } from '../../src/codec/template.js';
import { AsciiWriter } from '../../src/codec/wire.js';
import { blankOrderEvent, type OrderApi, type OrderRequest } from '../../src/model/orders.js';

interface Rig {
  step(): void;
  frames: number;
  refused: number;
}

function rig(): Rig {
  const vt = new Float64Array([1e12]); // a typed-array slot: a context variable would box every new double
  const cfg = loadConfig({
    env: {},
    overrides: {
      risk: { maxOrdersPerSecond: 1_000_000, maxOpenOrders: 1000 },
      strategy: {
        marketMaker: {
          venue: 'binanceSpot',
          symbol: 'BTCUSDT',
          halfSpreadBps: 0.001,
          size: 0.002,
          requoteTicks: 1,
          minRequoteMs: 0,
          maxOrdersPerSecond: 1_000_000,
        },
      },
    },
  });
  const state = BotState.create(2);
  const ins = instrumentFromSim(makeInstrument('binanceSpot', 'BTCUSDT'), 0);
  const exposure = { position: new Float64Array(2), openBuyQty: new Float64Array(2), openSellQty: new Float64Array(2), openOrders: () => 2 };
  const risk = new PreTradeRisk(state, [ins], exposure, cfg.risk);
  const tpl = new BinanceOrderTemplate('spot', ins);
  const w = new AsciiWriter(1024);
  const f = blankOrderFields();
  const ids = ['twbench-1', 'twbench-2', 'twbench-3', 'twbench-4'];
  let next = 0;
  const pendingCancel: string[] = ['', ''];
  let nCancel = 0;
  const r: Rig = { step: () => {}, frames: 0, refused: 0 };
  const api: OrderApi = {
    place(req: OrderRequest): string | null {
      if (risk.check(req, vt[0]!) !== 0) {
        r.refused++;
        return null;
      }
      const id = ids[next++ & 3]!;
      f.side = req.side;
      f.type = req.type;
      f.tif = req.tif;
      f.price = req.price;
      f.qty = req.qty;
      f.clientOrderId = id;
      tpl.wsPlace(w, id, f);
      r.frames++;
      return id;
    },
    cancel(id: string): boolean {
      pendingCancel[nCancel++ & 1] = id;
      return true;
    },
    cancelAll(): void {},
    amend(): boolean {
      return false;
    },
    placeAlgo: () => null,
    cancelAlgo: () => false,
  };
  // virtual time, 1 ms per clock read: the market maker's pacing (min requote interval, its own and risk's order
  // rate budgets) never binds, so every step is the full decision (both sides cancelled and replaced)
  const mm = new MarketMaker(cfg.strategy.marketMaker, () => (vt[0] = vt[0]! + 1_000_000));
  mm.start(strategyContext({ state, orders: api, portfolio: { position: () => 0, openOrders: () => 0 }, instruments: [ins], slotOf: () => 0 }));
  state.setFlag(0, FLAG_VALID);
  const ev = blankOrderEvent();
  const ack = blankOrderEvent();
  ack.kind = 'ack';
  ack.state = 'ACKED';
  ev.kind = 'cancel';
  ev.state = 'CANCELED';
  let up = false;
  let seq = 1;
  const bid0 = 9_700_000;
  // first quotes, acked
  state.writeTop(0, bid0, 100_000, bid0 + 1, 100_000, seq++, 0, 1);
  mm.onBook(0);
  for (const id of ids) {
    ack.clientOrderId = id;
    mm.onOrderEvent(ack);
  }
  r.step = () => {
    up = !up;
    const bid = up ? bid0 + 3 : bid0;
    state.writeTop(0, bid, 100_000, bid + 1, 100_000, seq++, 0, 1);
    nCancel = 0;
    mm.onBook(0); // pulls both quotes
    for (let i = 0; i < nCancel; i++) {
      ev.clientOrderId = pendingCancel[i]!;
      mm.onOrderEvent(ev); // requotes that side: risk + order bytes
      ack.clientOrderId = ids[(next - 1) & 3]!;
      mm.onOrderEvent(ack);
    }
  };
  return r;
}

export default function register(bench: Bench): void {
  const r = rig();
  for (let i = 0; i < 200_000; i++) r.step();
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc) {
    gc();
    const before = process.memoryUsage().heapUsed;
    const n = 1_000_000;
    for (let i = 0; i < n; i++) r.step();
    const delta = process.memoryUsage().heapUsed - before;
    process.stdout.write(
      `core-decide: ${n} iterations (2 cancels + 2 risk checks + 2 order frames each), heap delta ${delta} B (${(delta / n).toFixed(3)} B/iteration), frames ${r.frames}, refused ${r.refused}\n`,
    );
  } else process.stdout.write('core-decide: allocation check skipped (run with node --expose-gc)\n');
  bench.add('decide: book move -> MM cancel/replace both sides -> risk -> WS order frames (x100)', () => {
    for (let i = 0; i < 100; i++) r.step();
  });
}
