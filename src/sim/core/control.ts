/**
 * Loopback control endpoint of the simulator (uWS). Every request needs `X-Sim-Token: <token>` (401 otherwise).
 *
 *   POST /faults        body: a SimFault as JSON (or an array of them)   -> 200 {"ok":true,"injected":N}
 *                       invalid JSON or fault                             -> 400 {"error":"invalid fault: market: ..."}
 *   POST /faults/clear                                                    -> 200 {"ok":true}
 *   GET  /faults                                                          -> 200 {"faults":[{fault,left}]}
 *   GET  /state         top of book and counters per market and symbol, generator counters, active faults
 *   GET  /account       the account profile (key permissions and modes: SimAccountProfile)  -> 200 {...}
 *   POST /account       body: some of its fields, e.g. {"withdrawals":true}  -> 200 the whole profile after it
 *                       an unknown field or a non-boolean value (nothing is changed)          -> 400 {"error":"..."}
 *   POST /balance       body {"wallet":"binanceSpot"|"binanceUsdm"|"bybit","asset":"USDT","delta":-5}: moves the free
 *                       balance of the run's account behind the engine's back (a transfer, a deposit; drift tests)
 *                       -> 200 {"ok":true,"free":N}; a bad body -> 400 naming the field
 *   anything else                                                         -> 404
 */
import { timingSafeEqual } from 'node:crypto';
import { uws, type HttpResponse } from '../../util/uws.js';
import { formatScaled } from '../../util/fixed.js';
import { baseUrl, closeListen, listen, readBody, requestInfo, sendJson, type Listening } from './http.js';
import { parseFault, type FaultRegistry } from './faults.js';
import type { SimAccountProfile, SimMarketId } from './types.js';
import type { MatchingBook } from './book.js';

export interface ControlOptions {
  host?: string; // default 127.0.0.1 (keep it loopback)
  port?: number; // default 0
  token: string;
  faults: FaultRegistry;
  books: Map<SimMarketId, Map<string, MatchingBook>>;
  /** POST /balance: apply a validated adjustment; returns the new free balance or an error naming the field */
  adjustBalance?: (body: unknown) => { ok: true; free: number } | { error: string };
  /** extra counters merged into /state (generator, replay, venues) */
  extraState?: () => Record<string, unknown>;
  /** the account profile `GET/POST /account` read and change (in place) */
  account?: SimAccountProfile | undefined;
}

/** A whole-or-nothing change of the account profile: every key known, every value a boolean. */
export function parseAccountPatch(v: unknown, known: SimAccountProfile): Partial<SimAccountProfile> | string {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return 'body must be a JSON object';
  for (const [k, x] of Object.entries(v)) {
    if (!(k in known)) return `unknown field '${k}' (known: ${Object.keys(known).join(', ')})`;
    if (typeof x !== 'boolean') return `${k} must be true or false`;
  }
  return v as Partial<SimAccountProfile>;
}

export interface ControlHandle {
  url: string;
  token: string;
  port: number;
  close(): void;
}

