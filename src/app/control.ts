/**
 * Control plane: a node:http server bound to 127.0.0.1 only (no native dependency: it runs wherever Node runs),
 * every request authenticated with a token (`Authorization: Bearer <token>` or `X-Tickwire-Token: <token>`,
 * compared in constant time).
 *
 *   GET  /status                 engine status (JSON), with `process` {pid, startedAt}, `venues` [{venue, halted}]
 *                                and `books` [{venue, symbol, tradable, lastMessageAgeMs}] for outside watchers
 *   POST /start                  resume strategy trading (not after a kill), and venues halted until an operator says so
 *   POST /stop                   stop strategy trading; open orders stay
 *   POST /kill[?wait=1]          kill switch; with wait=1 the answer comes after cancel-all was verified (the report)
 *   POST /order                  manual order {venue, symbol, side: BUY|SELL, qty: "0.001", price?: "97000.5"}
 *                                (no price = market IOC); passes pre-trade risk (not the stopped state)
 *   POST /algo                   manual conditional (algo) order {venue, symbol, side, kind: STOP|TAKE_PROFIT,
 *                                qty, trigger: "98000", price? (absent = market once triggered), reduceOnly?};
 *                                passes pre-trade risk as the order its trigger places; 422 on a venue without them
 *   POST /algo/cancel            {clientAlgoId}: cancel an open algo order (404 when not open)
 *   POST /reload                 reload strategy/risk/kill-switch parameters from the config file
 *   GET  /metrics                Prometheus text format: the engine's counters, then the process metrics
 *   GET  /latency[.json]         live hop-latency page / its JSON (these two also accept `?token=`; the JSON takes
 *                                `?since=<epoch ms>`: p50/p99 series after that interval only)
 *
 * Strict at the edge, whole or nothing: a request is served whole or refused whole, with a JSON `{error, field?}`.
 *   401 no or wrong token (checked first, before the path is looked at or any body byte is read)
 *   404 unknown path, 405 known path with another method (`Allow` names the right one)
 *   413 a body over 64 KB (`MAX_BODY_BYTES`): refused from Content-Length before reading, or as soon as the bytes
 *       read pass the cap; the connection is then closed, so the rest is never read and memory does not grow
 *   400 malformed JSON or UTF-8, a body that is not a JSON object, a field of the wrong type or format, an unknown
 *       field, a query parameter the endpoint does not take, or a body on an endpoint that takes none (`{}` is allowed)
 *   500 only for a real internal failure: logged with its stack, answered `{"error":"internal error"}`. No internal
 *       error text ever leaves the server.
 * Every answer is counted by status in `tickwire_control_requests_total`; a 413 and a 500 are also logged.
 *
 * `startControl` rejects (never throws synchronously, never hangs) when it cannot listen, e.g. the port is taken,
 * so the caller can fail closed.
 */
import { timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { z } from 'zod';
import type { Engine } from '../engine/engine.js';
import type { KillSwitch } from '../engine/killswitch.js';
import { VENUES, type VenueId } from '../model/types.js';
import { parseScaled } from '../util/fixed.js';
import { log } from '../util/log.js';
import { REFUSAL_NAMES } from '../risk/pretrade.js';
import { bookHealth, processMetrics, renderMetrics, startProcessMetrics, venueHalts, type ExtraMetric } from './metrics.js';
import { parseSince } from './live.js';

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
  /** live latency page: GET /latency (HTML) and /latency.json[?since=MS] (series after that interval end only) */
  latency?: { page: () => string; json: (sinceMs?: number) => string };
}

export interface ControlServer {
  port: number;
  url: string;
  close(): void;
}

/** Largest request body read; a longer one is answered 413 and its connection closed. */
export const MAX_BODY_BYTES = 64 * 1024;

const JSON_CT = 'application/json';

/** When this process started (ISO): a watcher that sees it change knows the engine restarted. */
const PROCESS_STARTED_AT = new Date(performance.timeOrigin).toISOString();

interface Reply {
  status: number;
  body: string;
  ct?: string;
}

/** A refusal of the request (4xx) with the field it is about; anything else thrown is an internal error (500). */
class Refused extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }
}

interface Route {
  method: 'GET' | 'POST';
  /** the latency page (a browser tab) may carry the token in its URL */
  queryToken?: boolean;
  /** query parameters the endpoint takes, each with its allowed values */
  query?: Record<string, readonly string[]>;
  /** 'none': empty or `{}` only; 'json': a JSON object, given to the handler */
  body: 'none' | 'json';
  handle: (q: URLSearchParams, body: unknown) => Reply | Promise<Reply>;
}

