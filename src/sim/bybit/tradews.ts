/**
 * The trade WS `/v5/trade` of the Bybit venue: `auth`, `ping`, `order.create|amend|cancel` and the batch forms
 * (TradeOps), with the request `header`'s timestamp check, the rate limits shared with REST, the `latencyMs` fault and
 * the trade service restart (`10019`, then the connection closes).
 */
import { isCategory, marketOf, q, traceId } from './common.js';
import { checkTradeHeader, wsAuth } from './auth.js';
import { sendWs, type Ws } from './conn.js';
import { E, fail, type BybitError, type EpResult } from './errors.js';
import { batchWeight, type Endpoint } from './limits.js';
import type { VenueState } from './state.js';
import type { TradeOps } from './ops.js';

/** trade WS ops and the endpoints (rate limits) they count as */
export const TRADE_OPS = new Map<string, Endpoint>([
  ['order.create', 'create'],
  ['order.amend', 'amend'],
  ['order.cancel', 'cancel'],
  ['order.create-batch', 'createBatch'],
  ['order.amend-batch', 'amendBatch'],
  ['order.cancel-batch', 'cancelBatch'],
]);

export class TradeWs {
  constructor(
    private readonly s: VenueState,
    private readonly ops: TradeOps,
  ) {}

  /** the handle's `setTradeServiceRestarting` switch */
  restarting = false;

  /** the handle's switch, or an active `tradeServiceRestart` fault on either Bybit market (one trade WS for both) */
  private serviceRestarting(): boolean {
    return (
      this.restarting ||
      this.s.ctx.peekFault('bybitLinear', 'tradeServiceRestart') !== undefined ||
      this.s.ctx.peekFault('bybitSpot', 'tradeServiceRestart') !== undefined
    );
  }

  private reply(ws: Ws, reqId: string | undefined, code: number, msg: string, op: string, data: string, header?: string, ext = '{}'): void {
    const d = ws.getUserData();
    const rq = reqId !== undefined ? `"reqId":${q(reqId)},` : '';
    const hdr = header !== undefined ? `,"header":${header}` : '';
    sendWs(ws, `{${rq}"retCode":${code},"retMsg":${q(msg)},"op":${q(op)},"data":${data},"retExtInfo":${ext}${hdr},"connId":"${d.connId}"}`);
  }

