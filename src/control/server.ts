/**
 * Control plane: a uWebSockets.js HTTP server bound to 127.0.0.1 only, every request authenticated with a token
 * (`Authorization: Bearer <token>` or `X-Tickwire-Token: <token>`, compared in constant time).
 *
 *   GET  /status                 engine status (JSON)
 *   POST /start                  resume strategy trading (not after a kill)
 *   POST /stop                   stop strategy trading; open orders stay
 *   POST /kill[?wait=1]          kill switch; with wait=1 the answer comes after cancel-all was verified (the report)
 *   POST /order                  manual order {venue, symbol, side: BUY|SELL, qty: "0.001", price?: "97000.5"}
 *                                (no price = market IOC); passes pre-trade risk (not the stopped state)
 *   POST /reload                 reload strategy/risk/kill-switch parameters from the config file
 *   GET  /metrics                Prometheus text format
 *   GET  /latency[.json]         live hop-latency page / its JSON (these two also accept `?token=`)
 */
import { timingSafeEqual } from 'node:crypto';
import { uws, type HttpResponse, type ListenSocket, type TemplatedApp } from '../util/uws.js';
import type { Engine } from '../core/engine.js';
import type { KillSwitch } from '../core/killswitch.js';
import { parseScaled } from '../util/fixed.js';
import { REFUSAL_NAMES } from '../risk/pretrade.js';
import { renderMetrics, type ExtraMetric } from './metrics.js';

export interface ControlDeps {
  engine: Engine;
  killSwitch: KillSwitch;
  token: string;
  /** re-read and apply parameters; returns what changed or an error */
  reload?: () => { ok: boolean; message: string };
  /** extra metrics from the adapters/gateways (frames, reconnects...) */
  extraMetrics?: () => ExtraMetric[];
  /** extra status fields */
  extraStatus?: () => Record<string, unknown>;
  /** live latency page: GET /latency (HTML) and /latency.json */
  latency?: { page: () => string; json: () => string };
}

export interface ControlServer {
  port: number;
  url: string;
  close(): void;
}

const JSON_CT = 'application/json';

