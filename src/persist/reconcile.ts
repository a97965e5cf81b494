/**
 * Reconciliation after a (re)start, before the strategy runs: make the engine's ledger agree with the exchange.
 *
 * - Open orders on the exchange the ledger knows: adopt the exchange's view (fills made while we were down are
 *   booked from the difference in filled quantity).
 * - Open orders the ledger does not know (orphans: an intent lost before its journal batch, or a foreign order):
 *   ours (our client id prefix) are adopted or cancelled per `orphans`; foreign ones are cancelled.
 * - Ledger orders the exchange no longer lists as open: their final state is queried and their missing fills
 *   booked; an order the exchange never saw is closed as REJECTED. Nothing is ever re-sent: no double order.
 * - The probe (`probeId`, from recovery): the one id that may have been sent without a journal record (kill -9
 *   between the send and its write-behind intent). Open, it is an orphan of ours (above); otherwise it is queried
 *   on every instrument and, if the exchange has it, its fills are booked and it is reported as `unjournaled`.
 * - Futures positions: a difference left after that is booked as an adjustment at mid (reported).
 * Every action is journaled, so a crash during reconciliation is itself recoverable.
 */
import { F } from '../core/botstate.js';
import type { Engine } from '../core/engine.js';
import type { Side } from '../core/types.js';
import type { ExchangeOrder } from '../orders/types.js';
import { TERMINAL_STATES } from '../orders/types.js';

export interface ReconcileReport {
  adopted: string[];
  canceled: string[];
  closed: Array<{ id: string; state: string }>;
  fillsBooked: number;
  positionAdjustments: Array<{ instrument: string; ledger: number; exchange: number }>;
  /** orders the exchange had that the journal never recorded (the probe id, found terminal); filled in lots */
  unjournaled: Array<{ id: string; state: string; filled: number }>;
}

export async function reconcile(engine: Engine, orphans: 'adopt' | 'cancel' = 'cancel', probeId?: string): Promise<ReconcileReport> {
  const rep: ReconcileReport = { adopted: [], canceled: [], closed: [], fillsBooked: 0, positionAdjustments: [], unjournaled: [] };
  const ledger = engine.ledger;
  const j = engine.journal;
  const ins = engine.instruments;
  const open = await engine.entry.openOrders(ins);
  const seen = new Set<string>();

  const bookFill = (x: ExchangeOrder, slot: number, qty: number, why: string): void => {
    if (qty <= 0) return;
    ledger.fillAt(slot, x.side, x.price, qty, 0, false);
    j?.append({ t: 'fill', v: x.venue, s: x.symbol, side: x.side, px: x.price, qty, tid: '', why, ms: Date.now() });
    rep.fillsBooked++;
  };

  for (const x of open) {
    const slot = engine.slotOf(x.venue, x.symbol);
    if (slot < 0) continue;
    seen.add(x.clientOrderId);
    const known = ledger.orders.get(x.clientOrderId);
    if (known) {
      bookFill(x, slot, x.filledQty - known.filled, 'reconcile: filled while down');
    } else if (engine.ids.isOurs(x.clientOrderId) && orphans === 'adopt') {
      bookFill(x, slot, x.filledQty, 'reconcile: orphan fills');
    } else {
      if (engine.ids.isOurs(x.clientOrderId)) bookFill(x, slot, x.filledQty, 'reconcile: orphan fills');
      const i = engine.instrument(slot);
      if (i) engine.entry.cancel(x.clientOrderId, i);
      j?.append({ t: 'mark', what: `cancel orphan ${x.venue}:${x.symbol}:${x.clientOrderId}`, ms: Date.now() });
      rep.canceled.push(x.clientOrderId);
      continue;
    }
    ledger.adopt(x, slot);
    const ai = engine.instrument(slot);
    if (ai) engine.entry.adopt?.(x, ai);
    j?.append({ t: 'adopt', id: x.clientOrderId, v: x.venue, s: x.symbol, side: x.side, type: x.type, tif: x.tif, px: x.price, qty: x.qty, filled: x.filledQty, st: x.state, x: x.exchangeOrderId, ms: Date.now() });
    rep.adopted.push(x.clientOrderId);
  }

  // the probe: sent, then killed before its intent was written; if it was open it was handled above
  if (probeId !== undefined && !seen.has(probeId) && !ledger.orders.has(probeId)) {
    for (const i of ins) {
      const x = await engine.entry.queryOrder(i, probeId);
      if (!x) continue;
      if (!TERMINAL_STATES.has(x.state)) {
        // opened between the open-orders list and this query: cancel it like an orphan and book what it filled
        engine.entry.cancel(x.clientOrderId, i);
        rep.canceled.push(x.clientOrderId);
      }
      bookFill(x, i.slot, x.filledQty, 'reconcile: unjournaled order (sent, then killed before its intent was written)');
      j?.append({ t: 'mark', what: `unjournaled order ${x.venue}:${x.symbol}:${x.clientOrderId} ${x.state} filled ${x.filledQty}`, ms: Date.now() });
      rep.unjournaled.push({ id: x.clientOrderId, state: x.state, filled: x.filledQty });
      break;
    }
  }

  for (const o of [...ledger.orders.values()]) {
    if (seen.has(o.id)) continue;
    const i = engine.instrument(o.slot);
    if (!i) continue;
    const x = await engine.entry.queryOrder(i, o.id);
    if (x && !TERMINAL_STATES.has(x.state)) {
      // open after all (raced the list): adopt
      bookFill(x, o.slot, x.filledQty - o.filled, 'reconcile: filled while down');
      ledger.adopt(x, o.slot);
      engine.entry.adopt?.(x, i);
      j?.append({ t: 'adopt', id: x.clientOrderId, v: x.venue, s: x.symbol, side: x.side, type: x.type, tif: x.tif, px: x.price, qty: x.qty, filled: x.filledQty, st: x.state, x: x.exchangeOrderId, ms: Date.now() });
      rep.adopted.push(o.id);
      continue;
    }
    if (x) bookFill(x, o.slot, x.filledQty - o.filled, 'reconcile: filled while down');
    const st = x ? x.state : 'REJECTED';
    ledger.close(o.id, st);
    j?.append({ t: 'close', id: o.id, st, why: x ? 'terminal on exchange' : 'unknown to exchange (never reached it)', ms: Date.now() });
    rep.closed.push({ id: o.id, state: st });
  }

  const pos = await engine.entry.positions(ins);
  for (const p of pos) {
    const slot = engine.slotOf(p.venue, p.symbol);
    if (slot < 0) continue;
    // a position the venue reports must be numbers: a wrong one fails reconciliation (and so the start), never the ledger
    if (!Number.isFinite(p.qty) || !Number.isFinite(p.entryPrice)) throw new Error(`${p.venue}:${p.symbol}: the venue reported a position that is not a number (qty ${p.qty}, entry price ${p.entryPrice})`);
    const diff = p.qty - (ledger.position[slot] as number);
    if (diff !== 0) {
      rep.positionAdjustments.push({ instrument: `${p.venue}:${p.symbol}`, ledger: ledger.position[slot] as number, exchange: p.qty });
      const side: Side = diff > 0 ? 'BUY' : 'SELL';
      const px = engine.state.get(slot, F.mid) || p.entryPrice;
      ledger.fillAt(slot, side, px, Math.abs(diff), 0, false);
      j?.append({ t: 'fill', v: p.venue, s: p.symbol, side, px, qty: Math.abs(diff), tid: '', why: 'reconcile: position adjustment', ms: Date.now() });
    }
  }
  j?.flush();
  return rep;
}
