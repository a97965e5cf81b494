/**
 * `tickwire doctor [--preset testnet|demo|mainnet|sim] [--config FILE] [--json FILE] [--test-order]`: the go/no-go
 * gate before real money. Read-only checks per venue of the config (and, with --test-order, one order that cannot
 * fill, cancelled and verified gone); a table on stdout, the same as JSON with --json (mode 0600).
 *
 * Checks, per venue (binanceSpot, binanceUsdm, bybitSpot, bybitLinear as the config's instruments use them):
 *   clock        server time vs this host (best of 3 by round trip): no-go at >= 1000 ms (the venues refuse
 *                timestamps 1 s ahead), warn at >= 250 ms
 *   rest, market ws, private ws, ws api
 *                reachability and round trip (REST: the time request; WebSockets: the handshake); a WS API the
 *                config does not use for orders only warns; a preset without one (Bybit demo) says order entry is REST
 *   api key      trading on for the venue, withdrawals off, an IP allowlist on (Binance
 *                GET /sapi/v1/account/apiRestrictions on the Spot host, Bybit GET /v5/user/query-api); Binance
 *                testnets do not serve /sapi: warn there, no-go elsewhere
 *   account mode one-way (hedge is no-go), Bybit unified (src/exchange/account.ts: the engine's own start check)
 *   fee tier     maker/taker rates (Binance GET /api/v3/account commissionRates, GET /fapi/v1/commissionRate; Bybit
 *                GET /v5/account/fee-rate): informational, warn when unreadable
 *   symbol       each instrument listed and TRADING, its filters read (tick, step, min qty, min notional, price band)
 *   rate limit   headroom from the venues' headers: Binance X-MBX-USED-WEIGHT-1M against exchangeInfo's
 *                REQUEST_WEIGHT per minute (no-go above 80 % used, warn above 50 %); Bybit X-Bapi-Limit-Status of
 *                X-Bapi-Limit (no-go at 0 left)
 *   test order   (--test-order) a post-only BUY of the minimum size at the far edge of the price band (below the
 *                bid), then cancel, then query: go when the venue says it is cancelled and no open order remains
 * Exit code: 0 go, 1 no-go, 2 bad usage or config.
 *
 * Preset `sim` without endpoints starts the embedded simulator in this process (a default account: go).
 */
import { chmodSync, writeFileSync } from 'node:fs';
import WebSocket from 'ws';
import { loadConfig, ConfigError } from '../config/load.js';
import type { Config } from '../config/schema.js';
import { loadSecrets, requireCredentials } from '../config/secrets.js';
import type { VenueId } from '../model/types.js';
import { accessFromConfig, accessFromSim, type VenueEndpoints, type VenueEndpointsMap } from '../exchange/endpoints.js';
import { readAccountMode, signedRequest, type SignedAnswer } from '../exchange/account.js';
import { startSim, type SimHandle, type SimVenueName } from '../sim/index.js';
import { createLogger } from '../util/log.js';

export type CheckStatus = 'go' | 'no-go' | 'warn' | 'skip';

export interface DoctorCheck {
  venue: VenueId;
  check: string;
  status: CheckStatus;
  detail: string;
  /** numbers behind the detail (ms, rates, counts), when there are any */
  value?: Record<string, unknown>;
}

export interface DoctorReport {
  go: boolean;
  verdict: 'GO' | 'NO-GO';
  presets: Record<'binance' | 'bybit', string>;
  generatedAt: string;
  checks: DoctorCheck[];
}

export interface DoctorOptions {
  preset?: 'sim' | 'testnet' | 'demo' | 'mainnet';
  config?: string;
  json?: string;
  testOrder?: boolean;
  env?: NodeJS.ProcessEnv;
}

const HELP = `usage: tickwire doctor [--preset testnet|demo|mainnet|sim] [--config FILE] [--json FILE] [--test-order]

The go/no-go gate before real money: read-only checks of every venue the config trades, one table on stdout.

  --preset P     every exchange's preset (overrides exchanges.*.preset of the config): sim (default: the embedded
                 simulator), testnet, demo (demo trading), mainnet
  --config FILE  the engine's JSON config (instruments, endpoints, secretsFile); credentials as for \`tickwire run\`
                 (TICKWIRE_BINANCE_API_KEY/_SECRET, TICKWIRE_BYBIT_API_KEY/_SECRET, or the secrets file)
  --json FILE    also write the results as JSON (mode 0600)
  --test-order   place one minimum-size post-only order far from the market (inside the venue's price band), cancel
                 it and check it is gone, per venue
  --help         this text

Checks per venue: clock offset; reachability and round trip of REST, market WS, private WS, WS API; API key
(trading on, withdrawals off, IP allowlist on); account mode (one-way, Bybit unified); fee tier; symbols TRADING
and their filters; rate-limit headroom; with --test-order the order round trip.
Each row is go, no-go, warn (works, but look at it) or skip (does not apply). The verdict is GO when no row is no-go.
Exit codes: 0 GO, 1 NO-GO, 2 bad usage or config (the message names the field).
`;