function tokenOk(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

export function stateOf(books: Map<SimMarketId, Map<string, MatchingBook>>): Record<string, Record<string, unknown>> {
  const out: Record<string, Record<string, unknown>> = {};
  for (const [market, bySym] of books) {
    const m: Record<string, unknown> = {};
    for (const [sym, b] of bySym) {
      const pd = b.instrument.priceDecimals;
      const qd = b.instrument.qtyDecimals;
      const bb = b.bestBid();
      const ba = b.bestAsk();
      m[sym] = {
        bestBid: bb ? [formatScaled(bb.priceTicks, pd), formatScaled(bb.qtyLots, qd)] : null,
        bestAsk: ba ? [formatScaled(ba.priceTicks, pd), formatScaled(ba.qtyLots, qd)] : null,
        bidLevels: b.levelCount('BUY'),
        askLevels: b.levelCount('SELL'),
        updateId: b.updateId,
        batches: b.batches,
        levelUpdates: b.levelUpdates,
        trades: b.trades,
        openOrders: b.openOrderCount(),
        listenerErrors: b.listenerErrors,
      };
    }
    out[market] = m;
  }
  return out;
}

export async function startControl(opts: ControlOptions): Promise<ControlHandle> {
  const host = opts.host ?? '127.0.0.1';
  const app = uws().App();
  const authed = (res: HttpResponse, token: string): boolean => {
    if (tokenOk(token, opts.token)) return true;
    sendJson(res, 401, { error: 'missing or bad X-Sim-Token header' });
    return false;
  };

  app.post('/faults', (res, req) => {
    const token = req.getHeader('x-sim-token');
    if (!authed(res, token)) return;
    readBody(res, 64 * 1024).then(
      (body) => {
        let value: unknown;
        try {
          value = JSON.parse(body.toString('utf8'));
        } catch (e) {
          sendJson(res, 400, { error: `invalid fault: body is not JSON (${e instanceof Error ? e.message : String(e)})` });
          return;
        }
        const list = Array.isArray(value) ? value : [value];
        const parsed = [];
        for (const v of list) {
          const p = parseFault(v);
          if (!p.ok) {
            sendJson(res, 400, { error: p.error });
            return;
          }
          parsed.push(p.fault);
        }
        for (const f of parsed) opts.faults.inject(f);
        sendJson(res, 200, { ok: true, injected: parsed.length });
      },
      (e: unknown) => sendJson(res, 413, { error: e instanceof Error ? e.message : String(e) }),
    );
  });
  app.post('/faults/clear', (res, req) => {
    if (!authed(res, req.getHeader('x-sim-token'))) return;
    opts.faults.clear();
    sendJson(res, 200, { ok: true });
  });
  app.get('/faults', (res, req) => {
    if (!authed(res, req.getHeader('x-sim-token'))) return;
    sendJson(res, 200, { faults: opts.faults.list() });
  });
  app.post('/balance', (res, req) => {
    if (!authed(res, req.getHeader('x-sim-token'))) return;
    readBody(res, 4 * 1024).then(
      (body) => {
        let value: unknown;
        try {
          value = JSON.parse(body.toString('utf8'));
        } catch {
          sendJson(res, 400, { error: 'invalid balance: body is not JSON' });
          return;
        }
        const r = opts.adjustBalance ? opts.adjustBalance(value) : { error: 'no accounts' };
        if ('error' in r) sendJson(res, 400, { error: r.error });
        else sendJson(res, 200, r);
      },
      (e: unknown) => sendJson(res, 413, { error: e instanceof Error ? e.message : String(e) }),
    );
  });
  app.get('/state', (res, req) => {
    if (!authed(res, req.getHeader('x-sim-token'))) return;
    sendJson(res, 200, { markets: stateOf(opts.books), faults: opts.faults.list(), ...(opts.extraState?.() ?? {}) });
  });
  const account = opts.account;
  if (account) {
    app.get('/account', (res, req) => {
      if (!authed(res, req.getHeader('x-sim-token'))) return;
      sendJson(res, 200, account);
    });
    app.post('/account', (res, req) => {
      if (!authed(res, req.getHeader('x-sim-token'))) return;
      readBody(res, 64 * 1024).then(
        (body) => {
          let value: unknown;
          try {
            value = JSON.parse(body.toString('utf8'));
          } catch (e) {
            sendJson(res, 400, { error: `body is not JSON (${e instanceof Error ? e.message : String(e)})` });
            return;
          }
          const patch = parseAccountPatch(value, account);
          if (typeof patch === 'string') {
            sendJson(res, 400, { error: patch });
            return;
          }
          Object.assign(account, patch);
          sendJson(res, 200, account);
        },
        (e: unknown) => sendJson(res, 413, { error: e instanceof Error ? e.message : String(e) }),
      );
    });
  }
  app.any('/*', (res, req) => {
    const info = requestInfo(req);
    if (!authed(res, info.headers.get('x-sim-token') ?? '')) return;
    sendJson(res, 404, { error: `no route ${info.method} ${info.path}` });
  });

  const l: Listening = await listen(app, host, opts.port ?? 0);
  return {
    url: baseUrl('http', host, l.port),
    token: opts.token,
    port: l.port,
    close: () => closeListen(l),
  };
}
