/** Test helpers for the Binance venue layer: a simulator with both Binance venues, signed REST/WS API calls, a ws
 * client with a message queue, and a structural comparator against the recorded real messages. */
import { createHmac, createPrivateKey, sign as edSign } from 'node:crypto';
import { readFileSync } from 'node:fs';
import WebSocket from 'ws';
import { startBinanceSpot, startBinanceUsdm, type BinanceVenueOptions } from '../../../src/sim/binance/index.js';
import { BINANCE_DOC_EXAMPLE_KEY, BINANCE_DOC_EXAMPLE_SECRET, startSim, type SimHandle, type SimOptions } from '../../../src/sim/index.js';
import type { SimVenueEndpoints } from '../../../src/sim/core/types.js';

export const FIX = '/work/shared/exchange/fixtures/binance/';

export function fixture(name: string): unknown {
  return JSON.parse(readFileSync(FIX + name, 'utf8')) as unknown;
}

/** Frames of a cryptofeed capture: REST bodies and stream payloads (`data` of the combined wrapper). */
export function captureFrames(file: string): Array<{ kind: 'http' | 'ws'; url?: string; stream?: string; data: unknown }> {
  const out: Array<{ kind: 'http' | 'ws'; url?: string; stream?: string; data: unknown }> = [];
  for (const line of readFileSync(FIX + file, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    const o = JSON.parse(line) as { t: string; url?: string; data?: string };
    if (o.t === 'http' && o.data) out.push({ kind: 'http', url: o.url!, data: JSON.parse(o.data) });
    else if (o.t === 'recv' && o.data) {
      let j: unknown;
      try {
        j = JSON.parse(o.data);
      } catch {
        continue;
      }
      const w = j as { stream?: string; data?: unknown };
      if (w && typeof w === 'object' && typeof w.stream === 'string') out.push({ kind: 'ws', stream: w.stream, data: w.data });
    }
  }
  return out;
}

export interface TestSim {
  sim: SimHandle;
  spot: SimVenueEndpoints;
  usdm: SimVenueEndpoints;
}

export async function startTestSim(extra: Partial<BinanceVenueOptions> = {}, simOpts: Partial<SimOptions> = {}): Promise<TestSim> {
  const sim = await startSim({
    venues: ['binanceSpot', 'binanceUsdm'],
    generatorMode: 'manual',
    symbols: ['BTCUSDT', 'ETHUSDT'],
    depthIntervalMs: 0,
    credentials: { apiKey: BINANCE_DOC_EXAMPLE_KEY, apiSecret: BINANCE_DOC_EXAMPLE_SECRET },
    factories: {
      binanceSpot: (ctx, o) => startBinanceSpot(ctx, { ...o, ...extra }),
      binanceUsdm: (ctx, o) => startBinanceUsdm(ctx, { ...o, ...extra }),
    },
    ...simOpts,
  });
  if (!sim.endpoints.binanceSpot || !sim.endpoints.binanceUsdm) throw new Error('venues failed: ' + JSON.stringify(sim.venueErrors));
  return { sim, spot: sim.endpoints.binanceSpot, usdm: sim.endpoints.binanceUsdm };
}

// ---------------------------------------------------------------------------------------------- signing
export function hmac(secret: string, payload: string): string {
  return createHmac('sha256', secret).update(payload).digest('hex');
}

export function ed25519(pem: string, payload: string): string {
  return edSign(null, Buffer.from(payload), createPrivateKey(pem)).toString('base64');
}

export interface RestResult {
  status: number;
  headers: Headers;
  text: string;
  json: unknown;
}

/** A Binance REST call. `signed`: appends timestamp (unless given) and signature with the endpoint's key. */
export async function rest(
  ep: SimVenueEndpoints,
  method: string,
  path: string,
  params: Record<string, string | number> = {},
  o: { signed?: boolean; ed?: boolean; body?: boolean; apiKey?: string | null; tamper?: boolean; nowMs?: number } = {},
): Promise<RestResult> {
  const p: Record<string, string> = {};
  for (const [k, v] of Object.entries(params)) p[k] = String(v);
  if (o.signed && p['timestamp'] === undefined) p['timestamp'] = String(o.nowMs ?? Date.now());
  let qs = new URLSearchParams(p).toString();
  if (o.signed) {
    const sig = o.ed ? encodeURIComponent(ed25519(ep.ed25519PrivateKeyPem!, qs)) : hmac(ep.apiSecret, qs);
    qs += '&signature=' + (o.tamper ? sig.replace(/^./, (c) => (c === 'a' ? 'b' : 'a')) : sig);
  }
  const headers: Record<string, string> = {};
  const key = o.apiKey === undefined ? (o.ed ? ep.ed25519ApiKey! : ep.apiKey) : o.apiKey;
  if (key !== null) headers['X-MBX-APIKEY'] = key;
  let url = ep.restBaseUrl + path;
  const init: RequestInit = { method, headers };
  if (o.body) {
    headers['content-type'] = 'application/x-www-form-urlencoded';
    init.body = qs;
  } else if (qs) url += '?' + qs;
  const r = await fetch(url, init);
  const text = await r.text();
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  return { status: r.status, headers: r.headers, text, json };
}

// ---------------------------------------------------------------------------------------------- ws client
export class WsClient {
  readonly ws: WebSocket;
  readonly msgs: string[] = [];
  private waiters: Array<() => void> = [];
  closed = false;
  pings = 0;
  constructor(url: string) {
    this.ws = new WebSocket(url, { maxPayload: 64 * 1024 * 1024 });
    this.ws.on('message', (d) => {
      this.msgs.push(d.toString());
      for (const w of this.waiters.splice(0)) w();
    });
    this.ws.on('ping', () => this.pings++);
    this.ws.on('close', () => {
      this.closed = true;
      for (const w of this.waiters.splice(0)) w();
    });
    this.ws.on('error', () => {});
  }
  open(): Promise<void> {
    return new Promise((res, rej) => {
      if (this.ws.readyState === WebSocket.OPEN) return res();
      this.ws.once('open', () => res());
      this.ws.once('error', rej);
      this.ws.once('unexpected-response', (_req, resp) => rej(new Error('upgrade refused: ' + resp.statusCode)));
    });
  }
  send(o: unknown): void {
    this.ws.send(typeof o === 'string' ? o : JSON.stringify(o));
  }
  /** wait for (and remove) the first message matching `pred` */
  async next<T = unknown>(pred: (j: any) => boolean = () => true, timeoutMs = 3000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      for (let i = 0; i < this.msgs.length; i++) {
        let j: unknown;
        try {
          j = JSON.parse(this.msgs[i]!);
        } catch {
          continue;
        }
        if (pred(j)) {
          this.msgs.splice(i, 1);
          return j as T;
        }
      }
      const left = deadline - Date.now();
      if (left <= 0 || this.closed) throw new Error('timeout waiting for a message; have: ' + this.msgs.slice(-3).join(' | ').slice(0, 600));
      await new Promise<void>((res) => {
        const t = setTimeout(res, left);
        this.waiters.push(() => {
          clearTimeout(t);
          res();
        });
      });
    }
  }
  /** raw frames received so far (not consumed) */
  raw(): string[] {
    return this.msgs;
  }
  close(): void {
    try {
      this.ws.terminate();
    } catch {
      /* closed */
    }
  }
}