const WS_TIMEOUT_MS = 10_000;

function usageError(msg: string): never {
  throw new ConfigError([{ path: '(command line)', message: msg }]);
}

export function parseArgs(argv: string[]): DoctorOptions | 'help' {
  const o: DoctorOptions = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    const [k, inline] = a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined];
    const val = (): string => {
      const v = inline ?? argv[++i];
      if (v === undefined || v === '') usageError(`${k} needs a value`);
      return v;
    };
    switch (k) {
      case '--preset': {
        const v = val();
        if (v !== 'sim' && v !== 'testnet' && v !== 'demo' && v !== 'mainnet') usageError(`--preset must be testnet, demo, mainnet or sim, not '${v}'`);
        o.preset = v;
        break;
      }
      case '--config':
        o.config = val();
        break;
      case '--json':
        o.json = val();
        break;
      case '--test-order':
        o.testOrder = true;
        break;
      case '--help':
      case '-h':
        return 'help';
      default:
        usageError(`unknown option ${a}`);
    }
  }
  return o;
}

// ------------------------------------------------------------------------------------------------ plumbing

const exchangeOf = (v: VenueId): 'binance' | 'bybit' => (v.startsWith('binance') ? 'binance' : 'bybit');
const ms = (x: number): string => `${x.toFixed(1)} ms`;

interface PublicAnswer {
  status: number;
  headers: Headers;
  json: unknown;
  ms: number;
}

async function publicGet(url: string): Promise<PublicAnswer> {
  const t0 = performance.now();
  const res = await fetch(url, { signal: AbortSignal.timeout(10_000) });
  const text = await res.text();
  const t = performance.now() - t0;
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, json, ms: t };
}

/** Open a WebSocket and close it: the handshake's round trip, or why it failed. */
function wsHandshake(url: string): Promise<{ ok: true; ms: number } | { ok: false; why: string }> {
  return new Promise((resolve) => {
    const t0 = performance.now();
    let done = false;
    const ws = new WebSocket(url, { handshakeTimeout: WS_TIMEOUT_MS });
    const finish = (r: { ok: true; ms: number } | { ok: false; why: string }): void => {
      if (done) return;
      done = true;
      try {
        ws.terminate();
      } catch {
        /* already gone */
      }
      resolve(r);
    };
    ws.on('open', () => finish({ ok: true, ms: performance.now() - t0 }));
    ws.on('unexpected-response', (_req, res) => finish({ ok: false, why: `HTTP ${res.statusCode ?? '?'}` }));
    ws.on('error', (e) => finish({ ok: false, why: e.message }));
  });
}

const num = (v: unknown): number => (typeof v === 'string' || typeof v === 'number' ? Number(v) : Number.NaN);

/** the decimals of a step like "0.010" -> 2 (trailing zeros do not count) */
function decimalsOf(step: string): number {
  const t = step.includes('.') ? step.replace(/0+$/, '') : step;
  const d = t.indexOf('.');
  return d < 0 ? 0 : t.length - d - 1;
}

/** round a positive value to a multiple of step, up or down, as a decimal string of the step's decimals */
function toStep(v: number, step: string, up: boolean): string {
  const s = Number(step);
  const n = up ? Math.ceil(v / s - 1e-9) : Math.floor(v / s + 1e-9);
  return (n * s).toFixed(decimalsOf(step));
}

/** What the symbol check learned, for the test order. */
interface SymbolInfo {
  symbol: string;
  tickSize: string;
  stepSize: string;
  minQty: number;
  minNotional: number;
  /** the lowest buy price the venue accepts, as a fraction of the reference price (PERCENT_PRICE down multiplier) */
  bandDown: number;
}

interface VenueCtx {
  venue: VenueId;
  ep: VenueEndpoints;
  /** the Spot REST of the same exchange (Binance /sapi lives there) */
  spotRest: string | undefined;
  preset: string;
  transport: 'rest' | 'wsapi';
  symbols: string[];
  offsetMs: number;
  /** response headers seen, newest last (rate-limit headroom) */
  seen: Headers[];
  info: SymbolInfo[];
  tradable: boolean;
  add(check: string, status: CheckStatus, detail: string, value?: Record<string, unknown>): void;
}

async function signed(
  c: VenueCtx,
  method: 'GET' | 'POST' | 'DELETE',
  path: string,
  params: Record<string, string | number | boolean>,
  base?: string,
): Promise<SignedAnswer> {
  const a = await signedRequest(exchangeOf(c.venue), c.ep, method, path, params, { offsetMs: c.offsetMs, ...(base !== undefined ? { base } : {}) });
  c.seen.push(a.headers);
  return a;
}

