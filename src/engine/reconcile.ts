/**
 * Reconciliation at (re)start, before the strategy runs: the order owner's one reconciliation
 * (src/orders/manager.ts `reconcile`, the same run a private-stream gap starts) with its start-up part, on every
 * venue, then the futures positions.
 *
 * - Open orders on the exchange the owner knows: their state is queried; fills made while we were down are booked
 *   from the venue's trade history with their real trade id, exchange order id and price.
 * - Open orders the owner does not know (orphans: an intent lost before its journal batch, or a foreign order):
 *   ours (our client id prefix) are adopted (tracked; their fills booked the same way), then kept or cancelled per
 *   `orphans`; foreign ones are cancelled.
 * - Owner orders the exchange no longer lists as open: their final state is queried and their missing fills
 *   backfilled; an order the exchange never saw is closed as REJECTED. Nothing is ever re-sent: no double order.
 * - The probe (`probeId`, from recovery): the one id that may have been sent without a journal record (kill -9
 *   between the send and its write-behind intent). Open, it is an orphan of ours (above); otherwise it is queried
 *   on every instrument and, if the exchange has it, it is adopted, its fills booked, and it is reported as
 *   `unjournaled`.
 * - Futures positions: a difference left after that is booked as an adjustment at mid (reported).
 * Every action is journaled (the engine journals the owner's events, adoptions and closes), so a crash during
 * reconciliation is itself recoverable.
 */
import { F } from '../model/botstate.js';
import type { Engine } from './engine.js';
import type { Side } from '../model/types.js';
import { blankStartupReport, type StartupReport } from '../orders/manager.js';

export interface ReconcileReport extends StartupReport {
  positionAdjustments: Array<{ instrument: string; ledger: number; exchange: number }>;
}

export async function reconcile(engine: Engine, orphans: 'adopt' | 'cancel' = 'cancel', probeId?: string): Promise<ReconcileReport> {
  const report = blankStartupReport();
  const om = engine.orders;
  const p = engine.portfolio;
  const j = engine.journal;
  const ins = engine.instruments;
  for (const venue of om.venues()) {
    if (!ins.some((i) => i.venue === venue)) continue;
    await om.reconcile(venue, { orphans, probeId, report });
  }
  // let the events of cancels sent above land before the positions are compared
  await new Promise((r) => setImmediate(r));

  const rep: ReconcileReport = { ...report, positionAdjustments: [] };
  const pos = await om.positionsOf(ins);
  for (const x of pos) {
    const slot = engine.slotOf(x.venue, x.symbol);
    if (slot < 0) continue;
    // a position the venue reports must be numbers: a wrong one fails reconciliation (and so the start), never the portfolio
    if (!Number.isFinite(x.qty) || !Number.isFinite(x.entryPrice))
      throw new Error(`${x.venue}:${x.symbol}: the venue reported a position that is not a number (qty ${x.qty}, entry price ${x.entryPrice})`);
    const have = p.position[slot] as number;
    const diff = x.qty - have;
    if (diff !== 0) {
      rep.positionAdjustments.push({ instrument: `${x.venue}:${x.symbol}`, ledger: have, exchange: x.qty });
      const side: Side = diff > 0 ? 'BUY' : 'SELL';
      const px = engine.state.get(slot, F.mid) || x.entryPrice;
      om.bookAdjustment(x.venue, x.symbol, slot, side, px, Math.abs(diff));
      j?.append({ t: 'fill', v: x.venue, s: x.symbol, side, px, qty: Math.abs(diff), tid: '', why: 'reconcile: position adjustment', ms: Date.now() });
    }
  }
  j?.flush();
  return rep;
}
