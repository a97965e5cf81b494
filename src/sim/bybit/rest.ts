/**
 * REST plumbing of the Bybit venue: the routes, and per request in this order: body (64 KiB), per-IP limit (HTTP
 * 403), injected `httpStatus` fault, public endpoints, auth (auth.ts), per-UID rate limit (`X-Bapi-Limit*` headers,
 * 10006), the `latencyMs` fault on order endpoints, then the endpoint of its area.
 */
import type { SimMarketId } from '../core/types.js';
import type { HttpRequest, HttpResponse } from '../../util/uws.js';
import { afterDelay, BodyTooLargeError, guardAbort, parseQuery, readBody, requestInfo, send, type RequestInfo } from '../core/http.js';
import { envelope, isCategory, traceId } from './common.js';
import { checkRestAuth } from './auth.js';
import { E, errorBody, fail, type EpResult } from './errors.js';
import { batchWeight, ORDER_EPS, type Endpoint } from './limits.js';
import type { VenueState } from './state.js';
import type { Dcp } from './dcp.js';
import type { MarketRest } from './restmarket.js';
import type { OrdersRest } from './restorders.js';
import type { HistoryRest } from './resthistory.js';
import type { AccountRest } from './restaccount.js';
import type { PositionRest } from './restposition.js';

export class Rest {
  constructor(
    private readonly s: VenueState,
    private readonly dcp: Dcp,
    private readonly marketRest: MarketRest,
    private readonly ordersRest: OrdersRest,
    private readonly historyRest: HistoryRest,
    private readonly accountRest: AccountRest,
    private readonly positionRest: PositionRest,
  ) {}

  /** register the REST routes on the app (the venue adds the WS routes and the 404 fallback) */
  routes(): void {
    const app = this.s.app;
    app.get('/v5/market/time', (res, req) => this.http(res, req, 'time'));
    app.get('/v5/market/instruments-info', (res, req) => this.http(res, req, 'instruments'));
    app.get('/v5/market/orderbook', (res, req) => this.http(res, req, 'orderbook'));
    app.post('/v5/order/create', (res, req) => this.http(res, req, 'create'));
    app.post('/v5/order/cancel', (res, req) => this.http(res, req, 'cancel'));
    app.post('/v5/order/cancel-all', (res, req) => this.http(res, req, 'cancelAll'));
    app.post('/v5/order/amend', (res, req) => this.http(res, req, 'amend'));
    app.post('/v5/order/create-batch', (res, req) => this.http(res, req, 'createBatch'));
    app.post('/v5/order/amend-batch', (res, req) => this.http(res, req, 'amendBatch'));
    app.post('/v5/order/cancel-batch', (res, req) => this.http(res, req, 'cancelBatch'));
    app.get('/v5/order/realtime', (res, req) => this.http(res, req, 'realtime'));
    app.get('/v5/order/history', (res, req) => this.http(res, req, 'history'));
    app.get('/v5/position/list', (res, req) => this.http(res, req, 'positions'));
    app.get('/v5/account/wallet-balance', (res, req) => this.http(res, req, 'wallet'));
    app.get('/v5/execution/list', (res, req) => this.http(res, req, 'executions'));
    app.get('/v5/market/tickers', (res, req) => this.http(res, req, 'tickers'));
    app.get('/v5/market/recent-trade', (res, req) => this.http(res, req, 'recentTrade'));
    app.get('/v5/market/kline', (res, req) => this.http(res, req, 'kline'));
    app.get('/v5/system/status', (res, req) => this.http(res, req, 'systemStatus'));
    app.get('/v5/asset/coin/query-info', (res, req) => this.http(res, req, 'coinInfo'));
    app.get('/v5/user/query-api', (res, req) => this.http(res, req, 'queryApi'));
    app.get('/v5/account/info', (res, req) => this.http(res, req, 'accountInfo'));
    app.get('/v5/account/fee-rate', (res, req) => this.http(res, req, 'feeRate'));
    app.post('/v5/position/set-leverage', (res, req) => this.http(res, req, 'setLeverage'));
    app.post('/v5/position/switch-mode', (res, req) => this.http(res, req, 'switchMode'));
    app.post('/v5/account/set-margin-mode', (res, req) => this.http(res, req, 'setMarginMode'));
    app.get('/v5/account/query-dcp-info', (res, req) => this.http(res, req, 'dcpInfo'));
    app.post('/v5/order/disconnected-cancel-all', (res, req) => this.http(res, req, 'setDcp'));
  }

  private http(res: HttpResponse, req: HttpRequest, ep: Endpoint): void {
    const info = requestInfo(req);
    guardAbort(res);
    if (info.method === 'POST') {
      readBody(res, 64 * 1024).then(
        (body) => this.handle(res, info, ep, body.toString('utf8')),
        (e: unknown) => {
          if (e instanceof BodyTooLargeError) {
            send(res, 413, envelope(10001, 'Request body too large', '{}', Date.now()));
          }
        },
      );
    } else {
      this.handle(res, info, ep, '');
    }
  }

  private handle(res: HttpResponse, info: RequestInfo, ep: Endpoint, body: string): void {
    try {
      this.handleInner(res, info, ep, body);
    } catch (e) {
      this.s.ctx.log.error({ err: e, ep }, 'bybit sim: request failed');
      send(res, 200, errorBody(E.internal, Date.now()));
    }
  }