/** Bybit `result` or an Error naming retCode/retMsg */
function bybitOk(a: SignedAnswer | PublicAnswer, what: string): Record<string, unknown> {
  const j = a.json as { retCode?: unknown; retMsg?: unknown; result?: unknown } | undefined;
  if (a.status !== 200 || !j || j.retCode !== 0 || typeof j.result !== 'object' || j.result === null)
    throw new Error(`${what}: HTTP ${a.status}${j ? ` retCode ${String(j.retCode)} ${String(j.retMsg)}` : ''}`);
  return j.result as Record<string, unknown>;
}

function binanceOk(a: SignedAnswer | PublicAnswer, what: string): Record<string, unknown> {
  const j = a.json as Record<string, unknown> | undefined;
  if (a.status !== 200 || typeof j !== 'object' || j === null || Array.isArray(j))
    throw new Error(`${what}: HTTP ${a.status}${j && 'code' in j ? ` ${String(j['code'])} ${String(j['msg'])}` : ''}`);
  return j;
}

const errMsg = (e: unknown): string => (e instanceof Error ? e.message : String(e));

// ------------------------------------------------------------------------------------------------ checks

async function checkClock(c: VenueCtx): Promise<void> {
  const bn = exchangeOf(c.venue) === 'binance';
  const url = bn ? `${c.ep.restBaseUrl}${c.venue === 'binanceSpot' ? '/api/v3/time' : '/fapi/v1/time'}` : `${c.ep.restBaseUrl}/v5/market/time`;
  let best: { rtt: number; offset: number } | undefined;
  let lastErr = '';
  for (let i = 0; i < 3; i++) {
    try {
      const t0 = Date.now();
      const a = await publicGet(url);
      const t1 = Date.now();
      c.seen.push(a.headers);
      const server = bn ? num(binanceOk(a, `GET ${url}`)['serverTime']) : num((a.json as { time?: unknown } | undefined)?.time);
      if (!Number.isFinite(server)) throw new Error(`GET ${url}: no server time in the answer`);
      if (!best || a.ms < best.rtt) best = { rtt: a.ms, offset: server - (t0 + t1) / 2 };
    } catch (e) {
      lastErr = errMsg(e);
    }
  }
  if (!best) {
    c.add('rest', 'no-go', `${c.ep.restBaseUrl} unreachable: ${lastErr}`);
    c.add('clock', 'no-go', 'no server time (REST unreachable)');
    return;
  }
  c.offsetMs = best.offset;
  c.add('rest', 'go', `${c.ep.restBaseUrl} reachable, round trip ${ms(best.rtt)}`, { url: c.ep.restBaseUrl, rttMs: best.rtt });
  const off = Math.abs(best.offset);
  const status: CheckStatus = off >= 1000 ? 'no-go' : off >= 250 ? 'warn' : 'go';
  c.add(
    'clock',
    status,
    `server - local ${best.offset >= 0 ? '+' : ''}${best.offset.toFixed(1)} ms (±${(best.rtt / 2).toFixed(1)} ms)` +
      (status === 'go' ? '' : ': sync this host with NTP (the venues refuse timestamps 1000 ms ahead)'),
    { offsetMs: best.offset, rttMs: best.rtt },
  );
}

async function checkSockets(c: VenueCtx): Promise<void> {
  const base = c.ep.wsStreamBaseUrl.replace(/\/+$/, '');
  const market =
    c.venue === 'binanceSpot'
      ? `${base}/ws`
      : c.venue === 'binanceUsdm'
        ? `${base}/public/ws`
        : `${base}/v5/public/${c.venue === 'bybitSpot' ? 'spot' : 'linear'}`;
  const priv = c.venue === 'binanceSpot' ? undefined : c.venue === 'binanceUsdm' ? `${base}/private/ws` : c.ep.wsPrivateUrl;
  const row = async (name: string, url: string | undefined, required: boolean, none: string): Promise<void> => {
    if (url === undefined) {
      c.add(name, 'skip', none);
      return;
    }
    const r = await wsHandshake(url);
    if (r.ok) c.add(name, 'go', `${url} handshake ${ms(r.ms)}`, { url, rttMs: r.ms });
    else c.add(name, required ? 'no-go' : 'warn', `${url}: ${r.why}${required ? '' : ' (not used for orders by this config)'}`, { url });
  };
  await row('market ws', market, true, '');
  await row('private ws', priv, true, 'Binance Spot user data comes over the WS API');
  await row('ws api', c.ep.wsApiUrl, c.transport === 'wsapi' || c.venue === 'binanceSpot', 'this preset has no WebSocket order entry: orders go over REST');
}

