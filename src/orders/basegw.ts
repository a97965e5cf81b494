/**
 * What every venue gateway shares: the event object it reports through, the corrected clock, the rate limiter,
 * and the "never lose, never double" recovery logic for sends whose outcome is unknown:
 *
 *   unknown (timeout, 5xx, disconnect) or duplicate-client-id reject
 *     -> query the order by client id (with a short backoff, a few times)
 *        found     -> report its state (source 'query')
 *        not found -> resend with the SAME client id (a late original then makes the resend a duplicate reject,
 *                     which leads back here and finds it), at most `maxResends` times
 *        query keeps failing -> leave it NEW_PENDING and list it in `unresolved` for reconciliation
 *   clock (-1021 / 10002) -> one debounced resync, then one retry with the same id
 *   rate limited (429 / 10006) -> back off by Retry-After, report a reject (nothing was placed)
 *   banned (418 / Bybit 403) -> refuse orders until the ban's Retry-After, then resume (no Retry-After: halt);
 *   auth -> halt the venue until an operator resumes it; either way report a reject
 */
import type { VenueId } from '../model/types.js';
import { Hop, Transport, type HopRecorder } from '../util/hops.js';
import { VENUE_INDEX } from '../model/types.js';
import { nowNs, wallMsOf } from '../util/clock.js';
import { log } from '../util/log.js';
import type { DegradationSample, DegradationSource } from '../util/degrade.js';
import type { ServerClock } from '../net/clock.js';
import type { FailureClass, GatewayOrder } from './gateway.js';
import type { VenueRateLimiter } from '../net/ratelimit.js';
import { RestError } from '../net/rest.js';
import {
  blankOrderEvent,
  resetOrderEvent,
  type AlgoEvent,
  TERMINAL_STATES,
  type ExchangeOrder,
  type OrderEvent,
  type OrderEventKind,
  type OrderState,
} from '../model/orders.js';

export type SendOutcome = { ok: true } | { ok: false; cls: FailureClass | 'notSent'; code: number; reason: string };

export const OK: SendOutcome = { ok: true };

export function fail(cls: FailureClass | 'notSent', code: number, reason: string): SendOutcome {
  return { ok: false, cls, code, reason };
}

export interface RecoveryOptions {
  maxQueries?: number;
  maxResends?: number;
  /** first query delay; doubles per try */
  queryDelayMs?: number;
}