function tokenOk(given: string, token: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

const json = (status: number, v: unknown): Reply => ({ status, body: JSON.stringify(v) });

/** A plain non-negative decimal: no sign, exponent, leading zeros, or more than 18 decimals. */
const DECIMAL = /^(0|[1-9][0-9]{0,17})(\.[0-9]{1,18})?$/;
const decimal = (field: string) =>
  z
    .string({ error: `${field} must be a decimal string like "0.001"` })
    .regex(DECIMAL, { error: `${field} must be a plain decimal like "0.001" (no sign, exponent or leading zeros)` });

/** POST /order: exactly these fields, each of exactly this type; anything else refuses the whole request. */
const OrderBody = z.strictObject({
  venue: z.enum(VENUES as [VenueId, ...VenueId[]], { error: `venue must be one of ${VENUES.join(', ')}` }),
  symbol: z.string({ error: 'symbol must be a string' }).regex(/^[A-Za-z0-9]{1,32}$/, { error: 'symbol must be 1-32 letters or digits' }),
  side: z.enum(['BUY', 'SELL'], { error: 'side must be BUY or SELL' }),
  qty: decimal('qty'),
  /** absent = market IOC */
  price: decimal('price').optional(),
});

/** POST /algo: exactly these fields (strict, like /order). */
const AlgoBody = z.strictObject({
  venue: z.enum(VENUES as [VenueId, ...VenueId[]], { error: `venue must be one of ${VENUES.join(', ')}` }),
  symbol: z.string({ error: 'symbol must be a string' }).regex(/^[A-Za-z0-9]{1,32}$/, { error: 'symbol must be 1-32 letters or digits' }),
  side: z.enum(['BUY', 'SELL'], { error: 'side must be BUY or SELL' }),
  kind: z.enum(['STOP', 'TAKE_PROFIT'], { error: 'kind must be STOP or TAKE_PROFIT' }),
  qty: decimal('qty'),
  trigger: decimal('trigger'),
  /** absent = a market order once triggered */
  price: decimal('price').optional(),
  reduceOnly: z.boolean({ error: 'reduceOnly must be true or false' }).optional(),
});

/** POST /algo/cancel */
const AlgoCancelBody = z.strictObject({
  clientAlgoId: z.string({ error: 'clientAlgoId must be a string' }).regex(/^[A-Za-z0-9_.:/-]{1,36}$/, { error: 'clientAlgoId must be 1-36 id characters' }),
});

/** The first problem zod found, as a refusal naming the field. */
function refusal(e: z.ZodError): Refused {
  const i = e.issues[0];
  if (!i) return new Refused(400, 'invalid body');
  if (i.code === 'unrecognized_keys') {
    const k = i.keys[0] ?? '';
    return new Refused(400, `unknown field ${JSON.stringify(k).slice(0, 80)}`, k.slice(0, 64));
  }
  const field = i.path[0];
  return typeof field === 'string' ? new Refused(400, i.message, field) : new Refused(400, 'body must be a JSON object');
}

export async function startControl(deps: ControlDeps, port = 0): Promise<ControlServer> {
  if (deps.token.length < 16) throw new Error('control token must be at least 16 characters');
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new Error(`control plane: cannot listen on 127.0.0.1:${port}: the port must be an integer 0-65535`);
  startProcessMetrics();
  const e = deps.engine;
  const answered = new Map<number, number>();

  const routes = new Map<string, Route>();
  routes.set('/status', {
    method: 'GET',
    body: 'none',
    handle: () =>
      json(200, {
        ...e.status(),
        killSwitch: deps.killSwitch.report ?? (deps.killSwitch.triggered ? 'in progress' : null),
        // what an outside watcher (tickwire bot, the watchdog) needs: which process answers, halted venues, stale books
        process: { pid: process.pid, startedAt: PROCESS_STARTED_AT },
        venues: venueHalts(e),
        books: bookHealth(e),
        ...(deps.extraStatus?.() ?? {}),
      }),
  });
  routes.set('/metrics', {
    method: 'GET',
    body: 'none',
    handle: async () => {
      const requests: ExtraMetric = {
        name: 'tickwire_control_requests_total',
        help: 'Control-plane requests answered, by HTTP status.',
        type: 'counter',
        samples: [...answered].map(([code, value]) => ({ labels: { code: String(code) }, value })),
      };
      return {
        status: 200,
        body: renderMetrics(e, [...(deps.extraMetrics?.() ?? []), requests]) + (await processMetrics()),
        ct: 'text/plain; version=0.0.4; charset=utf-8',
      };
    },
  });
  routes.set('/start', {
    method: 'POST',
    body: 'none',
    handle: () => {
      if (!e.startTrading()) return json(409, { error: 'kill switch was triggered: restart the engine', trading: e.trading });
      // an operator's start also resumes venues halted until an operator says so (auth failure, a ban without an end)
      return json(200, { trading: e.trading, resumedVenues: e.orders.resumeHalted() });
    },
  });
  routes.set('/stop', {
    method: 'POST',
    body: 'none',
    handle: () => {
      e.stopTrading();
      return json(200, { trading: e.trading });
    },
  });
  routes.set('/kill', {
    method: 'POST',
    body: 'none',
    query: { wait: ['1', 'true', '0', 'false'] },
    handle: async (q) => {
      const p = deps.killSwitch.trigger('control', 'control plane');
      const wait = q.get('wait');
      if (wait === '1' || wait === 'true') return json(200, await p);
      return json(202, { trading: e.trading, kill: 'triggered' });
    },
  });
  routes.set('/reload', {
    method: 'POST',
    body: 'none',
    handle: () => {
      if (!deps.reload) return json(501, { error: 'no config file to reload' });
      const r = deps.reload();
      return json(r.ok ? 200 : 400, r);
    },
  });
  routes.set('/order', {
    method: 'POST',
    body: 'json',
    handle: (_q, raw) => {
      const parsed = OrderBody.safeParse(raw);
      if (!parsed.success) throw refusal(parsed.error);
      const b = parsed.data;
      const slot = e.slotOf(b.venue, b.symbol.toUpperCase());
      const ins = e.instrument(slot);
      if (!ins) throw new Refused(400, `unknown instrument ${b.venue} ${b.symbol}`, 'symbol');
      const qty = parseScaled(b.qty, ins.qtyDecimals);
      if (!(qty > 0) || !Number.isSafeInteger(qty))
        throw new Refused(400, `qty ${b.qty} is not a positive quantity in steps of ${ins.stepSize} for ${ins.symbol}`, 'qty');
      const market = b.price === undefined;
      const price = market ? 0 : parseScaled(b.price as string, ins.priceDecimals);
      if (!market && (!(price > 0) || !Number.isSafeInteger(price)))
        throw new Refused(400, `price ${b.price} is not a positive price in ticks of ${ins.tickSize} for ${ins.symbol}`, 'price');
      const r = e.placeManual({ slot, side: b.side, type: market ? 'MARKET' : 'LIMIT', tif: market ? 'IOC' : 'GTC', price, qty });
      if (r.id === null) return json(422, { error: 'refused by risk', reason: REFUSAL_NAMES[r.refusal] });
      return json(200, { clientOrderId: r.id });
    },
  });
  routes.set('/algo', {
    method: 'POST',
    body: 'json',
    handle: (_q, raw) => {
      const parsed = AlgoBody.safeParse(raw);
      if (!parsed.success) throw refusal(parsed.error);
      const b = parsed.data;
      const slot = e.slotOf(b.venue, b.symbol.toUpperCase());
      const ins = e.instrument(slot);
      if (!ins) throw new Refused(400, `unknown instrument ${b.venue} ${b.symbol}`, 'symbol');
      if (!e.orders.algoSupported(slot)) throw new Refused(400, `${b.venue} takes no algo (conditional) orders here`, 'venue');
      const qty = parseScaled(b.qty, ins.qtyDecimals);
      if (!(qty > 0) || !Number.isSafeInteger(qty))
        throw new Refused(400, `qty ${b.qty} is not a positive quantity in steps of ${ins.stepSize} for ${ins.symbol}`, 'qty');
      const trigger = parseScaled(b.trigger, ins.priceDecimals);
      if (!(trigger > 0) || !Number.isSafeInteger(trigger))
        throw new Refused(400, `trigger ${b.trigger} is not a positive price in ticks of ${ins.tickSize} for ${ins.symbol}`, 'trigger');
      const price = b.price === undefined ? 0 : parseScaled(b.price, ins.priceDecimals);
      if (b.price !== undefined && (!(price > 0) || !Number.isSafeInteger(price)))
        throw new Refused(400, `price ${b.price} is not a positive price in ticks of ${ins.tickSize} for ${ins.symbol}`, 'price');
      const r = e.placeAlgoManual({ slot, side: b.side, kind: b.kind, qty, triggerPrice: trigger, price, reduceOnly: b.reduceOnly === true });
      if (r.id === null) return json(422, { error: 'refused by risk', reason: REFUSAL_NAMES[r.refusal] });
      return json(200, { clientAlgoId: r.id });
    },
  });
  routes.set('/algo/cancel', {
    method: 'POST',
    body: 'json',
    handle: (_q, raw) => {
      const parsed = AlgoCancelBody.safeParse(raw);
      if (!parsed.success) throw refusal(parsed.error);
      const id = parsed.data.clientAlgoId;
      if (!e.cancelAlgo(id)) return json(404, { error: `no open algo order ${id}`, field: 'clientAlgoId' });
      return json(200, { clientAlgoId: id, state: e.algo(id)?.state });
    },
  });
  if (deps.latency) {
    const lat = deps.latency;
    routes.set('/latency', {
      method: 'GET',
      queryToken: true,
      query: { token: [], logy: ['1', '0'] }, // logy: the page's log latency axis toggle, kept in its URL
      body: 'none',
      handle: () => ({ status: 200, body: lat.page(), ct: 'text/html; charset=utf-8' }),
    });
    routes.set('/latency.json', {
      method: 'GET',
      queryToken: true,
      query: { token: [], since: [] },
      body: 'none',
      handle: (q) => {
        const since = parseSince(q.get('since'));
        if (since === 'invalid') throw new Refused(400, 'since must be an epoch ms (a non-negative integer)', 'since');
        return { status: 200, body: lat.json(since) };
      },
    });
  }

  /** Write the answer once. `close`: the request's body was not (all) read, so the connection cannot be reused. */
  const send = (req: IncomingMessage, res: ServerResponse, r: Reply, close = false, allow?: string): void => {
    if (res.headersSent || res.destroyed) return;
    answered.set(r.status, (answered.get(r.status) ?? 0) + 1);
    const headers: Record<string, string | number> = {
      'Content-Type': r.ct ?? JSON_CT,
      'Cache-Control': 'no-store',
      'Content-Length': Buffer.byteLength(r.body),
    };
    if (allow) headers['Allow'] = allow;
    if (close) {
      headers['Connection'] = 'close';
      // stop reading: nothing more of this request reaches memory; the socket goes once the answer is flushed
      req.pause();
      res.on('finish', () => req.socket.destroySoon());
    }
    res.writeHead(r.status, headers).end(r.body);
  };
  const refuse = (req: IncomingMessage, res: ServerResponse, x: Refused, close = false, allow?: string): void =>
    send(req, res, json(x.status, x.field !== undefined ? { error: x.message, field: x.field } : { error: x.message }), close, allow);

  /** 413 and close; logged (authenticated, so it is our own client misbehaving). */
  const tooLarge = (req: IncomingMessage, res: ServerResponse, declared?: number): void => {
    log().warn({ path: (req.url ?? '').split('?')[0], declared, cap: MAX_BODY_BYTES }, 'control plane: request body over the cap refused');
    refuse(req, res, new Refused(413, `body larger than ${MAX_BODY_BYTES} bytes`), true);
  };

  /** Read the body up to the cap; `null` when it was refused (the answer is sent). */
  const readBody = (req: IncomingMessage, res: ServerResponse, expectsContinue: boolean): Promise<Buffer | null> =>
    new Promise((resolve) => {
      if (expectsContinue) res.writeContinue(); // only now: a refused request never gets its body invited
      const chunks: Buffer[] = [];
      let size = 0;
      const onData = (c: Buffer): void => {
        size += c.length;
        if (size > MAX_BODY_BYTES) {
          req.off('data', onData);
          chunks.length = 0;
          tooLarge(req, res);
          resolve(null);
          return;
        }
        chunks.push(c);
      };
      req.on('data', onData);
      req.on('end', () => resolve(size > MAX_BODY_BYTES ? null : Buffer.concat(chunks, size)));
      req.on('error', () => resolve(null));
      req.on('close', () => resolve(null)); // no-op when already resolved
    });

  const handle = async (req: IncomingMessage, res: ServerResponse, expectsContinue: boolean): Promise<void> => {
    // origin-form only: the path up to '?', then the query (URLSearchParams never throws)
    const target = req.url ?? '/';
    const qm = target.indexOf('?');
    const url = { pathname: qm < 0 ? target : target.slice(0, qm), searchParams: new URLSearchParams(qm < 0 ? '' : target.slice(qm + 1)) };
    const route = routes.get(url.pathname);
    const hasBody = (req.headers['content-length'] !== undefined && req.headers['content-length'] !== '0') || req.headers['transfer-encoding'] !== undefined;
    const auth = req.headers['authorization'] ?? '';
    const header = req.headers['x-tickwire-token'];
    let given = auth.startsWith('Bearer ') ? auth.slice(7) : typeof header === 'string' ? header : '';
    if (!given && route?.queryToken) given = url.searchParams.get('token') ?? '';
    if (!given || !tokenOk(given, deps.token)) return refuse(req, res, new Refused(401, 'missing or wrong token'), hasBody);
    if (!route) return refuse(req, res, new Refused(404, 'unknown endpoint'), hasBody);
    if (req.method !== route.method) return refuse(req, res, new Refused(405, `${url.pathname} takes ${route.method}`), hasBody, route.method);
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > MAX_BODY_BYTES) return tooLarge(req, res, declared);
    for (const [k, v] of url.searchParams) {
      const allowed = route.query?.[k];
      if (!allowed) return refuse(req, res, new Refused(400, `unknown query parameter ${JSON.stringify(k).slice(0, 80)}`, k.slice(0, 64)), hasBody);
      if (url.searchParams.getAll(k).length > 1) return refuse(req, res, new Refused(400, `query parameter ${k} given twice`, k), hasBody);
      if (allowed.length && !allowed.includes(v)) return refuse(req, res, new Refused(400, `${k} must be one of ${allowed.join(', ')}`, k), hasBody);
    }
    const raw = await readBody(req, res, expectsContinue);
    if (raw === null) return;
    let body: unknown;
    let text = '';
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(raw);
    } catch {
      throw new Refused(400, 'body must be UTF-8');
    }
    if (route.body === 'none') {
      if (text.trim() !== '' && text.replace(/\s/g, '') !== '{}') throw new Refused(400, `${url.pathname} takes no body`);
    } else {
      try {
        body = JSON.parse(text);
      } catch {
        throw new Refused(400, 'body must be JSON');
      }
      if (body === null || typeof body !== 'object' || Array.isArray(body)) throw new Refused(400, 'body must be a JSON object');
    }
    send(req, res, await route.handle(url.searchParams, body));
  };

  const onRequest = (req: IncomingMessage, res: ServerResponse, expectsContinue = false): void => {
    handle(req, res, expectsContinue).catch((x: unknown) => {
      if (x instanceof Refused) return refuse(req, res, x);
      log().error({ err: x, method: req.method, path: (req.url ?? '').split('?')[0] }, 'control plane: internal error');
      send(req, res, json(500, { error: 'internal error' }), !req.complete);
    });
  };
  const server = createServer({ requestTimeout: 10_000, headersTimeout: 5_000, keepAliveTimeout: 5_000 }, onRequest);
  // `Expect: 100-continue`: the 100 is sent only once the request passed auth, route and size checks
  server.on('checkContinue', (req: IncomingMessage, res: ServerResponse) => onRequest(req, res, true));
  server.maxHeadersCount = 64;
  server.maxConnections = 64;
  // malformed HTTP: a bare 400 and close (node's default, made explicit so nothing of the parser's text leaks)
  server.on('clientError', (_err, socket: Socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
    else socket.destroy();
  });

  await new Promise<void>((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException): void => {
      server.close();
      reject(new Error(`control plane: cannot listen on 127.0.0.1:${port}: ${err.code ?? err.message}`));
    };
    server.once('error', onError);
    server.listen({ host: '127.0.0.1', port }, () => {
      server.off('error', onError);
      resolve();
    });
  });
  server.on('error', (err) => log().error({ err }, 'control plane: server error'));
  const real = (server.address() as AddressInfo).port;
  let closed = false;
  return {
    port: real,
    url: `http://127.0.0.1:${real}`,
    close() {
      if (closed) return;
      closed = true;
      server.close();
      server.closeAllConnections();
    },
  };
}
