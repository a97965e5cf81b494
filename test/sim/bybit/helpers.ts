// Test helpers for the Bybit venue: a simulator with only the bybit venue, signed REST calls, a WS client that
// collects frames, fixtures and a structural comparator (same keys, same JSON types).
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, resolve } from 'node:path';
import WebSocket from 'ws';
import { startSim, type SimHandle } from '../../../src/sim/index.js';
import type { BybitVenueHandle, BybitVenueOptions } from '../../../src/sim/bybit/index.js';
import type { SimVenueEndpoints } from '../../../src/sim/core/types.js';

const here = dirname(fileURLToPath(import.meta.url));
export const FIXTURES = resolve(here, '../../../../shared/exchange/fixtures/bybit');

export interface BybitSim {
  sim: SimHandle;
  venue: BybitVenueHandle;
  ep: SimVenueEndpoints;
  close(): Promise<void>;
}

export async function startBybitSim(opts: Partial<Omit<BybitVenueOptions, 'host' | 'port' | 'app'>> = {}, seed = 7): Promise<BybitSim> {
  const sim = await startSim({
    venues: ['bybit'],
    generatorMode: 'manual',
    seed,
    symbols: ['BTCUSDT', 'ETHUSDT'],
    venueOptions: { bybit: opts },
  });
  const venue = sim.venueHandles.bybit as BybitVenueHandle | undefined;
  if (!venue || !sim.endpoints.bybit) {
    await sim.close();
    throw new Error(`bybit venue did not start: ${JSON.stringify(sim.venueErrors)}`);
  }
  return { sim, venue, ep: sim.endpoints.bybit, close: () => sim.close() };
}

export interface RestAnswer {
  status: number;
  headers: Headers;
  text: string;
  json: any;
}

async function answer(r: Response): Promise<RestAnswer> {
  const text = await r.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: r.status, headers: r.headers, text, json };
}

export function sign(secret: string, text: string): string {
  return createHmac('sha256', secret).update(text).digest('hex');
}

export interface SignOpts {
  timestamp?: number;
  recvWindow?: string;
  tamper?: boolean;
  apiKey?: string;
  secret?: string;
}

export async function publicGet(ep: SimVenueEndpoints, path: string, query = ''): Promise<RestAnswer> {
  return answer(await fetch(`${ep.restBaseUrl}${path}${query ? '?' + query : ''}`));
}

export async function signedGet(ep: SimVenueEndpoints, path: string, query: string, o: SignOpts = {}): Promise<RestAnswer> {
  const ts = String(o.timestamp ?? Date.now());
  const rw = o.recvWindow ?? '5000';
  const key = o.apiKey ?? ep.apiKey;
  let sig = sign(o.secret ?? ep.apiSecret, ts + key + rw + query);
  if (o.tamper) sig = sig.slice(0, -1) + (sig.endsWith('0') ? '1' : '0');
  return answer(
    await fetch(`${ep.restBaseUrl}${path}${query ? '?' + query : ''}`, {
      headers: { 'X-BAPI-API-KEY': key, 'X-BAPI-TIMESTAMP': ts, 'X-BAPI-SIGN': sig, 'X-BAPI-RECV-WINDOW': rw },
    }),
  );
}