export function kindOfState(s: OrderState): OrderEventKind {
  switch (s) {
    case 'CANCELED':
      return 'cancel';
    case 'REJECTED':
      return 'reject';
    case 'EXPIRED':
      return 'expire';
    case 'PARTIALLY_FILLED':
    case 'FILLED':
      return 'fill'; // status-only (fillQty 0): fills themselves come with trade ids from the private stream
    default:
      return 'ack';
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A REST transport failure: 'notSent' when the bytes never left (safe to resend), else the outcome is unknown. */
export function transportOutcome(err: unknown): SendOutcome {
  if (err instanceof RestError) return fail(err.kind === 'notSent' ? 'notSent' : 'unknown', 0, 'TRANSPORT:' + err.causeCode);
  return fail('unknown', 0, 'TRANSPORT:' + String(err));
}

/** The order `warm()` builds and never sends (keep-warm, loop.warmUs): 1 tick, 1 lot, a fixed client id. */
export function warmOrder(symbol: string): GatewayOrder {
  return {
    clientOrderId: 'warm',
    symbol,
    side: 'BUY',
    type: 'LIMIT',
    tif: 'GTC',
    price: 1,
    qty: 1,
    reduceOnly: false,
    exchangeOrderId: '',
    state: 'NEW_PENDING',
    sentNs: 0,
    sentVia: 0,
  };
}

export abstract class BaseGateway {
  onEvent: (ev: OrderEvent) => void = () => undefined;
  onStreamResync: () => void = () => undefined;
  /** set by the OrderManager on gateways that take algo orders */
  onAlgoEvent: (ev: AlgoEvent) => void = () => undefined;
  protected readonly ev: OrderEvent = blankOrderEvent();
  protected halted = false;
  protected haltReason = '';
  /** client ids whose outcome could not be learned (engine reconciliation should look at them) */
  readonly unresolved = new Set<string>();
  readonly counts = {
    placed: 0,
    resends: 0,
    queries: 0,
    unknownOutcomes: 0,
    clockResyncs: 0,
    /** orders refused locally (never sent), in total and by reason */
    refused: 0,
    refusedHalted: 0,
    refusedBanned: 0,
    refusedRateLocal: 0,
    /** transitions into halted, and resumes */
    halts: 0,
    resumes: 0,
  };
  /** the local limiter's wait (ms) at the last RATE_LIMITED_LOCAL refusal */
  lastLocalWaitMs = 0;
  /** reason of the last halt (kept after a resume, for the log line of the refusals it caused) */
  lastHaltReason = '';
  protected readonly vi: number;
  protected readonly maxQueries: number;
  protected readonly maxResends: number;
  protected readonly queryDelayMs: number;

  constructor(
    readonly venue: VenueId,
    readonly clock: ServerClock,
    readonly limiter: VenueRateLimiter,
    protected readonly hops?: HopRecorder,
    rec: RecoveryOptions = {},
  ) {
    this.vi = VENUE_INDEX[venue];
    this.maxQueries = rec.maxQueries ?? 5;
    this.maxResends = rec.maxResends ?? 2;
    this.queryDelayMs = rec.queryDelayMs ?? 20;
  }

  isHalted(): boolean {
    return this.halted || this.limiter.isBanned(this.clock.nowMs());
  }

  /** end of the ban a 418 (or Bybit 403) announced with its Retry-After, ms (0: none pending a resume line) */
  private banUntilMs = 0;

  /**
   * The venue banned the IP (whichever request met it: an order, a cancel, a query, a keep-alive; the gateways call
   * this from their response handling). With a Retry-After the ban ends by itself: the limiter refuses every order until then
   * (`isHalted()` is true meanwhile) and trading resumes at its end, logged and counted as a halt and a resume. A ban
   * without an end (no Retry-After) halts the venue until an operator resumes it.
   */
  protected onBanned(reason: string): void {
    const until = this.limiter.bannedUntilMs;
    if (!Number.isFinite(until) || until <= this.clock.nowMs()) {
      this.halt('banned: ' + reason);
      return;
    }
    if (this.banUntilMs === 0) {
      this.counts.halts++;
      log().error(
        { event: 'venue_halt', venue: this.venue, reason: 'banned: ' + reason, untilMs: until, halts: this.counts.halts },
        'venue banned: orders refused until the ban ends',
      );
    }
    this.banUntilMs = until;
  }

  /** A ban with an end that has passed: say so once (the limiter already lets orders through). */
  private noteBanEnded(now: number): void {
    if (this.banUntilMs === 0 || now < this.banUntilMs || this.halted) return;
    this.banUntilMs = 0;
    this.counts.resumes++;
    log().info({ event: 'venue_resume', venue: this.venue, reason: 'ban ended', resumes: this.counts.resumes }, 'venue resumed: the ban ended');
  }

  /** Refuse every order until `resume()`; logged (once per halt) and counted. */
  halt(reason: string): void {
    if (!this.halted) {
      this.counts.halts++;
      log().error({ event: 'venue_halt', venue: this.venue, reason, halts: this.counts.halts }, 'venue halted');
    }
    this.halted = true;
    this.haltReason = reason;
    this.lastHaltReason = reason;
  }

  noteRefusedWhileHalted(): void {
    this.counts.refused++;
    if (this.halted) this.counts.refusedHalted++;
    else this.counts.refusedBanned++;
  }

  /** why resends are off ('' = on): see VenueGateway.stopResends */
  private noResends = '';

  stopResends(reason: string): void {
    this.noResends = reason;
  }

  resume(): void {
    this.noResends = '';
    const was = this.halted || this.limiter.isBanned(this.clock.nowMs());
    this.halted = false;
    this.haltReason = '';
    this.banUntilMs = 0;
    this.limiter.clearBan();
    if (was) {
      this.counts.resumes++;
      log().info({ event: 'venue_resume', venue: this.venue, resumes: this.counts.resumes }, 'venue resumed');
    }
  }

  abstract queryOrder(symbol: string, clientOrderId: string): Promise<ExchangeOrder | null>;
  /** send one attempt; report the ack itself on success */
  protected abstract sendPlace(o: GatewayOrder, attempt: number): Promise<SendOutcome>;
  protected abstract sendCancel(o: GatewayOrder): Promise<SendOutcome>;

  /** the never-sent order `warm()` builds, per symbol */
  private readonly warmOrders = new Map<string, GatewayOrder>();
  protected warmOrderOf(symbol: string): GatewayOrder {
    let o = this.warmOrders.get(symbol);
    if (!o) {
      o = warmOrder(symbol);
      this.warmOrders.set(symbol, o);
    }
    return o;
  }

  /** fields -> signed request bytes, per transport (REST unless told) */
  protected recordSign(startNs: number, via: Transport = Transport.Rest): void {
    this.hops?.recordVia(Hop.Sign, this.vi, via, nowNs() - startNs);
  }

  /** request bytes -> handed to the socket layer, per transport */
  protected recordWrite(o: GatewayOrder): void {
    this.hops?.recordVia(Hop.Write, this.vi, o.sentVia, nowNs() - o.sentNs);
  }

  /** Fill the shared event with the basics; callers set the rest, then `this.fire()`. */
  protected begin(kind: OrderEventKind, symbol: string, clientOrderId: string, state: OrderState, source: OrderEvent['source']): OrderEvent {
    const e = this.ev;
    resetOrderEvent(e, this.venue, source);
    e.symbol = symbol;
    e.kind = kind;
    e.clientOrderId = clientOrderId;
    e.state = state;
    e.localNs = nowNs();
    return e;
  }

  protected fire(): void {
    this.onEvent(this.ev);
  }

  protected emitReject(o: GatewayOrder, code: number, reason: string, source: OrderEvent['source'] = 'rest'): void {
    const e = this.begin('reject', o.symbol, o.clientOrderId, 'REJECTED', source);
    e.code = code;
    e.reason = reason;
    this.fire();
  }

  protected emitFromExchangeOrder(q: ExchangeOrder, source: OrderEvent['source'] = 'query'): void {
    const e = this.begin(kindOfState(q.state), q.symbol, q.clientOrderId, q.state, source);
    e.exchangeOrderId = q.exchangeOrderId;
    e.cumQty = q.filledQty;
    e.exchTimeMs = q.updateTimeMs;
    this.fire();
  }

  /** ms before a new order fits the venue's rate limits (0 = go); gateways add their own signals (weight, endpoint) */
  protected placeWaitMs(now: number): number {
    return this.limiter.orderWaitMs(now);
  }

  /** Entry point used by `place()`: refuse locally when halted/limited, else send and follow the outcome. */
  /** Send a new order; its outcome arrives as OrderEvents (unknown outcomes are queried, never blindly resent). */
  place(o: GatewayOrder): void {
    this.placeWithRecovery(o);
  }

  cancel(o: GatewayOrder): void {
    this.cancelWithRecovery(o);
  }

  protected placeWithRecovery(o: GatewayOrder, attempt = 0): void {
    const now = this.clock.nowMs();
    if (this.banUntilMs !== 0) this.noteBanEnded(now);
    const wait = this.halted ? 0 : this.placeWaitMs(now);
    if (this.halted || wait > 0) {
      this.counts.refused++;
      let reason: string;
      if (this.halted) {
        this.counts.refusedHalted++;
        reason = 'VENUE_HALTED:' + this.haltReason;
      } else if (wait === Infinity || this.limiter.isBanned(now)) {
        this.counts.refusedBanned++;
        reason = 'BANNED';
      } else {
        this.counts.refusedRateLocal++;
        this.lastLocalWaitMs = wait;
        reason = 'RATE_LIMITED_LOCAL';
      }
      // reported after place() has returned the id to the caller (never re-entrantly inside it)
      queueMicrotask(() => this.emitReject(o, 0, reason));
      return;
    }
    this.counts.placed++;
    o.sentVia = Transport.Rest; // a WS gateway says Ws when its session carries the order
    this.sendPlace(o, attempt).then(
      (out) => this.afterPlace(o, attempt, out),
      (err: unknown) => this.afterPlace(o, attempt, fail('unknown', 0, 'SEND_ERROR:' + String((err as Error)?.message ?? err))),
    );
  }

  private afterPlace(o: GatewayOrder, attempt: number, out: SendOutcome): void {
    if (out.ok) return;
    switch (out.cls) {
      case 'rejected':
        this.emitReject(o, out.code, out.reason);
        return;
      case 'rateLimited':
        this.emitReject(o, out.code, 'RATE_LIMITED:' + out.reason);
        return;
      case 'banned':
        this.onBanned(out.reason);
        this.emitReject(o, out.code, 'BANNED:' + out.reason);
        return;
      case 'auth':
        this.halt('auth: ' + out.reason);
        this.emitReject(o, out.code, 'AUTH:' + out.reason);
        return;
      case 'clock':
        this.counts.clockResyncs++;
        this.clock
          .requestResync(o.sentNs > 0 ? wallMsOf(o.sentNs) : undefined)
          .catch(() => undefined)
          .then(() => {
            if (attempt === 0) this.placeWithRecovery(o, 1);
            else this.emitReject(o, out.code, 'TIMESTAMP:' + out.reason);
          });
        return;
      case 'notSent':
      case 'unknown':
      case 'duplicate':
        this.counts.unknownOutcomes++;
        void this.recover(o, attempt, out);
        return;
    }
  }

  private async recover(o: GatewayOrder, attempt: number, why: { code: number; reason: string }): Promise<void> {
    let delay = this.queryDelayMs;
    for (let i = 0; i < this.maxQueries; i++) {
      await sleep(delay);
      delay *= 2;
      let q: ExchangeOrder | null;
      try {
        this.counts.queries++;
        q = await this.queryOrder(o.symbol, o.clientOrderId);
      } catch {
        continue; // the query's outcome is unknown too: try again
      }
      if (q) {
        this.unresolved.delete(o.clientOrderId);
        this.emitFromExchangeOrder(q);
        return;
      }
      // proven absent while everything is being cancelled: never send it again (it would land after the cancel-all)
      if (this.noResends !== '') {
        this.unresolved.delete(o.clientOrderId);
        this.emitReject(o, why.code, 'NOT_FOUND_NOT_RESENT:' + this.noResends);
        return;
      }
      // proven absent: resend with the same client id (a late original turns it into a duplicate reject)
      if (attempt < this.maxResends) {
        this.counts.resends++;
        this.placeWithRecovery(o, attempt + 1);
        return;
      }
      this.unresolved.delete(o.clientOrderId);
      this.emitReject(o, why.code, 'NOT_FOUND_AFTER_RESEND:' + why.reason);
      return;
    }
    this.unresolved.add(o.clientOrderId);
    log().warn({ venue: this.venue, clientOrderId: o.clientOrderId, reason: why.reason }, 'order outcome unknown after queries');
  }

  /** Cancel: success reports itself; unknown order -> cancelReject then query the truth; unknown -> query. */
  protected cancelWithRecovery(o: GatewayOrder): void {
    if (this.halted) {
      const e = this.begin('cancelReject', o.symbol, o.clientOrderId, o.state, 'rest');
      e.reason = 'VENUE_HALTED';
      this.fire();
      return;
    }
    this.sendCancel(o).then(
      (out) => this.afterCancel(o, out),
      (err: unknown) => this.afterCancel(o, fail('unknown', 0, String((err as Error)?.message ?? err))),
    );
  }

  private afterCancel(o: GatewayOrder, out: SendOutcome): void {
    if (out.ok) return;
    if (out.cls === 'rejected' || out.cls === 'rateLimited' || out.cls === 'banned' || out.cls === 'auth' || out.cls === 'clock') {
      const e = this.begin('cancelReject', o.symbol, o.clientOrderId, o.state, 'rest');
      e.code = out.code;
      e.reason = out.reason;
      this.fire();
      if (out.cls === 'clock') this.clock.requestResync().catch(() => undefined);
      if (out.cls === 'auth') this.halt('auth: ' + out.reason); // as for an order: until an operator resumes
      if (out.cls !== 'rejected') return;
    }
    // learn the truth (already filled / canceled, or cancel outcome unknown)
    const unknown = out.cls !== 'rejected';
    void (async () => {
      let delay = this.queryDelayMs;
      for (let i = 0; i < this.maxQueries; i++) {
        await sleep(delay);
        delay *= 2;
        try {
          this.counts.queries++;
          const q = await this.queryOrder(o.symbol, o.clientOrderId);
          if (q && unknown && !TERMINAL_STATES.has(q.state)) {
            // the cancel whose answer was lost did not happen: the order is still open on the venue. Say so as a
            // cancel reject, so the owner leaves CANCEL_PENDING (states only move forward: the open state the query
            // reports would not) and the order can be cancelled again.
            const e = this.begin('cancelReject', o.symbol, o.clientOrderId, q.state, 'query');
            e.reason = 'CANCEL_NOT_APPLIED: ' + out.reason;
            this.fire();
          }
          if (q) this.emitFromExchangeOrder(q);
          return;
        } catch {
          /* retry */
        }
      }
    })();
  }
}

/**
 * The gateways' degradations for the `Degradations` reporter and /metrics: HTTP 429 (with its Retry-After), 418 /
 * Bybit 403 bans (with theirs), 5xx answers, orders refused locally by reason (halted, banned, the local rate budget
 * with its wait), and halts / resumes (those two are logged at once by halt() / resume(): metrics only here).
 */
export function gatewayDegradations(gws: readonly BaseGateway[]): DegradationSource {
  return () => {
    const out: DegradationSample[] = [];
    for (const g of gws) {
      const venue = g.venue;
      const l = g.limiter;
      const http = (status: string, value: number, msg: string, detail: () => Record<string, unknown>): DegradationSample => ({
        event: 'venue_http_limit',
        metric: 'tickwire_venue_http_errors_total',
        help: 'Order-entry answers 429 (back off; Bybit retCode 10006 counts here), 418 / 403 (banned) and 5xx (outcome unknown), by status.',
        labels: { venue, status },
        value,
        msg,
        detail,
      });
      const refused = (reason: string, value: number, detail?: () => Record<string, unknown>): DegradationSample => ({
        event: 'order_refused_local',
        metric: 'tickwire_orders_refused_local_total',
        help: 'Orders refused before sending (venue halted, banned, local rate budget), by reason.',
        labels: { venue, reason },
        value,
        msg: 'orders refused locally',
        ...(detail ? { detail } : {}),
      });
      out.push(
        http('429', l.counts.got429, 'rate limited (429): backing off', () => ({ retryAfterSec: l.last429RetryAfterSec })),
        http('418', l.counts.got418, 'banned (418/403): orders refused until the ban ends', () => ({ retryAfterSec: l.last418RetryAfterSec })),
        http('5xx', l.counts.got5xx, 'server error (5xx): outcome queried', () => ({ lastStatus: l.last5xxStatus })),
        refused('halted', g.counts.refusedHalted, () => ({ haltReason: g.lastHaltReason })),
        refused('banned', g.counts.refusedBanned),
        refused('rate_budget', g.counts.refusedRateLocal, () => ({ waitMs: g.lastLocalWaitMs })),
        {
          event: 'request_refused_local',
          metric: 'tickwire_requests_refused_local_total',
          help: "Requests other than new orders (cancels, amends, queries, lists, listenKey...) refused before sending: the venue's rate limit would refuse them.",
          labels: { venue },
          value: l.counts.refusedLocal,
          msg: 'requests refused locally (rate limit)',
          detail: () => ({ what: l.lastLocalWhat, waitMs: l.lastLocalWaitMs }),
        },
        {
          event: 'request_deferred_local',
          metric: 'tickwire_requests_deferred_local_total',
          help: "Requests that are not on the order path held back until the venue's rate limit has room.",
          labels: { venue },
          value: l.counts.deferredLocal,
          level: 'info',
          msg: 'requests deferred locally (rate limit)',
          detail: () => ({ what: l.lastLocalWhat, waitMs: l.lastLocalWaitMs }),
        },
        {
          event: 'venue_halt',
          metric: 'tickwire_venue_halts_total',
          help: 'Venue halts (ban, auth failure, operator).',
          labels: { venue },
          value: g.counts.halts,
          msg: 'venue halted',
          quiet: true,
        },
        {
          event: 'venue_resume',
          metric: 'tickwire_venue_resumes_total',
          help: 'Venue resumes after a halt.',
          labels: { venue },
          value: g.counts.resumes,
          msg: 'venue resumed',
          quiet: true,
        },
      );
    }
    return out;
  };
}
