/**
 * Start-up recovery: load the snapshot, replay the journal after it into a Ledger (the same apply logic as live
 * trading), and report a corrupt or truncated tail (recovered up to the last valid record; the caller truncates
 * the rest when it reopens the journal).
 */
import { join } from 'node:path';
import type { Ledger } from '../core/ledger.js';
import type { OrderEvent, OrderEventKind, OrderState, OrderType, TimeInForce } from '../orders/types.js';
import { blankOrderEvent } from '../orders/types.js';
import type { Side, VenueId } from '../core/types.js';
import { IDS_MARK, successorId } from '../core/ids.js';
import { JOURNAL_FILE, readJournal, type BadTail, type JournalRecord } from './journal.js';
import { readSnapshot } from './snapshot.js';

export interface RecoveryReport {
  snapshotAtMs: number | undefined;
  fromOffset: number;
  replayed: number;
  validBytes: number;
  badTail: BadTail | undefined;
  /** records that named an instrument not configured any more */
  skipped: number;
  /**
   * The one client id that may have reached the exchange without a journal record: the id the last engine life
   * would have used after its last journaled intent (intents are written right after the send, so a kill -9
   * between the two leaves at most this one order unjournaled). Reconciliation queries it. Undefined when the
   * journal names no id generator (a fresh directory).
   */
  probeId: string | undefined;
}

export function applyRecord(ledger: Ledger, r: JournalRecord, ev: OrderEvent): boolean {
  switch (r.t) {
    case 'intent': {
      const slot = ledger.slotOf(r.v, r.s);
      if (slot < 0) return false;
      ledger.intent(r.id, { slot, side: r.side as Side, type: r.type as OrderType, tif: r.tif as TimeInForce, price: r.px, qty: r.qty }, 0, r.manual === true);
      return true;
    }
    case 'event': {
      // live, a rejected cancel leaves the order as it is (engine.onOrderEvent): replay does the same
      if (r.k === 'cancelReject') return true;
      ev.venue = r.v as VenueId;
      ev.symbol = r.s;
      ev.kind = r.k as OrderEventKind;
      ev.clientOrderId = r.id;
      ev.exchangeOrderId = r.x;
      ev.state = r.st as OrderState;
      ev.tradeId = r.tid;
      ev.fillPrice = r.px;
      ev.fillQty = r.qty;
      ev.cumQty = r.cum;
      ev.fee = r.fee;
      ev.feeAsset = r.fa;
      ev.orderPrice = r.op ?? 0;
      ev.orderQty = r.oq ?? 0;
      ledger.apply(ev);
      return true;
    }
    case 'adopt': {
      const slot = ledger.slotOf(r.v, r.s);
      if (slot < 0) return false;
      ledger.adopt(
        { venue: r.v as VenueId, symbol: r.s, clientOrderId: r.id, exchangeOrderId: r.x, side: r.side as Side, type: r.type as OrderType, tif: r.tif as TimeInForce, price: r.px, qty: r.qty, filledQty: r.filled, state: r.st as OrderState, updateTimeMs: r.ms },
        slot,
      );
      return true;
    }
    case 'close':
      ledger.close(r.id, r.st as OrderState);
      return true;
    case 'fill': {
      const slot = ledger.slotOf(r.v, r.s);
      if (slot < 0) return false;
      if (r.tid !== '' && ledger.hasTrade(r.v, r.s, r.tid)) return true;
      ledger.fillAt(slot, r.side as Side, r.px, r.qty, 0, false);
      return true;
    }
    case 'mark':
      return true;
  }
}

export function recover(dir: string, ledger: Ledger): RecoveryReport {
  const snap = readSnapshot(dir);
  if (snap) ledger.restore(snap.ledger);
  const from = snap?.journalOffset ?? 0;
  const res = readJournal(join(dir, JOURNAL_FILE), from);
  const ev = blankOrderEvent();
  let skipped = 0;
  // the probe: start from the snapshot's next id; a later life's ids mark restarts it; each intent of that life
  // moves it to the intent's successor (intents of other generators, e.g. manual ones, have the same base)
  let probeId = snap?.nextId;
  let base = probeId !== undefined ? probeId.slice(0, probeId.lastIndexOf('-') + 1) : undefined;
  for (const r of res.records) {
    if (!applyRecord(ledger, r, ev)) skipped++;
    if (r.t === 'mark' && r.what.startsWith(IDS_MARK)) {
      base = r.what.slice(IDS_MARK.length);
      probeId = base + '1';
    } else if (r.t === 'intent' && base !== undefined && r.id.startsWith(base)) {
      const next = successorId(r.id);
      if (next !== undefined) probeId = next;
    }
  }
  return { snapshotAtMs: snap?.writtenAtMs, fromOffset: from, replayed: res.records.length, validBytes: res.validBytes, badTail: res.badTail, skipped, probeId };
}