async function checkApiKey(c: VenueCtx): Promise<void> {
  try {
    if (exchangeOf(c.venue) === 'binance') {
      const path = '/sapi/v1/account/apiRestrictions';
      const base = c.spotRest ?? c.ep.restBaseUrl;
      const a = await signed(c, 'GET', path, {}, base);
      if (a.status === 404 && c.preset !== 'mainnet' && c.preset !== 'sim') {
        c.add('api key', 'warn', `${path} is not served on preset ${c.preset}: check the key's permissions in the venue's UI`);
        return;
      }
      const j = binanceOk(a, `GET ${path}`);
      const trading = c.venue === 'binanceSpot' ? j['enableSpotAndMarginTrading'] : j['enableFutures'];
      const tradingName = c.venue === 'binanceSpot' ? 'enableSpotAndMarginTrading' : 'enableFutures';
      const bad: string[] = [];
      if (trading !== true) bad.push(`trading off (${tradingName}=${String(trading)})`);
      if (j['enableWithdrawals'] !== false) bad.push(`withdrawals on (enableWithdrawals=${String(j['enableWithdrawals'])})`);
      if (j['ipRestrict'] !== true) bad.push(`no IP allowlist (ipRestrict=${String(j['ipRestrict'])})`);
      const value = { [tradingName]: trading, enableWithdrawals: j['enableWithdrawals'], ipRestrict: j['ipRestrict'] };
      if (bad.length > 0) c.add('api key', 'no-go', `${bad.join(', ')}: fix the key's permissions (API Management)`, value);
      else c.add('api key', 'go', `trading on (${tradingName}), withdrawals off, IP allowlist on`, value);
      return;
    }
    const path = '/v5/user/query-api';
    const r = bybitOk(await signed(c, 'GET', path, {}), `GET ${path}`);
    const perms = (r['permissions'] ?? {}) as Record<string, unknown>;
    const list = (k: string): string[] => (Array.isArray(perms[k]) ? (perms[k] as unknown[]).map(String) : []);
    const ips = Array.isArray(r['ips']) ? (r['ips'] as unknown[]).map(String) : [];
    const trading = c.venue === 'bybitSpot' ? list('Spot').includes('SpotTrade') : list('ContractTrade').includes('Order');
    const tradingName = c.venue === 'bybitSpot' ? 'Spot: SpotTrade' : 'ContractTrade: Order';
    const bad: string[] = [];
    if (r['readOnly'] !== 0) bad.push(`read-only key (readOnly=${String(r['readOnly'])})`);
    if (!trading) bad.push(`trading off (no ${tradingName})`);
    if (list('Wallet').includes('Withdraw')) bad.push('withdrawals on (Wallet: Withdraw)');
    if (ips.length === 0 || ips.includes('*')) bad.push(`no IP allowlist (ips=${JSON.stringify(ips)})`);
    const value = { readOnly: r['readOnly'], trading, wallet: list('Wallet'), ips };
    if (bad.length > 0) c.add('api key', 'no-go', `${bad.join(', ')}: fix the key's permissions (API Management)`, value);
    else c.add('api key', 'go', `trading on (${tradingName}), withdrawals off, IP allowlist ${JSON.stringify(ips)}`, value);
  } catch (e) {
    c.add('api key', 'no-go', `cannot read the key's permissions: ${errMsg(e)}`);
  }
}

async function checkAccountMode(c: VenueCtx): Promise<void> {
  try {
    const m = await readAccountMode(c.venue, c.ep, c.symbols, { offsetMs: c.offsetMs });
    const value = { positionMode: m.positionMode, ...(m.unified !== undefined ? { unified: m.unified } : {}) };
    if (m.refuse !== undefined) {
      c.tradable = false;
      c.add('account mode', 'no-go', m.refuse, value);
    } else
      c.add('account mode', 'go', `${m.positionMode === 'oneWay' ? 'one-way' : m.positionMode}${m.unified === true ? ', unified' : ''} (${m.detail})`, value);
  } catch (e) {
    c.tradable = false;
    c.add('account mode', 'no-go', `cannot read the account's mode: ${errMsg(e)}`);
  }
}

