/**
 * REST transport: one undici Pool per origin (shared by every gateway on that host), keep-alive, pipelining 1,
 * connections opened at start (`warm`) and kept warm by the periodic time sync; a timeout per request.
 *
 * Errors are classified for the order logic: `notSent` (connection refused: nothing reached the exchange, safe to
 * resend) vs `unknown` (timeout / reset after the bytes may have left: query before anything else).
 */
import { Pool } from 'undici';
import type { HeaderBag } from './ratelimit.js';

export interface RestResponse {
  status: number;
  headers: HeaderBag;
  text: string;
}

export class RestError extends Error {
  constructor(
    message: string,
    readonly kind: 'notSent' | 'unknown',
    readonly causeCode: string,
  ) {
    super(message);
  }
}

export interface RestClientOptions {
  connections?: number;
  timeoutMs?: number;
  keepAliveMs?: number;
}

const pools = new Map<string, { pool: Pool; refs: number }>();

function acquirePool(origin: string, connections: number, keepAliveMs: number): Pool {
  const e = pools.get(origin);
  if (e) {
    e.refs++;
    return e.pool;
  }
  const pool = new Pool(origin, {
    connections,
    pipelining: 1,
    keepAliveTimeout: keepAliveMs,
    keepAliveMaxTimeout: keepAliveMs,
    connect: { noDelay: true },
  });
  pools.set(origin, { pool, refs: 1 });
  return pool;
}

async function releasePool(origin: string): Promise<void> {
  const e = pools.get(origin);
  if (!e) return;
  if (--e.refs > 0) return;
  pools.delete(origin);
  await e.pool.destroy().catch(() => undefined);
}

const NOT_SENT = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'UND_ERR_CONNECT_TIMEOUT']);

export class RestClient {
  readonly origin: string;
  private readonly pool: Pool;
  readonly timeoutMs: number;
  private readonly connections: number;
  private closed = false;
  private warmTimer: NodeJS.Timeout | undefined;

  constructor(baseUrl: string, opts: RestClientOptions = {}) {
    this.origin = new URL(baseUrl).origin;
    this.connections = opts.connections ?? 2;
    this.timeoutMs = opts.timeoutMs ?? 5000;
    this.pool = acquirePool(this.origin, this.connections, opts.keepAliveMs ?? 60_000);
  }

  async request(
    method: 'GET' | 'POST' | 'PUT' | 'DELETE',
    path: string,
    opts: { query?: string; body?: string | Uint8Array; headers?: Record<string, string>; timeoutMs?: number } = {},
  ): Promise<RestResponse> {
    const t = opts.timeoutMs ?? this.timeoutMs;
    const fullPath = opts.query !== undefined && opts.query.length > 0 ? path + '?' + opts.query : path;
    try {
      const res = await this.pool.request({
        method,
        path: fullPath,
        headers: opts.headers ?? {},
        body: opts.body ?? null,
        headersTimeout: t,
        bodyTimeout: t,
      });
      const text = await res.body.text();
      return { status: res.statusCode, headers: res.headers as HeaderBag, text };
    } catch (err) {
      const code = (err as { code?: string }).code ?? (err as { cause?: { code?: string } }).cause?.code ?? 'ERR';
      throw new RestError(`${method} ${path}: ${(err as Error).message}`, NOT_SENT.has(code) ? 'notSent' : 'unknown', code);
    }
  }

  /** Open every pool connection now (concurrent GETs), so the first order does not pay for a handshake. */
  async warm(path: string): Promise<void> {
    const reqs: Array<Promise<unknown>> = [];
    for (let i = 0; i < this.connections; i++) reqs.push(this.request('GET', path).catch(() => undefined));
    await Promise.all(reqs);
  }

  /**
   * Keep every pooled connection warm: `connections` concurrent GETs every intervalMs (a single periodic request
   * would keep only one socket alive; the venue closes idle ones).
   */
  keepWarm(path: string, intervalMs = 15_000): void {
    if (this.warmTimer) return;
    this.warmTimer = setInterval(() => void this.warm(path), intervalMs);
    this.warmTimer.unref();
  }

  async close(): Promise<void> {
    if (this.warmTimer) clearInterval(this.warmTimer);
    this.warmTimer = undefined;
    if (this.closed) return;
    this.closed = true;
    await releasePool(this.origin);
  }
}
