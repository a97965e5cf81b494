/**
 * The embedded exchange simulator: wires the shared core (books, accounts, clock, faults, generator, replay, control
 * endpoint) to the venue layers (Binance Spot, Binance USD-M, Bybit v5) and returns their endpoints.
 *
 *   const sim = await startSim({ seed: 1 });
 *   sim.endpoints.binanceSpot?.restBaseUrl   // http://127.0.0.1:PORT, replaces https://api.binance.com
 *   sim.inject({ kind: 'dropDiff', market: 'binanceUsdm', symbol: 'BTCUSDT' });
 *   await sim.close();
 *
 * A venue that fails to start (e.g. still a placeholder) is reported in `venueErrors` and left out of `endpoints`,
 * so the core can run and be tested alone; `venues` chooses which venues to start.
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { log as rootLog, type Logger } from '../util/log.js';
import { loadUws } from '../util/uws.js';
import { Accounts } from './core/accounts.js';
import { FeeSchedule, type SimFeeOptions } from './core/fees.js';
import { DEFAULT_FIRST_ORDER_ID, MatchingBook, OrderIdAllocator } from './core/book.js';
import { startControl, type ControlHandle } from './core/control.js';
import { FaultRegistry, SimClock } from './core/faults.js';
import { Generator } from './core/generator.js';
import { ALL_MARKETS, makeInstrument } from './core/instruments.js';
import { loadCapture, Replayer, type ReplaySource } from './core/replay.js';
import { DEFAULT_ACCOUNT_PROFILE } from './core/types.js';
import type {
  SimAccount,
  SimAccountProfile,
  SimBook,
  SimContext,
  SimCredentials,
  SimFault,
  SimFill,
  SimInstrument,
  SimMarketId,
  SimVenueEndpoints,
  SimVenueFactory,
  SimVenueHandle,
} from './core/types.js';
import { startBinanceSpot, startBinanceUsdm, type BinanceVenueOptions } from './binance/index.js';
import { startBybit, type BybitVenueOptions } from './bybit/index.js';

export type SimVenueName = 'binanceSpot' | 'binanceUsdm' | 'bybit';
export const ALL_VENUES: readonly SimVenueName[] = ['binanceSpot', 'binanceUsdm', 'bybit'];

/** Binance's documented example HMAC key pair (public docs; fine for tests, never a real account). */
export const BINANCE_DOC_EXAMPLE_KEY = 'vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A';
export const BINANCE_DOC_EXAMPLE_SECRET = 'NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j';

export interface SimOptions {
  /** bind address of every venue; default 127.0.0.1 */
  host?: string;
  /** PRNG seed of the generator; default random */
  seed?: number;
  /** symbols of every market; default BTCUSDT, ETHUSDT */
  symbols?: string[];
  /** generator level updates per second across all books; default 2,000 */
  rate?: number;
  /** ladder depth per side; default 200 */
  levelsPerSide?: number;
  /** depth diff coalescing interval handed to venues; default 100 (0 in deterministic mode) */
  depthIntervalMs?: number;
  /** virtual clock derived from the generator's step counter: same seed, same byte stream */
  deterministic?: boolean;
  /** 'auto' (default): the generator runs in real time; 'manual': nothing runs until you call generator.produce() */
  generatorMode?: 'auto' | 'manual';
  /** capture files to replay (their symbols get books; the generator leaves those books alone), merged by recorded time */
  replay?: string | string[];
  /** replay speed: 1 = recorded pace (default), 0 = as fast as possible */
  replaySpeed?: number;
  replayLoop?: boolean;
  /** fixed credentials; missing fields are generated per run */
  credentials?: Partial<SimCredentials>;
  /** server clock offset per market in ms */
  clockOffsetMs?: Partial<Record<SimMarketId, number>>;
  /** per-venue ports (default 0 = OS-chosen) */
  ports?: Partial<Record<SimVenueName | 'control', number>>;
  /** venues to start; default all three */
  venues?: readonly SimVenueName[];
  /** token of the control endpoint; default random */
  controlToken?: string;
  log?: Logger;
  /** replace venue factories (tests); they get `venueOptions[name]` merged into their options too */
  factories?: Partial<Record<SimVenueName, SimVenueFactory>>;
  /** per-venue options passed through to the venue layer (host and port come from `host` / `ports`) */
  venueOptions?: SimVenueOptions;
  /** the fee table: maker/taker rates per market, the Binance BNB discount (defaults: the venues' base tiers;
   * src/sim/core/fees.ts). A bad value throws naming it. */
  fees?: SimFeeOptions;
  /** wire-point hooks (the wire-to-wire harness; Binance venues) */
  wireTap?: import('./core/types.js').SimWireTap;
  /** the account's key permissions and modes (default: trading only, IP allowlist, one-way, unified) */
  account?: Partial<SimAccountProfile>;
}