async function checkFees(c: VenueCtx): Promise<void> {
  try {
    const rows: string[] = [];
    const value: Record<string, unknown> = {};
    if (c.venue === 'binanceSpot') {
      const j = binanceOk(await signed(c, 'GET', '/api/v3/account', {}), 'GET /api/v3/account');
      const r = (j['commissionRates'] ?? {}) as Record<string, unknown>;
      if (r['maker'] === undefined || r['taker'] === undefined) throw new Error('GET /api/v3/account: no commissionRates');
      rows.push(`maker ${String(r['maker'])} taker ${String(r['taker'])}`);
      Object.assign(value, { maker: num(r['maker']), taker: num(r['taker']) });
    } else {
      for (const s of c.symbols) {
        if (c.venue === 'binanceUsdm') {
          const j = binanceOk(await signed(c, 'GET', '/fapi/v1/commissionRate', { symbol: s }), 'GET /fapi/v1/commissionRate');
          rows.push(`${s} maker ${String(j['makerCommissionRate'])} taker ${String(j['takerCommissionRate'])}`);
          value[s] = { maker: num(j['makerCommissionRate']), taker: num(j['takerCommissionRate']) };
        } else {
          const cat = c.venue === 'bybitSpot' ? 'spot' : 'linear';
          const r = bybitOk(await signed(c, 'GET', '/v5/account/fee-rate', { category: cat, symbol: s }), 'GET /v5/account/fee-rate');
          const it = (Array.isArray(r['list']) ? r['list'][0] : undefined) as Record<string, unknown> | undefined;
          if (!it) throw new Error(`GET /v5/account/fee-rate: ${s} not listed`);
          rows.push(`${s} maker ${String(it['makerFeeRate'])} taker ${String(it['takerFeeRate'])}`);
          value[s] = { maker: num(it['makerFeeRate']), taker: num(it['takerFeeRate']) };
        }
      }
    }
    c.add('fee tier', 'go', rows.join('; '), value);
  } catch (e) {
    c.add('fee tier', 'warn', `cannot read the fee rates: ${errMsg(e)}`);
  }
}

/** symbols + filters (and Binance's weight limit for the headroom row) */
async function checkSymbols(c: VenueCtx): Promise<number | undefined> {
  let weightLimit: number | undefined;
  for (const s of c.symbols) {
    try {
      if (exchangeOf(c.venue) === 'binance') {
        const url = `${c.ep.restBaseUrl}${c.venue === 'binanceSpot' ? '/api/v3/exchangeInfo' : '/fapi/v1/exchangeInfo'}?symbol=${s}`;
        const a = await publicGet(url);
        c.seen.push(a.headers);
        const j = binanceOk(a, `GET ${url}`);
        for (const l of (j['rateLimits'] ?? []) as Array<Record<string, unknown>>)
          if (l['rateLimitType'] === 'REQUEST_WEIGHT' && l['interval'] === 'MINUTE' && l['intervalNum'] === 1) weightLimit = num(l['limit']);
        const sym = ((j['symbols'] ?? []) as Array<Record<string, unknown>>).find((x) => x['symbol'] === s);
        if (!sym) throw new Error(`${s} is not listed`);
        const f = new Map(((sym['filters'] ?? []) as Array<Record<string, unknown>>).map((x) => [String(x['filterType']), x]));
        const price = f.get('PRICE_FILTER');
        const lot = f.get('LOT_SIZE');
        const notional = f.get('NOTIONAL') ?? f.get('MIN_NOTIONAL');
        const band = f.get('PERCENT_PRICE_BY_SIDE') ?? f.get('PERCENT_PRICE');
        if (!price || !lot || !notional) throw new Error(`${s}: PRICE_FILTER, LOT_SIZE or (MIN_)NOTIONAL missing`);
        const info: SymbolInfo = {
          symbol: s,
          tickSize: String(price['tickSize']),
          stepSize: String(lot['stepSize']),
          minQty: num(lot['minQty']),
          minNotional: num(notional['minNotional'] ?? notional['notional']),
          bandDown: band ? num(band['bidMultiplierDown'] ?? band['multiplierDown']) : 0.5,
        };
        if (![info.minQty, info.minNotional, info.bandDown, Number(info.tickSize), Number(info.stepSize)].every(Number.isFinite))
          throw new Error(`${s}: a filter value is not a number`);
        c.info.push(info);
        const status = String(sym['status']);
        c.add(
          `symbol ${s}`,
          status === 'TRADING' ? 'go' : 'no-go',
          `${status}; tick ${info.tickSize}, step ${info.stepSize}, min qty ${info.minQty}, min notional ${info.minNotional}, ` +
            `price band down x${info.bandDown}`,
          { status, ...info },
        );
      } else {
        const cat = c.venue === 'bybitSpot' ? 'spot' : 'linear';
        const url = `${c.ep.restBaseUrl}/v5/market/instruments-info?category=${cat}&symbol=${s}`;
        const a = await publicGet(url);
        const r = bybitOk(a, `GET ${url}`);
        const it = ((r['list'] ?? []) as Array<Record<string, unknown>>).find((x) => x['symbol'] === s);
        if (!it) throw new Error(`${s} is not listed`);
        const pf = (it['priceFilter'] ?? {}) as Record<string, unknown>;
        const lf = (it['lotSizeFilter'] ?? {}) as Record<string, unknown>;
        const info: SymbolInfo = {
          symbol: s,
          tickSize: String(pf['tickSize']),
          stepSize: String(lf['qtyStep'] ?? lf['basePrecision']),
          minQty: num(lf['minOrderQty']),
          minNotional: num(lf['minNotionalValue'] ?? lf['minOrderAmt']),
          // Bybit's price limit: a buy may go down to (1 - priceLimitRatioY) of the reference; 5 % when unpublished
          bandDown: 1 - (num((it['riskParameters'] as Record<string, unknown> | undefined)?.['priceLimitRatioY']) || 0.05),
        };
        if (![info.minQty, info.minNotional, Number(info.tickSize), Number(info.stepSize)].every(Number.isFinite))
          throw new Error(`${s}: a filter value is not a number`);
        c.info.push(info);
        const status = String(it['status']);
        c.add(
          `symbol ${s}`,
          status === 'Trading' ? 'go' : 'no-go',
          `${status}; tick ${info.tickSize}, step ${info.stepSize}, min qty ${info.minQty}, min notional ${info.minNotional}`,
          { status, ...info },
        );
      }
    } catch (e) {
      c.add(`symbol ${s}`, 'no-go', errMsg(e));
    }
  }
  return weightLimit;
}

