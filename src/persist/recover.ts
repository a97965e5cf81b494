/**
 * Start-up recovery: load the snapshot (v2, or v1 of the former Ledger), replay the journal after it into the order
 * owner (OrderStore: the same state machine and portfolio as live trading), and report a corrupt or truncated tail
 * (recovered up to the last valid record; the caller truncates the rest when it reopens the journal).
 */
import { join } from 'node:path';
import type { OrderStore } from '../orders/state.js';
import { nowNs } from '../util/clock.js';
import type { OrderEvent, OrderEventKind, OrderState, OrderType, TimeInForce } from '../model/orders.js';
import { blankOrderEvent } from '../model/orders.js';
import type { Side, VenueId } from '../model/types.js';
import { IDS_MARK, successorId } from '../model/ids.js';
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

/** Replay one journal record into the owner. false when it names an instrument not configured any more. */
export function applyRecord(store: OrderStore, r: JournalRecord, ev: OrderEvent): boolean {
  const p = store.portfolio;
  switch (r.t) {
    case 'intent': {
      const slot = p.slotOf(r.v, r.s);
      if (slot < 0) return false;
      if (store.get(r.id)) return true;
      store.create({
        clientOrderId: r.id,
        venue: r.v as VenueId,
        symbol: r.s,
        slot,
        side: r.side as Side,
        type: r.type as OrderType,
        tif: r.tif as TimeInForce,
        price: r.px,
        qty: r.qty,
        reduceOnly: false,
        manual: r.manual === true,
        nowNs: nowNs(),
        nowMs: r.ms,
      });
      return true;
    }
    case 'event': {
      // no cancel request is journaled, so a rejected cancel finds no CANCEL_PENDING and changes nothing, as live
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
      ev.exchTimeMs = r.ms;
      ev.localNs = nowNs();
      ev.source = 'stream';
      store.apply(ev);
      return true;
    }
    case 'adopt': {
      const slot = p.slotOf(r.v, r.s);
      if (slot < 0) return false;
      store.adopt(
        {
          venue: r.v as VenueId,
          symbol: r.s,
          clientOrderId: r.id,
          exchangeOrderId: r.x,
          side: r.side as Side,
          type: r.type as OrderType,
          tif: r.tif as TimeInForce,
          price: r.px,
          qty: r.qty,
          filledQty: r.filled,
          state: r.st as OrderState,
          updateTimeMs: r.ms,
        },
        slot,
        r.filled,
        nowNs(),
      );
      return true;
    }
    case 'close':
      store.close(r.id, r.st as OrderState, nowNs());
      return true;
    case 'fill': {
      // a fill of no order record: a position adjustment, or an old journal's reconciliation fill
      const slot = p.slotOf(r.v, r.s);
      if (slot < 0) return false;
      store.bookUnattributed(r.v, r.s, slot, r.side as Side, r.px, r.qty, r.tid);
      return true;
    }
    case 'mark':
      return true;
  }
}

export function recover(dir: string, store: OrderStore): RecoveryReport {
  const snap = readSnapshot(dir);
  if (snap?.version === 2) store.restore(snap.owner, nowNs());
  else if (snap?.version === 1) store.restoreV1(snap.ledger, snap.writtenAtMs, nowNs());
  const from = snap?.journalOffset ?? 0;
  const res = readJournal(join(dir, JOURNAL_FILE), from);
  const ev = blankOrderEvent();
  let skipped = 0;
  // the probe: start from the snapshot's next id; a later life's ids mark restarts it; each intent of that life
  // moves it to the intent's successor (intents of other generators, e.g. manual ones, have the same base)
  let probeId = snap?.nextId;
  let base = probeId !== undefined ? probeId.slice(0, probeId.lastIndexOf('-') + 1) : undefined;
  for (const r of res.records) {
    if (!applyRecord(store, r, ev)) skipped++;
    if (r.t === 'mark' && r.what.startsWith(IDS_MARK)) {
      base = r.what.slice(IDS_MARK.length);
      probeId = base + '1';
    } else if (r.t === 'intent' && base !== undefined && r.id.startsWith(base)) {
      const next = successorId(r.id);
      if (next !== undefined) probeId = next;
    }
  }
  return {
    snapshotAtMs: snap?.writtenAtMs,
    fromOffset: from,
    replayed: res.records.length,
    validBytes: res.validBytes,
    badTail: res.badTail,
    skipped,
    probeId,
  };
}
