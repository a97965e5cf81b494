/**
 * The private WS `/v5/private` of the Bybit venue: `auth`, `ping`, `subscribe` / `unsubscribe` of the private topics,
 * and the pushes: the core's order events of user accounts become `order`, `execution`, `execution.fast`, `position`
 * and `wallet` items (the wallet once per account after the core's batch), recorded for REST history on the way.
 */
import type { SimFill, SimOrder } from '../core/types.js';
import { marketOf, q, type Category } from './common.js';
import { SEQ_BASE } from './feeds.js';
import { wsAuth } from './auth.js';
import { sendWs, type Ws } from './conn.js';
import { executionItemJson, fastExecutionItemJson, linkIdOut, orderItemJson, type ExecInfo } from './orders.js';
import { MAX_EXECS, type VenueState, type AcctState, type SymState } from './state.js';
import { markPrice, positionJson, walletJson } from './format.js';
import type { Dcp } from './dcp.js';

/** all-in-one topics (every category); the others are per category */
export const ALL_IN_ONE = new Set(['order', 'execution', 'execution.fast', 'position']);
export const PRIVATE_TOPICS = new Set([
  'order',
  'order.spot',
  'order.linear',
  'execution',
  'execution.spot',
  'execution.linear',
  'execution.fast',
  'execution.fast.spot',
  'execution.fast.linear',
  'position',
  'position.linear',
  'wallet',
  'greeks',
  'dcp.future',
  'dcp.spot',
  'dcp.option',
]);

export class PrivateWs {
  constructor(
    private readonly s: VenueState,
    private readonly dcp: Dcp,
  ) {}

  private execCounter = 0;

  /** the core tells us about an order change of a user account */
  onOrder(st: SymState, coreOrder: SimOrder, f: SimFill | undefined): void {
    const o = this.s.ext(st, coreOrder);
    const a = this.s.acct(o.accountId);
    const x = this.s.extraFor(a, o, st);
    if (o.status === 'CANCELED' && this.s.cancelling !== undefined) x.cancelType = this.s.cancelling;
    this.s.remember(a, st, o);
    const now = this.s.ctx.nowMs(st.market);
    let execJson: string | undefined;
    let fastJson: string | undefined;
    if (f) {
      // the core charged the fee (src/sim/core/fees.ts): spot buy in the base coin, spot sell in the quote, linear in
      // the settle coin; a negative rate is a rebate (negative execFee)
      const fee = f.fee;
      const rate = f.feeRate;
      if (f.feeAsset !== '') x.feeCoin = f.feeAsset;
      x.cumFee += fee;
      const pos = o.accountId ? this.s.ctx.account(o.accountId)?.positions.get(`${st.market}:${st.symbol}`) : undefined;
      const info: ExecInfo = {
        execId: `${(++this.execCounter).toString(16).padStart(8, '0')}-0000-4000-8000-${f.tradeId.toString(16).padStart(12, '0')}`,
        fee,
        feeRate: rate,
        feeCoin: x.feeCoin,
        seq: SEQ_BASE[st.category] + st.book.updateId + 1,
        markPrice: markPrice(st),
        closedLots: 0,
        execPnl: 0,
      };
      if (pos && st.category === 'linear') {
        // approximate closed size: the part of this fill that reduced the position (after-the-fact view)
        const after = pos.sizeLots;
        const signed = f.side === 'BUY' ? f.qtyLots : -f.qtyLots;
        const before = after - signed;
        if (before !== 0 && Math.sign(before) !== Math.sign(signed)) info.closedLots = Math.min(Math.abs(before), f.qtyLots);
      }
      execJson = executionItemJson(o, f, st.category, st.fmt, info, true);
      fastJson = fastExecutionItemJson(o, f, st.category, st.fmt, info);
      a.execs.push({
        n: ++a.execN,
        category: st.category,
        symbol: st.symbol,
        orderId: o.orderId,
        link: linkIdOut(o.clientOrderId),
        time: f.timeMs,
        json: executionItemJson(o, f, st.category, st.fmt, info, false),
      });
      if (a.execs.length > MAX_EXECS) a.execs.splice(0, a.execs.length - MAX_EXECS);
    }
    if (a.conns.size === 0) return;
    const orderJson = orderItemJson(o, st.category, st.fmt, x);
    this.pushPrivate(a, st.category, 'order', orderJson, now);
    if (execJson) this.pushPrivate(a, st.category, 'execution', execJson, now);
    if (fastJson) this.pushPrivate(a, st.category, 'execution.fast', fastJson, now);
    if (st.category === 'linear') this.pushPrivate(a, st.category, 'position', positionJson(this.s, o.accountId, st, true), now);
    // the wallet moves on a fill, and on any spot order event (the order's lock: placement, amend, cancel); pushed
    // once per account after the core's batch (the lock is re-sized after the order event)
    if (f || st.category === 'spot') this.queueWallet(a, o.accountId, st.category);
  }

  private readonly walletQueue = new Map<AcctState, { accountId: string; category: Category }>();