function checkHeadroom(c: VenueCtx, weightLimit: number | undefined): void {
  if (exchangeOf(c.venue) === 'binance') {
    let used: number | undefined;
    for (const h of c.seen) {
      const v = h.get('x-mbx-used-weight-1m');
      if (v !== null) used = Number(v);
    }
    if (used === undefined || !Number.isFinite(used) || weightLimit === undefined || !(weightLimit > 0)) {
      c.add('rate limit', 'warn', 'no X-MBX-USED-WEIGHT-1M header or no REQUEST_WEIGHT limit in exchangeInfo to compare');
      return;
    }
    const f = used / weightLimit;
    const status: CheckStatus = f > 0.8 ? 'no-go' : f > 0.5 ? 'warn' : 'go';
    c.add('rate limit', status, `weight ${used} of ${weightLimit} per minute used (${(100 - f * 100).toFixed(0)} % headroom; this IP)`, {
      usedWeight: used,
      limit: weightLimit,
    });
    return;
  }
  let limit: number | undefined;
  let left: number | undefined;
  for (const h of c.seen) {
    const l = h.get('x-bapi-limit');
    const s = h.get('x-bapi-limit-status');
    if (l !== null && s !== null) {
      limit = Number(l);
      left = Number(s);
    }
  }
  if (limit === undefined || left === undefined || !Number.isFinite(limit) || !Number.isFinite(left)) {
    c.add('rate limit', 'warn', 'no X-Bapi-Limit / X-Bapi-Limit-Status header seen');
    return;
  }
  c.add('rate limit', left <= 0 ? 'no-go' : 'go', `${left} of ${limit} requests left in the endpoint's window (X-Bapi-Limit-Status)`, { left, limit });
}