export async function signedPost(ep: SimVenueEndpoints, path: string, body: unknown, o: SignOpts = {}): Promise<RestAnswer> {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  const ts = String(o.timestamp ?? Date.now());
  const rw = o.recvWindow ?? '5000';
  const key = o.apiKey ?? ep.apiKey;
  let sig = sign(o.secret ?? ep.apiSecret, ts + key + rw + text);
  if (o.tamper) sig = sig.slice(0, -1) + (sig.endsWith('0') ? '1' : '0');
  return answer(
    await fetch(`${ep.restBaseUrl}${path}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'X-BAPI-API-KEY': key, 'X-BAPI-TIMESTAMP': ts, 'X-BAPI-SIGN': sig, 'X-BAPI-RECV-WINDOW': rw },
      body: text,
    }),
  );
}

/** A WS client that keeps every text frame, parsed (or the raw text when it does not parse). */
export class Client {
  readonly frames: any[] = [];
  readonly raw: string[] = [];
  private waiters: Array<() => void> = [];
  closed = false;
  closeCode = 0;
  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => {
      const t = data.toString();
      this.raw.push(t);
      let v: unknown;
      try {
        v = JSON.parse(t);
      } catch {
        v = { __malformed: t };
      }
      this.frames.push(v);
      for (const w of this.waiters.splice(0)) w();
    });
    ws.on('close', (code) => {
      this.closed = true;
      this.closeCode = code;
      for (const w of this.waiters.splice(0)) w();
    });
  }
  static open(url: string): Promise<Client> {
    return new Promise((res, rej) => {
      const ws = new WebSocket(url);
      const c = new Client(ws);
      ws.once('open', () => res(c));
      ws.once('error', rej);
    });
  }
  send(v: unknown): void {
    this.ws.send(typeof v === 'string' ? v : JSON.stringify(v));
  }
  /** wait until some frame (from index `from`) matches; returns it */
  async waitFor(pred: (f: any) => boolean, timeoutMs = 4000, from = 0): Promise<any> {
    const deadline = Date.now() + timeoutMs;
    let i = from;
    for (;;) {
      for (; i < this.frames.length; i++) if (pred(this.frames[i])) return this.frames[i];
      if (this.closed) throw new Error('socket closed while waiting');
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timeout waiting for frame; got ${this.frames.length}: ${this.raw.slice(-3).join(' | ').slice(0, 600)}`);
      await new Promise<void>((r) => {
        const t = setTimeout(r, left);
        this.waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
  }
  async waitClosed(timeoutMs = 4000): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    while (!this.closed) {
      if (Date.now() > deadline) throw new Error('timeout waiting for close');
      await new Promise((r) => setTimeout(r, 10));
    }
    return this.closeCode;
  }
  close(): void {
    if (!this.closed) this.ws.terminate();
  }
}

export function wsAuthArgs(ep: SimVenueEndpoints, o: { expires?: number; tamper?: boolean; apiKey?: string } = {}): [string, number, string] {
  const expires = o.expires ?? Date.now() + 5000;
  let sig = sign(ep.apiSecret, 'GET/realtime' + expires);
  if (o.tamper) sig = sig.slice(0, -1) + (sig.endsWith('0') ? '1' : '0');
  return [o.apiKey ?? ep.apiKey, expires, sig];
}

// ---------------------------------------------------------------------------------------------- fixtures

export function fixture(name: string): any {
  return JSON.parse(readFileSync(resolve(FIXTURES, name), 'utf8'));
}

export interface CaptureFrames {
  /** first frame per key: `${category}|${kind}` kind in ob-snapshot, ob-delta, trade, ack */
  first: Map<string, any>;
}

export function capture(): CaptureFrames {
  const conns = new Map<string, string>();
  const first = new Map<string, any>();
  const text = readFileSync(resolve(FIXTURES, 'v5_public_capture_2026-08_cryptofeed.ndjson'), 'utf8');
  for (const line of text.split('\n')) {
    if (!line) continue;
    const o = JSON.parse(line);
    if (o.t === 'connect') conns.set(o.conn, String(o.addr).split('/').pop()!);
    if (o.t !== 'recv') continue;
    const cat = conns.get(o.conn)!;
    const j = JSON.parse(o.data);
    let kind: string | undefined;
    if (typeof j.topic === 'string' && j.topic.startsWith('orderbook.')) kind = j.type === 'snapshot' ? 'ob-snapshot' : 'ob-delta';
    else if (typeof j.topic === 'string' && j.topic.startsWith('publicTrade.')) kind = 'trade';
    else if (typeof j.topic === 'string' && j.topic.startsWith('tickers.')) kind = j.type === 'snapshot' ? 'tk-snapshot' : 'tk-delta';
    else if (j.op === 'subscribe') kind = 'ack';
    if (kind && !first.has(`${cat}|${kind}`)) first.set(`${cat}|${kind}`, j);
  }
  return { first };
}

// ---------------------------------------------------------------------------------------------- comparator

function jsonType(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  return typeof v;
}

/**
 * Differences between the structure of `expected` (a recorded message) and `actual` (ours): same key set at every
 * object level, same JSON type per key; arrays compare every element of `actual` with the first of `expected`.
 * `mapKeys`: keys whose value is a map with free keys (only the value types are compared).
 */
export function shapeDiff(
  expected: unknown,
  actual: unknown,
  path = '$',
  mapKeys: ReadonlySet<string> = new Set(['cumFeeDetail']),
  allowExtra = false,
): string[] {
  const te = jsonType(expected);
  const ta = jsonType(actual);
  if (te !== ta) return [`${path}: type ${ta}, expected ${te}`];
  const out: string[] = [];
  if (te === 'array') {
    const e = expected as unknown[];
    const a = actual as unknown[];
    if (e.length > 0) for (let i = 0; i < a.length; i++) out.push(...shapeDiff(e[0], a[i], `${path}[${i}]`, mapKeys, allowExtra));
    return out;
  }
  if (te === 'object') {
    const e = expected as Record<string, unknown>;
    const a = actual as Record<string, unknown>;
    const last = path.split('.').pop()!;
    if (mapKeys.has(last)) {
      const ev = Object.values(e)[0];
      for (const [k, v] of Object.entries(a)) if (ev !== undefined) out.push(...shapeDiff(ev, v, `${path}.${k}`, mapKeys, allowExtra));
      return out;
    }
    for (const k of Object.keys(e)) if (!(k in a)) out.push(`${path}.${k}: missing`);
    if (!allowExtra) for (const k of Object.keys(a)) if (!(k in e)) out.push(`${path}.${k}: unexpected key`);
    for (const k of Object.keys(e)) if (k in a) out.push(...shapeDiff(e[k], a[k], `${path}.${k}`, mapKeys, allowExtra));
  }
  return out;
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Keep the generator producing while `fn` runs (manual mode: the test drives the market). */
export async function withMarket<T>(sim: SimHandle, fn: () => Promise<T>, perTick = 40): Promise<T> {
  const t = setInterval(() => sim.generator.produce(perTick), 5);
  try {
    return await fn();
  } finally {
    clearInterval(t);
  }
}

/** shapeDiff that tolerates extra keys on our side (REST docs examples are older than today's answers) */
export function shapeSubset(expected: unknown, actual: unknown): string[] {
  return shapeDiff(expected, actual, '$', new Set(['cumFeeDetail']), true);
}