  private queueWallet(a: AcctState, accountId: string, category: Category): void {
    if (this.walletQueue.size === 0) {
      queueMicrotask(() => {
        for (const [acct, q] of this.walletQueue)
          this.pushPrivate(acct, q.category, 'wallet', walletJson(this.s, q.accountId, true), this.s.ctx.nowMs(marketOf(q.category)));
        this.walletQueue.clear();
      });
    }
    this.walletQueue.set(a, { accountId, category });
  }

  /** push an item to the account's connections subscribed to the topic (all-in-one or the category's) */
  pushPrivate(a: AcctState, category: Category, base: 'order' | 'execution' | 'execution.fast' | 'position' | 'wallet', item: string, now: number): void {
    const catTopic = base === 'wallet' ? base : `${base}.${category}`;
    for (const ws of a.conns) {
      const d = ws.getUserData();
      let topic: string | undefined;
      if (d.topics.has(base)) topic = base;
      else if (d.topics.has(catTopic)) topic = catTopic;
      if (!topic) continue;
      const frame =
        base === 'execution.fast'
          ? `{"topic":"${topic}","creationTime":${now},"data":[${item}]}`
          : `{"id":"${this.s.connPrefix.slice(0, 8)}${(++a.privMsgSeq).toString(16)}-${d.connId.slice(-5)}","topic":"${topic}","creationTime":${now},"data":[${item}]}`;
      ws.send(frame, false, false);
    }
  }

  /** a client message on `/v5/private` */
  onMessage(ws: Ws, text: string): void {
    const d = ws.getUserData();
    let m: Record<string, unknown>;
    try {
      const v = JSON.parse(text) as unknown;
      if (!v || typeof v !== 'object' || Array.isArray(v)) throw new Error('not an object');
      m = v as Record<string, unknown>;
    } catch {
      sendWs(ws, `{"success":false,"ret_msg":"error:json unmarshal failed","op":"","conn_id":"${d.connId}"}`);
      return;
    }
    const op = m['op'];
    const reqId = typeof m['req_id'] === 'string' ? m['req_id'] : undefined;
    const rq = reqId !== undefined ? `"req_id":${q(reqId)},` : '';
    if (op === 'ping') {
      sendWs(ws, `{"req_id":${q(reqId ?? '')},"op":"pong","args":["${this.s.ctx.nowMs('bybitLinear')}"],"conn_id":"${d.connId}"}`);
      return;
    }
    if (op === 'auth') {
      if (d.apiKey) {
        sendWs(ws, `{${rq}"success":false,"ret_msg":"Repeat auth","op":"auth","conn_id":"${d.connId}"}`);
        return;
      }
      const r = wsAuth(this.s.ctx, m['args']);
      if (!r.ok) {
        sendWs(ws, `{${rq}"success":false,"ret_msg":${q(r.msg)},"op":"auth","conn_id":"${d.connId}"}`);
        return;
      }
      d.apiKey = r.apiKey;
      this.s.acct(r.apiKey).conns.add(ws);
      sendWs(ws, `{${rq}"success":true,"ret_msg":"","op":"auth","conn_id":"${d.connId}"}`);
      return;
    }
    if (op === 'subscribe' || op === 'unsubscribe') {
      if (!d.apiKey) {
        sendWs(ws, `{${rq}"success":false,"ret_msg":"Request not authorized","op":${q(op)},"conn_id":"${d.connId}"}`);
        return;
      }
      const args = m['args'];
      if (!Array.isArray(args) || args.length === 0 || !args.every((x) => typeof x === 'string')) {
        sendWs(ws, `{${rq}"success":false,"ret_msg":"error:args invalid","op":${q(op)},"conn_id":"${d.connId}"}`);
        return;
      }
      const topics = args as string[];
      const bad = topics.filter((t) => !PRIVATE_TOPICS.has(t));
      if (bad.length > 0) {
        sendWs(ws, `{${rq}"success":false,"ret_msg":${q(`error:handler not found,topic:${bad.join(',')}`)},"op":${q(op)},"conn_id":"${d.connId}"}`);
        return;
      }
      const allInOne = topics.some((t) => ALL_IN_ONE.has(t));
      const categorised = topics.some((t) => !ALL_IN_ONE.has(t) && t !== 'wallet' && !t.startsWith('dcp') && t !== 'greeks');
      if (allInOne && categorised) {
        sendWs(ws, `{${rq}"success":false,"ret_msg":"error:all-in-one topics and categorised topics cannot be mixed","op":${q(op)},"conn_id":"${d.connId}"}`);
        return;
      }
      for (const t of topics) {
        if (op === 'subscribe') d.topics.add(t);
        else d.topics.delete(t);
      }
      sendWs(ws, `{${rq}"success":true,"ret_msg":"","op":${q(op)},"conn_id":"${d.connId}"}`);
      if (topics.some((t) => t.startsWith('dcp'))) this.dcp.check(this.s.acct(d.apiKey), new Set(topics));
      return;
    }
    sendWs(
      ws,
      `{${rq}"success":false,"ret_msg":${q(`error:handler not found,op:${String(op)}`)},"op":${q(typeof op === 'string' ? op : '')},"conn_id":"${d.connId}"}`,
    );
  }
}