/** one post-only BUY of the minimum size at the far edge of the price band, cancelled, verified gone */
async function testOrder(c: VenueCtx): Promise<void> {
  for (const info of c.info) {
    const name = `test order ${info.symbol}`;
    if (!c.tradable) {
      c.add(name, 'skip', 'the account cannot be traded (see account mode)');
      continue;
    }
    const id = `twdoctor${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`;
    try {
      const bn = exchangeOf(c.venue) === 'binance';
      // the touch
      let bid: number;
      let ask: number;
      if (bn) {
        const url = `${c.ep.restBaseUrl}${c.venue === 'binanceSpot' ? '/api/v3' : '/fapi/v1'}/ticker/bookTicker?symbol=${info.symbol}`;
        const j = binanceOk(await publicGet(url), `GET ${url}`);
        bid = num(j['bidPrice']);
        ask = num(j['askPrice']);
      } else {
        const url = `${c.ep.restBaseUrl}/v5/market/orderbook?category=${c.venue === 'bybitSpot' ? 'spot' : 'linear'}&symbol=${info.symbol}&limit=1`;
        const r = bybitOk(await publicGet(url), `GET ${url}`);
        bid = num((r['b'] as string[][] | undefined)?.[0]?.[0]);
        ask = num((r['a'] as string[][] | undefined)?.[0]?.[0]);
      }
      if (!(bid > 0) || !(ask > bid)) throw new Error(`no two-sided book (bid ${bid}, ask ${ask})`);
      const mid = (bid + ask) / 2;
      // far from the market but inside the band: 2 % above the band's floor, and never above 98 % of the bid
      const price = toStep(Math.min(bid * 0.98, Math.max(mid * info.bandDown * 1.02, bid * 0.5)), info.tickSize, true);
      if (!(Number(price) < bid)) throw new Error(`the price band leaves no room below the bid (${price} vs ${bid})`);
      const qty = toStep(Math.max(info.minQty, (info.minNotional * 1.05) / Number(price)), info.stepSize, true);
      const t0 = performance.now();
      let placeMs: number;
      let cancelMs: number;
      let gone: boolean;
      if (bn) {
        const pre = c.venue === 'binanceSpot' ? '/api/v3' : '/fapi/v1';
        const params: Record<string, string> =
          c.venue === 'binanceSpot'
            ? { symbol: info.symbol, side: 'BUY', type: 'LIMIT_MAKER', quantity: qty, price, newClientOrderId: id }
            : { symbol: info.symbol, side: 'BUY', type: 'LIMIT', timeInForce: 'GTX', quantity: qty, price, newClientOrderId: id };
        binanceOk(await signed(c, 'POST', `${pre}/order`, params), `POST ${pre}/order`);
        placeMs = performance.now() - t0;
        const t1 = performance.now();
        binanceOk(await signed(c, 'DELETE', `${pre}/order`, { symbol: info.symbol, origClientOrderId: id }), `DELETE ${pre}/order`);
        cancelMs = performance.now() - t1;
        const q = binanceOk(await signed(c, 'GET', `${pre}/order`, { symbol: info.symbol, origClientOrderId: id }), `GET ${pre}/order`);
        const open = await signed(c, 'GET', `${pre}/openOrders`, { symbol: info.symbol });
        const list = Array.isArray(open.json) ? (open.json as Array<Record<string, unknown>>) : undefined;
        if (!list) throw new Error(`GET ${pre}/openOrders: HTTP ${open.status}`);
        gone = q['status'] === 'CANCELED' && !list.some((o) => o['clientOrderId'] === id);
        if (!gone)
          throw new Error(`after the cancel the venue says ${String(q['status'])}${list.some((o) => o['clientOrderId'] === id) ? ' and lists it open' : ''}`);
      } else {
        const category = c.venue === 'bybitSpot' ? 'spot' : 'linear';
        bybitOk(
          await signed(c, 'POST', '/v5/order/create', {
            category,
            symbol: info.symbol,
            side: 'Buy',
            orderType: 'Limit',
            timeInForce: 'PostOnly',
            qty,
            price,
            orderLinkId: id,
          }),
          'POST /v5/order/create',
        );
        placeMs = performance.now() - t0;
        const t1 = performance.now();
        bybitOk(await signed(c, 'POST', '/v5/order/cancel', { category, symbol: info.symbol, orderLinkId: id }), 'POST /v5/order/cancel');
        cancelMs = performance.now() - t1;
        // the cancel is asynchronous on Bybit: ask until the order is no longer open (a few tries)
        gone = false;
        let status = '';
        for (let i = 0; i < 10 && !gone; i++) {
          const r = bybitOk(await signed(c, 'GET', '/v5/order/realtime', { category, symbol: info.symbol, orderLinkId: id }), 'GET /v5/order/realtime');
          const it = ((r['list'] ?? []) as Array<Record<string, unknown>>)[0];
          status = it ? String(it['orderStatus']) : 'not found';
          gone = !it || status === 'Cancelled' || status === 'Deactivated';
          if (!gone) await new Promise((res) => setTimeout(res, 200));
        }
        if (!gone) throw new Error(`after the cancel the venue still says ${status}`);
      }
      c.add(name, 'go', `BUY ${qty} @ ${price} (bid ${bid}) post-only: placed in ${ms(placeMs)}, cancelled in ${ms(cancelMs)}, gone`, {
        clientOrderId: id,
        qty,
        price,
        placeMs,
        cancelMs,
      });
    } catch (e) {
      c.add(name, 'no-go', `${errMsg(e)} (client order id ${id}: check that nothing is left open)`, { clientOrderId: id });
    }
  }
}

// ------------------------------------------------------------------------------------------------ the run