  private handleInner(res: HttpResponse, info: RequestInfo, ep: Endpoint, body: string): void {
    const query = parseQuery(info.rawQuery);
    let params: Record<string, unknown>;
    let badJson = false;
    if (info.method === 'POST') {
      params = {};
      if (body.trim().length > 0) {
        try {
          const v = JSON.parse(body) as unknown;
          if (v && typeof v === 'object' && !Array.isArray(v)) params = v as Record<string, unknown>;
          else badJson = true;
        } catch {
          badJson = true;
        }
      }
    } else {
      params = Object.fromEntries(query.params);
    }
    const category = isCategory(params['category']) ? params['category'] : undefined;
    const market: SimMarketId = category === 'spot' ? 'bybitSpot' : 'bybitLinear';
    const now = this.s.ctx.nowMs(market);

    // IP limit (HTTP 403, as Bybit's 600 per 5 s) and injected HTTP statuses
    const ip = this.s.limits.ip.hit('ip', 1, Date.now());
    if (ip.verdict !== 'ok') {
      send(res, 403, 'access too frequent', { 'content-type': 'text/plain' });
      return;
    }
    const hf = this.s.ctx.takeFault(market, 'httpStatus');
    if (hf) {
      const status = hf.status === 418 ? 403 : hf.status;
      const headers: Record<string, string> = { 'content-type': 'text/plain' };
      if (hf.retryAfterSec !== undefined) headers['Retry-After'] = String(hf.retryAfterSec);
      send(res, status, status === 429 ? 'Too Many Requests' : status === 403 ? 'access too frequent' : 'Service Unavailable', headers);
      return;
    }

    if (ep === 'time') {
      const ns = BigInt(now) * 1_000_000n;
      send(res, 200, envelope(0, 'OK', `{"timeSecond":"${Math.floor(now / 1000)}","timeNano":"${ns}"}`, now));
      return;
    }
    if (ep === 'instruments') {
      send(res, 200, this.marketRest.instrumentsInfo(params, now));
      return;
    }
    if (ep === 'orderbook') {
      send(res, 200, this.marketRest.orderbook(params, now));
      return;
    }
    if (ep === 'tickers' || ep === 'recentTrade' || ep === 'kline' || ep === 'systemStatus') {
      send(res, 200, this.marketRest.publicMarket(ep, params, now));
      return;
    }

    // ---- private endpoints: auth as Bybit (key, timestamp window, signature over the exact payload)
    const payload = info.method === 'POST' ? body : query.raw;
    const auth = checkRestAuth(this.s.ctx, info, payload, now);
    if (typeof auth !== 'string') {
      send(res, auth.status, envelope(auth.code, auth.msg, '{}', now));
      return;
    }
    const apiKey = auth;
    if (badJson) {
      send(res, 200, errorBody(E.requestParam, now));
      return;
    }
    // rate limit per UID per endpoint
    const rl = this.s.limits.hit(apiKey, ep, category, now, batchWeight(ep, params));
    const headers: Array<[string, string]> = [
      ['X-Bapi-Limit', String(rl.limit)],
      ['X-Bapi-Limit-Status', String(Math.max(0, rl.limit - rl.used))],
      ['X-Bapi-Limit-Reset-Timestamp', String(rl.verdict === 'ok' ? now : rl.resetAtMs)],
      ['Traceid', traceId()],
      ['Timenow', String(now)],
    ];
    if (rl.verdict !== 'ok') {
      send(res, 200, errorBody(E.tooManyVisits, now), headers);
      return;
    }
    const isOrderEp = ORDER_EPS.has(ep);
    const lat = this.s.ctx.peekFault(market, 'latencyMs')?.ms ?? this.s.ctx.peekFault('bybitLinear', 'latencyMs')?.ms ?? 0;
    const delay = isOrderEp ? lat : 0;
    afterDelay(res, delay, () => {
      let out: EpResult;
      try {
        out = this.privateEndpoint(ep, apiKey, params);
      } catch (e) {
        this.s.ctx.log.error({ err: e, ep }, 'bybit sim: request failed');
        out = fail(E.internal);
      }
      send(res, 200, envelope(out.code, out.msg, out.result, this.s.ctx.nowMs(market), out.ext), headers);
    });
  }

  /** a signed endpoint, by area */
  private privateEndpoint(ep: Endpoint, apiKey: string, p: Record<string, unknown>): EpResult {
    switch (ep) {
      case 'createBatch':
        return this.ordersRest.batch('create', apiKey, p);
      case 'amendBatch':
        return this.ordersRest.batch('amend', apiKey, p);
      case 'cancelBatch':
        return this.ordersRest.batch('cancel', apiKey, p);
      case 'create':
        return this.ordersRest.create(apiKey, p);
      case 'cancel':
        return this.ordersRest.cancel(apiKey, p);
      case 'amend':
        return this.ordersRest.amend(apiKey, p);
      case 'cancelAll':
        return this.ordersRest.cancelAll(apiKey, p);
      case 'realtime':
        return this.ordersRest.openOrders(apiKey, p);
      case 'history':
        return this.historyRest.orderHistory(apiKey, p);
      case 'positions':
        return this.positionRest.positions(apiKey, p);
      case 'wallet':
        return this.accountRest.wallet(apiKey, p);
      case 'executions':
        return this.historyRest.executions(apiKey, p);
      case 'coinInfo':
        return this.accountRest.coinInfo(p);
      case 'queryApi':
        return this.accountRest.queryApi(apiKey);
      case 'accountInfo':
        return this.accountRest.accountInfo(apiKey);
      case 'feeRate':
        return this.accountRest.feeRate(p);
      case 'setLeverage':
        return this.positionRest.setLeverage(apiKey, p);
      case 'switchMode':
        return this.positionRest.switchMode(apiKey, p);
      case 'setMarginMode':
        return this.accountRest.setMarginMode(apiKey, p);
      case 'dcpInfo':
        return this.dcp.info(apiKey);
      case 'setDcp':
        return this.dcp.set(apiKey, p);
      default:
        return fail(E.routeNotFound);
    }
  }
}