function tokenOk(given: string, token: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

export async function startControl(deps: ControlDeps, port = 0): Promise<ControlServer> {
  if (deps.token.length < 16) throw new Error('control token must be at least 16 characters');
  const app: TemplatedApp = uws().App();
  const open = new Set<HttpResponse>();

  const reply = (res: HttpResponse, status: string, body: string, ct = JSON_CT): void => {
    if (!open.has(res)) return;
    open.delete(res);
    res.cork(() => {
      res.writeStatus(status).writeHeader('Content-Type', ct).writeHeader('Cache-Control', 'no-store').end(body);
    });
  };
  const json = (res: HttpResponse, status: string, v: unknown): void => reply(res, status, JSON.stringify(v));

  /** Wrap a route: abort tracking, auth (headers are read synchronously, before any await). */
  const route = (handler: (res: HttpResponse, query: string, body: () => Promise<Buffer>) => void | Promise<void>, queryToken = false) => {
    return (res: HttpResponse, req: import('../util/uws.js').HttpRequest): void => {
      open.add(res);
      res.onAborted(() => open.delete(res));
      const auth = req.getHeader('authorization');
      const query = req.getQuery() ?? '';
      let given = auth.startsWith('Bearer ') ? auth.slice(7) : req.getHeader('x-tickwire-token');
      // the latency page (a browser tab) may carry the token in its URL
      if (!given && queryToken) given = new URLSearchParams(query).get('token') ?? '';
      if (!given || !tokenOk(given, deps.token)) {
        json(res, '401 Unauthorized', { error: 'missing or wrong token' });
        return;
      }
      const chunks: Buffer[] = [];
      let done: ((b: Buffer) => void) | undefined;
      let ended = false;
      res.onData((ab, last) => {
        chunks.push(Buffer.from(new Uint8Array(ab).slice()));
        if (last) {
          ended = true;
          done?.(Buffer.concat(chunks));
        }
      });
      const body = (): Promise<Buffer> => (ended ? Promise.resolve(Buffer.concat(chunks)) : new Promise((r) => (done = r)));
      Promise.resolve(handler(res, query, body)).catch((e: unknown) => json(res, '500 Internal Server Error', { error: (e as Error).message }));
    };
  };

  const e = deps.engine;
  app.get('/status', route((res) => json(res, '200 OK', { ...e.status(), killSwitch: deps.killSwitch.report ?? (deps.killSwitch.triggered ? 'in progress' : null), ...(deps.extraStatus?.() ?? {}) })));
  app.get('/metrics', route((res) => reply(res, '200 OK', renderMetrics(e, deps.extraMetrics?.() ?? []), 'text/plain; version=0.0.4')));
  app.post('/start', route((res) => (e.startTrading() ? json(res, '200 OK', { trading: e.trading }) : json(res, '409 Conflict', { error: 'kill switch was triggered: restart the engine', trading: e.trading }))));
  app.post('/stop', route((res) => {
    e.stopTrading();
    json(res, '200 OK', { trading: e.trading });
  }));
  app.post('/kill', route(async (res, query) => {
    const p = deps.killSwitch.trigger('control', 'control plane');
    if (/(^|&)wait=(1|true)(&|$)/.test(query)) json(res, '200 OK', await p);
    else json(res, '202 Accepted', { trading: e.trading, kill: 'triggered' });
  }));
  app.post('/reload', route((res) => {
    if (!deps.reload) return json(res, '501 Not Implemented', { error: 'no config file to reload' });
    const r = deps.reload();
    json(res, r.ok ? '200 OK' : '400 Bad Request', r);
  }));
  app.post('/order', route(async (res, _q, body) => {
    let b: { venue?: string; symbol?: string; side?: string; qty?: string | number; price?: string | number };
    try {
      b = JSON.parse((await body()).toString('utf8') || '{}') as typeof b;
    } catch {
      return json(res, '400 Bad Request', { error: 'body must be JSON' });
    }
    const slot = e.slotOf(b.venue ?? '', (b.symbol ?? '').toUpperCase());
    const ins = e.instrument(slot);
    if (!ins) return json(res, '400 Bad Request', { error: `unknown instrument ${b.venue} ${b.symbol}` });
    if (b.side !== 'BUY' && b.side !== 'SELL') return json(res, '400 Bad Request', { error: 'side must be BUY or SELL' });
    const qty = parseScaled(String(b.qty ?? ''), ins.qtyDecimals);
    const market = b.price === undefined || b.price === '';
    const price = market ? 0 : parseScaled(String(b.price), ins.priceDecimals);
    if (!(qty > 0) || (!market && !(price > 0))) return json(res, '400 Bad Request', { error: `bad qty/price for ${ins.symbol} (qty step ${ins.stepSize}, tick ${ins.tickSize})` });
    const r = e.placeManual({ slot, side: b.side, type: market ? 'MARKET' : 'LIMIT', tif: market ? 'IOC' : 'GTC', price, qty });
    if (r.id === null) json(res, '422 Unprocessable Entity', { error: 'refused by risk', reason: REFUSAL_NAMES[r.refusal] });
    else json(res, '200 OK', { clientOrderId: r.id });
  }));
  if (deps.latency) {
    const lat = deps.latency;
    app.get('/latency', route((res) => reply(res, '200 OK', lat.page(), 'text/html; charset=utf-8'), true));
    app.get('/latency.json', route((res) => reply(res, '200 OK', lat.json()), true));
  }
  app.any('/*', route((res) => json(res, '404 Not Found', { error: 'unknown endpoint' })));

  const sock = await new Promise<ListenSocket>((resolve, reject) => {
    app.listen('127.0.0.1', port, (s) => (s ? resolve(s) : reject(new Error(`control plane: cannot listen on 127.0.0.1:${port}`))));
  });
  const real = uws().us_socket_local_port(sock as unknown as Parameters<ReturnType<typeof uws>['us_socket_local_port']>[0]);
  let closed = false;
  return {
    port: real,
    url: `http://127.0.0.1:${real}`,
    close() {
      if (closed) return;
      closed = true;
      uws().us_listen_socket_close(sock);
      for (const r of open) {
        try {
          r.close();
        } catch {
          /* already gone */
        }
      }
      open.clear();
      (app as unknown as { close?: () => void }).close?.();
    },
  };
}