/** Run every check; never throws for a venue's failure (that is a no-go row), only for bad usage/config. */
export async function runDoctor(o: DoctorOptions): Promise<DoctorReport> {
  const env = o.env ?? process.env;
  const overrides = o.preset !== undefined ? { exchanges: { binance: { preset: o.preset }, bybit: { preset: o.preset } } } : {};
  const cfg: Config = loadConfig({ file: o.config, env, overrides });
  const secrets = loadSecrets(cfg.secretsFile, env);
  requireCredentials(cfg, secrets);
  const access: VenueEndpointsMap = accessFromConfig(cfg, secrets);
  const embedded = (['binance', 'bybit'] as const).filter(
    (ex) =>
      cfg.exchanges[ex].enabled &&
      cfg.exchanges[ex].preset === 'sim' &&
      Object.keys(cfg.exchanges[ex].endpoints).length === 0 &&
      cfg.instruments.some((i) => i.venue.startsWith(ex)),
  );
  let sim: SimHandle | undefined;
  const checks: DoctorCheck[] = [];
  try {
    if (embedded.length > 0) {
      const venues: SimVenueName[] = [];
      if (embedded.includes('binance')) venues.push('binanceSpot', 'binanceUsdm');
      if (embedded.includes('bybit')) venues.push('bybit');
      sim = await startSim({
        venues,
        symbols: [...new Set(cfg.instruments.map((i) => i.symbol))],
        rate: 200,
        log: createLogger({ level: 'warn', name: 'sim' }),
      });
      const simAccess = accessFromSim(sim);
      for (const v of ['binanceSpot', 'binanceUsdm', 'bybitSpot', 'bybitLinear'] as const)
        if (embedded.includes(exchangeOf(v)) && simAccess[v]) access[v] = simAccess[v];
    }
    const venues = [...new Set(cfg.instruments.map((i) => i.venue))];
    for (const venue of venues) {
      const ex = exchangeOf(venue);
      const ep = access[venue];
      const add = (check: string, status: CheckStatus, detail: string, value?: Record<string, unknown>): void => {
        checks.push({ venue, check, status, detail, ...(value !== undefined ? { value } : {}) });
      };
      if (!ep) {
        add('endpoints', 'no-go', `no endpoints for ${venue} (exchanges.${ex} disabled or not served)`);
        continue;
      }
      const c: VenueCtx = {
        venue,
        ep,
        spotRest: access[ex === 'binance' ? 'binanceSpot' : 'bybitSpot']?.restBaseUrl,
        preset: cfg.exchanges[ex].preset,
        transport: cfg.exchanges[ex].transport,
        symbols: cfg.instruments.filter((i) => i.venue === venue).map((i) => i.symbol),
        offsetMs: 0,
        seen: [],
        info: [],
        tradable: true,
        add,
      };
      await checkClock(c);
      await checkSockets(c);
      await checkApiKey(c);
      await checkAccountMode(c);
      await checkFees(c);
      const weightLimit = await checkSymbols(c);
      if (o.testOrder === true) await testOrder(c);
      checkHeadroom(c, weightLimit);
    }
  } finally {
    await sim?.close().catch(() => undefined);
  }
  const go = checks.length > 0 && !checks.some((x) => x.status === 'no-go');
  return {
    go,
    verdict: go ? 'GO' : 'NO-GO',
    presets: { binance: cfg.exchanges.binance.preset, bybit: cfg.exchanges.bybit.preset },
    generatedAt: new Date().toISOString(),
    checks,
  };
}

/** The table: one row per check, then the verdict. */
export function formatReport(r: DoctorReport): string {
  const rows = r.checks.map((c) => [c.venue, c.check, c.status.toUpperCase(), c.detail]);
  const head = ['VENUE', 'CHECK', 'RESULT', 'DETAIL'];
  const w = [0, 1, 2].map((i) => Math.max(head[i]!.length, ...rows.map((x) => x[i]!.length)));
  const line = (x: string[]): string => `${x[0]!.padEnd(w[0]!)}  ${x[1]!.padEnd(w[1]!)}  ${x[2]!.padEnd(w[2]!)}  ${x[3]}`;
  const nogo = r.checks.filter((c) => c.status === 'no-go');
  const warn = r.checks.filter((c) => c.status === 'warn').length;
  return (
    `tickwire doctor: presets binance=${r.presets.binance} bybit=${r.presets.bybit}\n\n` +
    [line(head), ...rows.map(line)].join('\n') +
    `\n\nverdict: ${r.verdict} (${nogo.length} no-go, ${warn} warn, ${r.checks.length} checks)` +
    (nogo.length > 0 ? `\nno-go: ${nogo.map((c) => `${c.venue} ${c.check}`).join(', ')}` : '') +
    '\n'
  );
}

export async function main(argv: string[]): Promise<number> {
  let o: DoctorOptions | 'help';
  try {
    o = parseArgs(argv);
  } catch (e) {
    process.stderr.write(`tickwire doctor: ${errMsg(e)}\n\n${HELP}`);
    return 2;
  }
  if (o === 'help') {
    process.stdout.write(HELP);
    return 0;
  }
  let report: DoctorReport;
  try {
    report = await runDoctor(o);
  } catch (e) {
    process.stderr.write(`tickwire doctor: ${errMsg(e)}\n`);
    return e instanceof ConfigError ? 2 : 1;
  }
  process.stdout.write(formatReport(report));
  if (o.json !== undefined) {
    try {
      writeFileSync(o.json, JSON.stringify(report, null, 2) + '\n', { mode: 0o600 });
      chmodSync(o.json, 0o600);
    } catch (e) {
      process.stderr.write(`tickwire doctor: cannot write ${o.json}: ${errMsg(e)}\n`);
      return 2;
    }
  }
  // the embedded simulator and the pools are closed; nothing else should hold the process
  setTimeout(() => process.exit(report.go ? 0 : 1), 500).unref();
  return report.go ? 0 : 1;
}