export async function connect(url: string): Promise<WsClient> {
  const c = new WsClient(url);
  await c.open();
  return c;
}

/** Signed WS API params (HMAC, or Ed25519 with `ed`): sorted k=v of every param, values not percent-encoded. */
export function wsSigned(ep: SimVenueEndpoints, params: Record<string, string | number | boolean>, ed = false): Record<string, string | number | boolean> {
  const p: Record<string, string | number | boolean> = { ...params, apiKey: ed ? ep.ed25519ApiKey! : ep.apiKey };
  if (p['timestamp'] === undefined) p['timestamp'] = Date.now();
  const payload = Object.keys(p)
    .sort()
    .map((k) => `${k}=${String(p[k])}`)
    .join('&');
  p['signature'] = ed ? ed25519(ep.ed25519PrivateKeyPem!, payload) : hmac(ep.apiSecret, payload);
  return p;
}

// ---------------------------------------------------------------------------------------------- shapes
function typeOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  return typeof v;
}

/**
 * Structural differences of `got` against `want` (a recorded real message): every key of `want` must exist in `got`
 * with the same JSON type (recursively; arrays compare their first elements). `nullable` lists keys where the real
 * venue sends either null or a string. Keys of `got` not in `want` are reported unless listed in `extra`.
 */
export function shapeDiff(want: unknown, got: unknown, o: { extra?: string[]; nullable?: string[] } = {}, path = '$'): string[] {
  const out: string[] = [];
  const tw = typeOf(want);
  const tg = typeOf(got);
  const key = path.slice(path.lastIndexOf('.') + 1);
  if (tw !== tg) {
    if (!(o.nullable?.includes(key) && (tw === 'null' || tg === 'null'))) out.push(`${path}: type ${tg}, want ${tw}`);
    return out;
  }
  if (tw === 'array') {
    const a = want as unknown[];
    const b = got as unknown[];
    if (a.length > 0 && b.length > 0) out.push(...shapeDiff(a[0], b[0], o, path + '[0]'));
    return out;
  }
  if (tw === 'object') {
    const a = want as Record<string, unknown>;
    const b = got as Record<string, unknown>;
    for (const k of Object.keys(a)) {
      if (!(k in b)) out.push(`${path}.${k}: missing`);
      else out.push(...shapeDiff(a[k], b[k], o, `${path}.${k}`));
    }
    for (const k of Object.keys(b)) if (!(k in a) && !o.extra?.includes(k)) out.push(`${path}.${k}: not in the real message`);
  }
  return out;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