  /** a client message on `/v5/trade` */
  onMessage(ws: Ws, text: string): void {
    const d = ws.getUserData();
    let m: Record<string, unknown>;
    try {
      const v = JSON.parse(text) as unknown;
      if (!v || typeof v !== 'object' || Array.isArray(v)) throw new Error('not an object');
      m = v as Record<string, unknown>;
    } catch {
      sendWs(ws, `{"retCode":10001,"retMsg":"Request parameter error.","op":"","connId":"${d.connId}"}`);
      return;
    }
    const op = typeof m['op'] === 'string' ? m['op'] : '';
    const reqIdRaw = m['reqId'];
    const reqId = typeof reqIdRaw === 'string' ? reqIdRaw : undefined;
    const rq = reqId !== undefined ? `"reqId":${q(reqId)},` : '';
    if (op === 'ping') {
      sendWs(ws, `{${rq}"retCode":0,"retMsg":"OK","op":"pong","data":["${this.s.ctx.nowMs('bybitLinear')}"],"connId":"${d.connId}"}`);
      return;
    }
    if (op === 'auth') {
      if (d.apiKey) {
        sendWs(ws, `{${rq}"retCode":20001,"retMsg":"Repeat auth","op":"auth","connId":"${d.connId}"}`);
        return;
      }
      const r = wsAuth(this.s.ctx, m['args']);
      if (!r.ok) {
        sendWs(ws, `{${rq}"retCode":${r.code},"retMsg":${q(r.msg)},"op":"auth","connId":"${d.connId}"}`);
        return;
      }
      d.apiKey = r.apiKey;
      sendWs(ws, `{${rq}"retCode":0,"retMsg":"OK","op":"auth","connId":"${d.connId}"}`);
      return;
    }
    const ep = TRADE_OPS.get(op);
    if (ep === undefined) {
      sendWs(ws, `{${rq}"retCode":10404,"retMsg":${q(`op type is not found: ${op}`)},"op":${q(op)},"connId":"${d.connId}"}`);
      return;
    }
    if (this.serviceRestarting()) {
      sendWs(
        ws,
        `{${rq}"retCode":10019,"retMsg":"ws trade service is restarting, do not accept new request, but the request in the process is not affected. You can build new connection to be routed to normal service","op":${q(op)},"connId":"${d.connId}"}`,
      );
      ws.end(1000, 'service restarting');
      return;
    }
    if (!d.apiKey) {
      sendWs(ws, `{${rq}"retCode":10003,"retMsg":"Not authorized","op":${q(op)},"connId":"${d.connId}"}`);
      return;
    }
    if (reqId !== undefined) {
      if (reqId.length > 36) {
        this.reply(ws, reqId, 10001, 'reqId is too long', op, '{}');
        return;
      }
      if (d.reqIds!.has(reqId)) {
        this.reply(ws, reqId, 20006, 'reqId is duplicated', op, '{}');
        return;
      }
      d.reqIds!.add(reqId);
      if (d.reqIds!.size > 100_000) d.reqIds!.clear();
    }
    const header = m['header'];
    const h = header && typeof header === 'object' ? (header as Record<string, unknown>) : undefined;
    const args = m['args'];
    const arg = Array.isArray(args) && args.length === 1 && args[0] && typeof args[0] === 'object' ? (args[0] as Record<string, unknown>) : undefined;
    if (!arg) {
      this.reply(ws, reqId, 10001, 'Request parameter error.', op, '{}');
      return;
    }
    const category = arg['category'];
    if (!isCategory(category)) {
      this.reply(ws, reqId, 10404, 'category is not correct/supported', op, '{}');
      return;
    }
    const market = marketOf(category);
    const now = this.s.ctx.nowMs(market);
    const bad = checkTradeHeader(h, now);
    if (bad) {
      this.reply(ws, reqId, bad.code, bad.msg, op, '{}');
      return;
    }
    const apiKey = d.apiKey;
    const rl = this.s.limits.hit(apiKey, ep, category, now, batchWeight(ep, arg));
    const hdr = (): string =>
      `{"X-Bapi-Limit":"${rl.limit}","X-Bapi-Limit-Status":"${Math.max(0, rl.limit - rl.used)}","X-Bapi-Limit-Reset-Timestamp":"${rl.verdict === 'ok' ? now : rl.resetAtMs}","Traceid":"${traceId()}","Timenow":"${this.s.ctx.nowMs(market)}"}`;
    if (rl.verdict !== 'ok') {
      this.reply(ws, reqId, E.tooManyVisits.code, E.tooManyVisits.msg, op, '{}', hdr());
      return;
    }
    const lat = this.s.ctx.peekFault(market, 'latencyMs')?.ms ?? 0;
    const run = (): void => {
      if (d.closed) return;
      if (ep === 'createBatch' || ep === 'amendBatch' || ep === 'cancelBatch') {
        let out: EpResult;
        try {
          out = this.ops.batch(ep === 'createBatch' ? 'create' : ep === 'amendBatch' ? 'amend' : 'cancel', apiKey, arg);
        } catch (e) {
          this.s.ctx.log.error({ err: e, op }, 'bybit sim: trade request failed');
          out = fail(E.internal);
        }
        this.reply(ws, reqId, out.code, out.msg, op, out.result, hdr(), out.ext);
        return;
      }
      let r: { orderId: string; orderLinkId: string } | BybitError;
      try {
        r = ep === 'create' ? this.ops.createOrder(apiKey, arg) : ep === 'amend' ? this.ops.amendOrder(apiKey, arg) : this.ops.cancelOrder(apiKey, arg);
      } catch (e) {
        this.s.ctx.log.error({ err: e, op }, 'bybit sim: trade request failed');
        r = E.internal;
      }
      if ('code' in r) this.reply(ws, reqId, r.code, r.msg, op, '{}', hdr());
      else this.reply(ws, reqId, 0, 'OK', op, `{"orderId":${q(r.orderId)},"orderLinkId":${q(r.orderLinkId)}}`, hdr());
    };
    if (lat > 0) setTimeout(run, lat);
    else run();
  }
}
