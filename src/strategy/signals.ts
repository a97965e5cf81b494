/**
 * Slow signals (funding rate, open interest, an external score): fetched by a background task on its own timer
 * and written into BotState (`F.fundingRate`, `F.openInterest`, `F.signal`). The hot loop only reads the field;
 * it never awaits a fetch. A failed fetch is counted and leaves the last value in place (NaN until the first).
 */
import { request } from 'undici';
import type { BotState } from '../model/botstate.js';
import { F } from '../model/botstate.js';

export interface SignalSource {
  name: string;
  slot: number;
  /** BotState field to write (F.fundingRate, F.openInterest, F.signal) */
  field: number;
  intervalMs: number;
  fetch(): Promise<number>;
}

export class SignalTask {
  ok = 0;
  failed = 0;
  lastError = '';
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    private readonly state: BotState,
    private readonly src: SignalSource,
  ) {
    state.set(src.slot, src.field, NaN);
  }

  get name(): string {
    return this.src.name;
  }

  start(): void {
    this.stopped = false;
    void this.run();
  }

  private async run(): Promise<void> {
    if (this.stopped) return;
    try {
      const v = await this.src.fetch();
      if (Number.isFinite(v)) {
        this.state.set(this.src.slot, this.src.field, v);
        this.ok++;
      } else throw new Error(`${this.src.name}: not a number`);
    } catch (e) {
      this.failed++;
      this.lastError = e instanceof Error ? e.message : String(e);
    }
    if (!this.stopped) {
      this.timer = setTimeout(() => void this.run(), this.src.intervalMs);
      this.timer.unref();
    }
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
  }
}

async function getJson(url: string): Promise<unknown> {
  const res = await request(url, { method: 'GET', headersTimeout: 5_000, bodyTimeout: 5_000 });
  if (res.statusCode !== 200) {
    await res.body.dump();
    throw new Error(`GET ${url}: HTTP ${res.statusCode}`);
  }
  return res.body.json();
}

/** Binance USD-M funding rate: GET /fapi/v1/premiumIndex?symbol= -> lastFundingRate. */
export function binanceFunding(restBase: string, symbol: string, slot: number, intervalMs = 30_000): SignalSource {
  return {
    name: `binance funding ${symbol}`,
    slot,
    field: F.fundingRate,
    intervalMs,
    fetch: async () => Number(((await getJson(`${restBase}/fapi/v1/premiumIndex?symbol=${symbol}`)) as { lastFundingRate?: string }).lastFundingRate),
  };
}

/** Bybit linear funding rate: GET /v5/market/tickers?category=linear&symbol= -> result.list[0].fundingRate. */
export function bybitFunding(restBase: string, symbol: string, slot: number, intervalMs = 30_000): SignalSource {
  return {
    name: `bybit funding ${symbol}`,
    slot,
    field: F.fundingRate,
    intervalMs,
    fetch: async () => {
      const j = (await getJson(`${restBase}/v5/market/tickers?category=linear&symbol=${symbol}`)) as { result?: { list?: Array<{ fundingRate?: string }> } };
      return Number(j.result?.list?.[0]?.fundingRate);
    },
  };
}

/** Binance USD-M open interest: GET /fapi/v1/openInterest?symbol= -> openInterest (base units). */
export function binanceOpenInterest(restBase: string, symbol: string, slot: number, intervalMs = 30_000): SignalSource {
  return {
    name: `binance open interest ${symbol}`,
    slot,
    field: F.openInterest,
    intervalMs,
    fetch: async () => Number(((await getJson(`${restBase}/fapi/v1/openInterest?symbol=${symbol}`)) as { openInterest?: string }).openInterest),
  };
}

/** Bybit linear open interest: GET /v5/market/open-interest?category=linear&symbol=&intervalTime=5min. */
export function bybitOpenInterest(restBase: string, symbol: string, slot: number, intervalMs = 30_000): SignalSource {
  return {
    name: `bybit open interest ${symbol}`,
    slot,
    field: F.openInterest,
    intervalMs,
    fetch: async () => {
      const j = (await getJson(`${restBase}/v5/market/open-interest?category=linear&symbol=${symbol}&intervalTime=5min&limit=1`)) as {
        result?: { list?: Array<{ openInterest?: string }> };
      };
      return Number(j.result?.list?.[0]?.openInterest);
    },
  };
}

/** Read a number at a dotted path (`a.b.0.c`) of a JSON value. */
export function numberAt(v: unknown, path: string): number {
  let cur: unknown = v;
  for (const k of path === '' ? [] : path.split('.')) {
    if (cur === null || typeof cur !== 'object') return NaN;
    cur = (cur as Record<string, unknown>)[k];
  }
  return typeof cur === 'number' ? cur : typeof cur === 'string' ? Number(cur) : NaN;
}

/** An external score: GET `url`, the number at `path` of its JSON body, into `field` (default F.signal). */
export function externalScore(name: string, url: string, path: string, slot: number, field: number = F.signal, intervalMs = 5_000): SignalSource {
  return { name, slot, field, intervalMs, fetch: async () => numberAt(await getJson(url), path) };
}
