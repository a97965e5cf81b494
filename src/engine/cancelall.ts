/**
 * Cancel every open order on the given instruments and verify by query that none is left, retrying until the
 * venue answers or the deadline passes. The kill switch and every stop of `tickwire run` (graceful, after a failed
 * start) go through here.
 *
 * A round: the venues' cancel-all endpoints (algo/conditional included), then an open-orders query. A round that
 * fails (the venue does not answer, a 5xx, an IP ban whose Retry-After has not passed yet, a halted gateway) is
 * retried after a pause that doubles from `minDelayMs` to `maxDelayMs`: a venue that was unreachable for a moment
 * is no reason to leave an order open. Each failed round is logged (warn) with what failed.
 */
import type { ExchangeOrder } from '../model/orders.js';
import type { OrderManager } from '../orders/manager.js';
import type { Instrument } from '../model/types.js';
import type { Logger } from '../util/log.js';
import { nowNs } from '../util/clock.js';

export interface CancelAllOptions {
  /** give up after this long, ms */
  timeoutMs: number;
  /** first pause between rounds, ms (default 50) */
  minDelayMs?: number;
  /** longest pause between rounds, ms (default 1000) */
  maxDelayMs?: number;
  logger?: Logger | undefined;
  /** what is cancelling, for the log lines (e.g. 'stop', 'kill switch', 'failed start') */
  what: string;
}

export interface CancelAllResult {
  verified: boolean;
  /** orders still open at the last successful query (empty when verified) */
  remaining: ExchangeOrder[];
  rounds: number;
  /** ns (nowNs) of the last cancel-all answered without error, or -1 */
  lastCancelAnswerNs: number;
  /** ns of the query that showed nothing open, or -1 */
  verifiedNs: number;
  /** distinct errors, in order, at most 20 */
  errors: string[];
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export async function cancelAndVerify(
  orders: Pick<OrderManager, 'cancelAllOf' | 'openOrdersOf'> & Partial<Pick<OrderManager, 'stopResends'>>,
  instruments: readonly Instrument[],
  o: CancelAllOptions,
): Promise<CancelAllResult> {
  const end = Date.now() + o.timeoutMs;
  let delay = o.minDelayMs ?? 50;
  const maxDelay = o.maxDelayMs ?? 1000;
  const res: CancelAllResult = { verified: false, remaining: [], rounds: 0, lastCancelAnswerNs: -1, verifiedNs: -1, errors: [] };
  const note = (e: unknown, step: string): string => {
    const msg = `${step}: ${(e as Error)?.message ?? String(e)}`;
    if (!res.errors.includes(msg) && res.errors.length < 20) res.errors.push(msg);
    return msg;
  };
  // an order whose send met a timeout or a 5xx is queried and, proven absent, sent again: not now, or it could land
  // after the cancel-all below was verified (the resend is rejected instead)
  orders.stopResends?.(o.what);
  for (;;) {
    res.rounds++;
    const failed: string[] = [];
    try {
      await orders.cancelAllOf(instruments);
      res.lastCancelAnswerNs = nowNs();
    } catch (e) {
      failed.push(note(e, 'cancelAll'));
    }
    try {
      const open = await orders.openOrdersOf(instruments);
      res.remaining = open;
      if (open.length === 0) {
        res.verified = true;
        res.verifiedNs = nowNs();
        if (res.rounds > 1) o.logger?.warn({ what: o.what, rounds: res.rounds }, 'cancel-all verified after retries');
        return res;
      }
    } catch (e) {
      failed.push(note(e, 'openOrders'));
    }
    const left = end - Date.now();
    if (left <= 0) break;
    o.logger?.warn(
      { what: o.what, round: res.rounds, open: res.remaining.length, errors: failed, retryInMs: Math.min(delay, left) },
      'cancel-all not verified yet: retrying',
    );
    await sleep(Math.min(delay, left));
    delay = Math.min(delay * 2, maxDelay);
  }
  o.logger?.error(
    { what: o.what, rounds: res.rounds, open: res.remaining.map((x) => `${x.venue}:${x.symbol}:${x.clientOrderId}`), errors: res.errors },
    'cancel-all NOT verified: orders may be open on the exchange',
  );
  return res;
}