type VenueExtra<T> = Omit<T, 'host' | 'port' | 'app'>;
/** Options of each venue layer beyond host/port (e.g. Bybit push intervals and rate limits, Binance ping periods). */
export interface SimVenueOptions {
  binanceSpot?: VenueExtra<BinanceVenueOptions>;
  binanceUsdm?: VenueExtra<BinanceVenueOptions>;
  bybit?: VenueExtra<BybitVenueOptions>;
}

/** The JSON object `tickwire sim` prints. Venues that failed to start are absent. */
export interface SimEndpointsJson {
  binanceSpot?: SimVenueEndpoints;
  binanceUsdm?: SimVenueEndpoints;
  bybit?: SimVenueEndpoints;
  control: { url: string; token: string };
  seed: number;
  symbols: string[];
}

export interface SimHandle {
  endpoints: SimEndpointsJson;
  ctx: SimContext;
  books: Map<SimMarketId, Map<string, MatchingBook>>;
  accounts: Accounts;
  faults: FaultRegistry;
  generator: Generator;
  /** one replayer over all the captures (empty without --replay) */
  replayers: Replayer[];
  /** venue name -> error message, for venues that failed to start */
  venueErrors: Partial<Record<SimVenueName, string>>;
  /** handles of the started venues. With the default factories `bybit` is a `BybitVenueHandle` (pushSnapshot, ...). */
  venueHandles: Partial<Record<SimVenueName, SimVenueHandle>>;
  inject(f: SimFault): void;
  clear(): void;
  close(): Promise<void>;
}

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** Random alphanumeric string (API keys and secrets look like Binance's: 64 chars). */
export function randomKey(len = 64): string {
  const bytes = randomBytes(len);
  let s = '';
  for (let i = 0; i < len; i++) s += ALNUM[bytes[i]! % ALNUM.length];
  return s;
}

/** Credentials for a run: given fields kept, the rest generated (random keys, fresh Ed25519 key pair). */
export function makeCredentials(given: Partial<SimCredentials> = {}): SimCredentials {
  let priv = given.ed25519PrivateKeyPem;
  let pub = given.ed25519PublicKeyPem;
  if (!priv || !pub) {
    const kp = generateKeyPairSync('ed25519');
    priv = kp.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    pub = kp.publicKey.export({ type: 'spki', format: 'pem' }).toString();
  }
  return {
    apiKey: given.apiKey ?? randomKey(),
    apiSecret: given.apiSecret ?? randomKey(),
    ed25519ApiKey: given.ed25519ApiKey ?? randomKey(),
    ed25519PrivateKeyPem: priv,
    ed25519PublicKeyPem: pub,
  };
}

function defaultFactories(): Record<SimVenueName, SimVenueFactory> {
  return { binanceSpot: startBinanceSpot, binanceUsdm: startBinanceUsdm, bybit: startBybit };
}

export async function startSim(opts: SimOptions = {}): Promise<SimHandle> {
  const host = opts.host ?? '127.0.0.1';
  const seed = opts.seed ?? randomBytes(4).readUInt32LE(0) % 1_000_000_000;
  const symbols = (opts.symbols ?? ['BTCUSDT', 'ETHUSDT']).map((s) => s.trim().toUpperCase()).filter((s) => s.length > 0);
  const logger = (opts.log ?? rootLog()).child({ mod: 'sim' });
  const credentials = makeCredentials(opts.credentials);

  const faults = new FaultRegistry();
  const clock = new SimClock(faults);
  for (const [m, ms] of Object.entries(opts.clockOffsetMs ?? {})) if (typeof ms === 'number') clock.setOffset(m as SimMarketId, ms);

  const fees = new FeeSchedule(opts.fees);
  const accounts = new Accounts([[credentials.apiKey, credentials.ed25519ApiKey]], fees);
  const accountHooks: Array<(a: SimAccount, i: SimInstrument, f: SimFill) => void> = [];
  accounts.addListener({
    onAccountChange: (a, i, f) => {
      for (const h of accountHooks) h(a, i, f);
    },
  });

  // replay sources first: their symbols get books derived from the recorded strings
  const replayFiles = opts.replay === undefined ? [] : Array.isArray(opts.replay) ? opts.replay : [opts.replay];
  const sources: ReplaySource[] = replayFiles.map((f) => loadCapture(f));

  let listenerErrors = 0;
  const onListenerError = (e: unknown, ins: SimInstrument): void => {
    // first ten, then one in a thousand: a venue bug must be visible without flooding the log
    if (++listenerErrors <= 10 || listenerErrors % 1000 === 0) {
      logger.error(
        { market: ins.market, symbol: ins.symbol, count: listenerErrors, err: e instanceof Error ? (e.stack ?? e.message) : String(e) },
        'book listener threw',
      );
    }
  };
  const books = new Map<SimMarketId, Map<string, MatchingBook>>();
  const instruments = new Map<SimMarketId, SimInstrument[]>();
  const replayed = new Set<string>();
  // one order id allocator per market, shared by its books: ids unique across books and markets
  const idAllocators = new Map<SimMarketId, OrderIdAllocator>();
  const idsOf = (m: SimMarketId): OrderIdAllocator => {
    let a = idAllocators.get(m);
    if (!a) idAllocators.set(m, (a = new OrderIdAllocator(DEFAULT_FIRST_ORDER_ID[m])));
    return a;
  };
  const addBook = (ins: SimInstrument): MatchingBook => {
    let m = books.get(ins.market);
    if (!m) books.set(ins.market, (m = new Map()));
    const b = new MatchingBook({ instrument: ins, nowMs: () => clock.nowMs(ins.market), hooks: accounts, onListenerError, ids: idsOf(ins.market) });
    m.set(ins.symbol, b);
    const list = instruments.get(ins.market) ?? [];
    list.push(ins);
    instruments.set(ins.market, list);
    return b;
  };
  for (const src of sources) {
    for (const ins of src.instruments) {
      const key = `${ins.market}:${ins.symbol}`;
      if (replayed.has(key)) continue;
      replayed.add(key);
      addBook(ins);
    }
  }
  const generated: MatchingBook[] = [];
  for (const market of ALL_MARKETS) {
    for (const sym of symbols) {
      if (replayed.has(`${market}:${sym}`)) continue;
      generated.push(addBook(makeInstrument(market, sym)));
    }
  }

  // BNB fees are valued at the mid of a BNB<quote> book where the simulator has one
  accounts.priceOf = (m, sym) => {
    const b = books.get(m)?.get(sym);
    if (!b) return 0;
    const bid = b.bestBidPrice();
    const ask = b.bestAskPrice();
    const mid = bid > 0 && ask > 0 ? (bid + ask) / 2 : bid || ask;
    return mid / 10 ** b.instrument.priceDecimals;
  };

  const generator = new Generator({
    books: generated,
    seed,
    rate: opts.rate ?? 2000,
    levelsPerSide: opts.levelsPerSide ?? 200,
    deterministic: opts.deterministic ?? false,
  });
  if (opts.deterministic) clock.setBase(() => generator.virtualNowMs());
  // fill the ladders before venues start: the first REST snapshot is a full book
  generator.seedBooks();

  const ctx: SimContext = {
    books: books as unknown as Map<SimMarketId, Map<string, SimBook>>,
    instruments,
    nowMs: (m) => clock.nowMs(m),
    account: (apiKey) => accounts.get(apiKey),
    takeFault: (m, k, s) => faults.takeFault(m, k, s),
    peekFault: (m, k) => faults.peekFault(m, k),
    onFault: (cb) => faults.onFault(cb),
    onAccountChange: (cb) => {
      accountHooks.push(cb);
    },
    credentials,
    fees,
    // deterministic runs default to one diff frame per batch: a wall-clock coalescing timer would make frame
    // contents depend on the machine's speed
    depthIntervalMs: opts.depthIntervalMs ?? (opts.deterministic ? 0 : 100),
    log: logger,
    ...(opts.wireTap ? { wireTap: opts.wireTap } : {}),
    accountProfile: { ...DEFAULT_ACCOUNT_PROFILE, ...opts.account },
  };

  const factories = { ...defaultFactories(), ...(opts.factories ?? {}) };
  const wanted = opts.venues ?? ALL_VENUES;
  const venues: Array<{ name: SimVenueName; handle: SimVenueHandle }> = [];
  const venueErrors: Partial<Record<SimVenueName, string>> = {};
  const endpoints: SimEndpointsJson = { control: { url: '', token: '' }, seed, symbols };

  let control: ControlHandle | undefined;
  const replayers: Replayer[] = [];
  const close = async (): Promise<void> => {
    generator.stop();
    for (const r of replayers) r.stop();
    control?.close();
    control = undefined;
    const vs = venues.splice(0);
    await Promise.all(
      vs.map(async (v) => {
        try {
          await v.handle.close();
        } catch (e) {
          logger.warn({ venue: v.name, err: e instanceof Error ? e.message : String(e) }, 'venue close failed');
        }
      }),
    );
  };

  try {
    for (const name of wanted) {
      const port = opts.ports?.[name];
      const extra = opts.venueOptions?.[name] ?? {};
      try {
        const handle = await factories[name](ctx, port === undefined ? { ...extra, host } : { ...extra, host, port });
        venues.push({ name, handle });
        endpoints[name] = handle.endpoints;
      } catch (e) {
        const msg = e instanceof Error ? e.message : String(e);
        venueErrors[name] = msg;
        logger.error({ venue: name, err: msg }, 'venue failed to start');
      }
    }
    const token = opts.controlToken ?? randomKey(32);
    control = await startControl({
      host: '127.0.0.1',
      port: opts.ports?.control ?? 0,
      token,
      faults,
      books,
      account: ctx.accountProfile,
      adjustBalance: (v) => {
        if (typeof v !== 'object' || v === null || Array.isArray(v)) return { error: 'invalid balance: an object' };
        const b = v as Record<string, unknown>;
        if (b['wallet'] !== 'binanceSpot' && b['wallet'] !== 'binanceUsdm' && b['wallet'] !== 'bybit') return { error: 'invalid balance: wallet' };
        if (typeof b['asset'] !== 'string' || !/^[A-Z0-9]{1,20}$/.test(b['asset'])) return { error: 'invalid balance: asset' };
        if (typeof b['delta'] !== 'number' || !Number.isFinite(b['delta'])) return { error: 'invalid balance: delta' };
        const acc = accounts.get(credentials.apiKey)!;
        const bal = accounts.balance(acc, b['asset'], b['wallet']);
        bal.free += b['delta'];
        return { ok: true, free: bal.free };
      },
      extraState: () => ({
        generator: { seed, rate: generator.rate, produced: generator.produced, steps: generator.steps, sweeps: generator.sweeps, running: generator.isRunning },
        replay: replayers.map((r) => ({ files: r.files, applied: r.applied, skipped: r.skipped, done: r.done })),
        venues: { started: venues.map((v) => v.name), errors: venueErrors },
        server: loadUws().source,
      }),
    });
    endpoints.control = { url: control.url, token };
  } catch (e) {
    await close();
    throw e;
  }

  // one replayer for all captures: their events merge by recorded receive time
  if (sources.length > 0) {
    const r = new Replayer(sources, {
      books,
      speed: opts.replaySpeed ?? 1,
      loop: opts.replayLoop ?? false,
      onEnd: () => logger.info({ files: r.files }, 'replay finished'),
    });
    replayers.push(r);
  }
  if ((opts.generatorMode ?? 'auto') === 'auto') {
    if (generated.length > 0) generator.start();
    for (const r of replayers) r.start();
  }

  // key-order of the printed object: venues, control, seed, symbols
  const ordered: SimEndpointsJson = { control: endpoints.control, seed, symbols };
  const out: SimEndpointsJson = {} as SimEndpointsJson;
  for (const v of ALL_VENUES) if (endpoints[v]) out[v] = endpoints[v];
  Object.assign(out, ordered);

  const server = loadUws();
  logger.info(
    {
      seed,
      symbols,
      venues: venues.map((v) => v.name),
      errors: venueErrors,
      control: control.url,
      server: server.source,
      ...(server.nativeErrors.length > 0 ? { nativeErrors: server.nativeErrors } : {}),
    },
    'simulator listening',
  );
  return {
    endpoints: out,
    ctx,
    books,
    accounts,
    faults,
    generator,
    replayers,
    venueErrors,
    venueHandles: Object.fromEntries(venues.map((v) => [v.name, v.handle])) as Partial<Record<SimVenueName, SimVenueHandle>>,
    inject: (f) => faults.inject(f),
    clear: () => faults.clear(),
    close,
  };
}
