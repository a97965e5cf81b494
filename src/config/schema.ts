/**
 * The engine's configuration: one JSON file plus environment overrides, validated with zod at start.
 *
 * Human units in the file (decimal numbers of base/quote currency); the engine converts them once per instrument
 * into integer price/quantity units (src/risk). Secrets never live in this file: see src/config/secrets.ts.
 */
import { z } from 'zod';
import { hostCheckConfigSchema, logDestinationSchema } from './ops.js';
import { NO_WS_API } from './presets.js';
import { alertsConfig, watchdogConfig } from './alerts.js';

export const VENUE_IDS = ['binanceSpot', 'binanceUsdm', 'bybitSpot', 'bybitLinear'] as const;
export const venueId = z.enum(VENUE_IDS);

/**
 * Where an exchange's traffic goes. `sim` = the embedded simulator (default); `testnet`, `demo` (demo trading) and
 * `mainnet` are the venues' hosts (src/config/presets.ts).
 */
export const presetName = z.enum(['sim', 'testnet', 'demo', 'mainnet']);
export type PresetName = z.infer<typeof presetName>;

const url = z.string().regex(/^(https?|wss?):\/\/\S+$/, 'must be an http(s):// or ws(s):// URL');

/** Explicit endpoint overrides; anything left out comes from the preset (src/config/presets.ts). */
const endpointOverrides = z
  .object({
    spotRest: url.optional(),
    spotWs: url.optional(),
    spotWsApi: url.optional(),
    futuresRest: url.optional(),
    futuresWs: url.optional(),
    futuresWsApi: url.optional(),
    privateWs: url.optional(),
  })
  .strict();

const exchangeConfig = z
  .object({
    preset: presetName.default('sim'),
    enabled: z.boolean().default(true),
    /** order transport: signed REST over a keep-alive pool, or the exchange's WebSocket order API */
    transport: z.enum(['rest', 'wsapi']).default('rest'),
    endpoints: endpointOverrides.prefault({}),
    /**
     * WS API / trade WS sessions and private streams are replaced make-before-break after this long, ms (default
     * 23 h). Binance closes every connection at 24 h; Bybit documents no lifetime. At most 24 h - 5 min, so that a
     * rotation always has time to finish before the venue's cut; at least 1 s.
     */
    socketLifetimeMs: z
      .number()
      .int()
      .min(1000, 'must be at least 1000 ms')
      .max(86_100_000, 'must be at most 86100000 ms (24 h - 5 min): Binance closes every connection at 24 h')
      .default(23 * 3_600_000),
  })
  .strict();

const instrumentRef = z.object({ venue: venueId, symbol: z.string().regex(/^[A-Z0-9]{2,20}$/, 'must be an upper-case exchange symbol like BTCUSDT') }).strict();

const positive = z.number().positive();
const nonNeg = z.number().nonnegative();

export const marketMakerParams = z
  .object({
    /** venue+symbol quoted */
    venue: venueId.default('binanceSpot'),
    symbol: z.string().default('BTCUSDT'),
    /** half spread around mid, in basis points of mid */
    halfSpreadBps: positive.default(2),
    /** quote size, base currency */
    size: positive.default(0.001),
    /** price shift per unit of inventory (base), in bps of mid, applied against the position */
    skewBpsPerUnit: nonNeg.default(50),
    /** requote when the wanted price moved by more than this many ticks (hysteresis) */
    requoteTicks: z.number().int().nonnegative().default(2),
    /** a resting quote is moved for a price change no sooner than this after it was placed, ms (pulls are immediate) */
    minRequoteMs: nonNeg.default(500),
    /**
     * new orders per sliding second the market maker sends at most (both sides, requotes and refills together); it
     * waits for the budget instead of asking. Keep it at or below risk.maxOrdersPerSecond and the venue's own limit
     * (Binance Spot 50 / 10 s: 4 / s leaves room for manual orders).
     */
    maxOrdersPerSecond: z.number().int().positive().max(1_000_000).default(4),
    /** stop quoting the side that would grow |position| beyond this (base) */
    maxInventory: positive.default(0.01),
  })
  .strict();

export const crossVenueParams = z
  .object({
    leader: instrumentRef.default({ venue: 'binanceSpot', symbol: 'BTCUSDT' }),
    follower: instrumentRef.default({ venue: 'bybitLinear', symbol: 'BTCUSDT' }),
    /** act when leader mid - follower mid exceeds this, in bps of follower mid */
    thresholdBps: positive.default(3),
    size: positive.default(0.002),
    /** minimum time between two orders, ms */
    cooldownMs: nonNeg.default(250),
    maxPosition: positive.default(0.01),
  })
  .strict();

/**
 * Trigger follower (src/strategy/triggerfollower.ts): one non-crossing order per touch move, sent from the event
 * path; the wire-to-wire harness's strategy. IOC by default (expires at once: no fill, no resting order).
 */
export const triggerFollowerParams = z
  .object({
    venue: venueId.default('binanceSpot'),
    symbol: z.string().default('BTCUSDT'),
    /** base currency per order */
    size: positive.default(0.001),
    /** IOC (default) expires at once; POST_ONLY / GTC rest on the book and need cancels (not for long runs) */
    tif: z.enum(['IOC', 'POST_ONLY', 'GTC']).default('IOC'),
    /** ticks away from the touch on the passive side */
    offsetTicks: z.number().int().nonnegative().default(0),
  })
  .strict();

export const strategyConfig = z
  .object({
    name: z.enum(['marketMaker', 'crossVenue', 'triggerFollower', 'none']).default('marketMaker'),
    /**
     * a plug-in strategy: an ES module (.js / .mjs) implementing the Strategy interface (docs/strategy-guide.md),
     * relative to the config file's folder (`tickwire run --strategy FILE`: to the working directory). When set, it
     * runs instead of `name`.
     */
    module: z
      .string()
      .regex(/\.m?js$/, 'must name an ES module file (.js or .mjs; compile TypeScript first)')
      .optional(),
    /** the plug-in's parameters, given to its factory as they are (it validates them); `reload` passes them to setParams */
    params: z.record(z.string(), z.unknown()).default({}),
    /** exceptions (since the last `start`) after which the strategy is halted: trading stops, its orders are cancelled */
    maxErrors: z.number().int().positive().default(1),
    marketMaker: marketMakerParams.prefault({}),
    crossVenue: crossVenueParams.prefault({}),
    triggerFollower: triggerFollowerParams.prefault({}),
  })
  .strict();

export const riskConfig = z
  .object({
    /** base currency per order */
    maxOrderQty: positive.default(0.01),
    /** quote currency per order */
    maxOrderNotional: positive.default(1_000),
    /** |position| per symbol, base currency */
    maxPositionPerSymbol: positive.default(0.05),
    /** sum over symbols of |position| * mid, quote currency */
    maxTotalNotional: positive.default(10_000),
    maxOpenOrders: z.number().int().positive().default(20),
    /**
     * strategy orders per sliding second (a safety net over every venue; the gateways also keep each venue's own
     * order limits, e.g. Binance Spot 50 / 10 s; at most 1,000,000: a ring of that many send times is preallocated). The market maker paces itself below this
     * (strategy.marketMaker.maxOrdersPerSecond).
     */
    maxOrdersPerSecond: z.number().int().positive().max(1_000_000).default(10),
    /** manual (control-plane) orders per sliding second: a budget of their own, apart from the strategy's */
    maxManualOrdersPerSecond: z.number().int().positive().max(1_000_000).default(10),
    /** limit price must be within this band around mid, bps */
    priceBandBps: positive.default(100),
  })
  .strict();

export const loopConfig = z
  .object({
    /** timer: sleep between ticks; precise: sleep, then spin before each deadline; busy: never sleep (busy-poll for a
     * dedicated core: no wake-up per frame, a full core of CPU; LATENCY.md "Busy-poll") */
    mode: z.enum(['timer', 'precise', 'busy']).default('timer'),
    periodMs: z.number().positive().max(1000).default(10),
    /** precise mode: wake this many µs before the boundary, then spin on the clock */
    /** precise mode: spin this long before each deadline. 3,000 µs gave p99 lateness 35-52 µs at ~39% of a pinned, quiet vCPU; 9,500 ~13 µs at 100% (LATENCY.md, "The 10 ms loop") */
    spinUs: z.number().int().min(100).max(9_900).default(3000),
    /** busy mode: every this many µs between ticks, build and sign a never-sent order for one strategy instrument
     * (round robin) so that the order path's code and data stay hot between rare orders; 0 = off (LATENCY.md "Busy-poll") */
    warmUs: z.number().int().min(0).max(1_000_000).default(0),
  })
  .strict();

export const killSwitchConfig = z
  .object({
    /** a file appearing at this path triggers the kill switch (checked every pollMs) */
    file: z.string().min(1).optional(),
    pollMs: z.number().int().positive().default(250),
    /** realized+unrealized PnL below -maxDrawdown (quote) triggers; 0 = off */
    maxDrawdown: nonNeg.default(0),
    /** rejects / orders over the window above this fraction triggers (with at least minOrders); 0 = off */
    maxRejectRate: z.number().min(0).max(1).default(0),
    rejectWindowMs: z.number().int().positive().default(10_000),
    minOrdersForRate: z.number().int().positive().default(20),
    /** no book message for this long on a traded symbol triggers; 0 = off */
    feedStaleMs: nonNeg.default(0),
    /** p99 of tick-to-trade/ack latency over the window above this triggers, µs; 0 = off */
    latencyP99Us: nonNeg.default(0),
    /** after a trigger: exit the process (non-zero) or stay up halted */
    onTrigger: z.enum(['exit', 'halt']).default('halt'),
    exitCode: z.number().int().min(1).max(255).default(3),
    /** also close positions with reduce-only market orders after cancelling */
    flatten: z.boolean().default(false),
    /** how long to wait for cancels to be confirmed by query */
    verifyTimeoutMs: z.number().int().positive().default(5_000),
  })
  .strict();

/** Every stop of `tickwire run` (graceful, or after a failed start) cancels what is open and verifies it. */
export const shutdownConfig = z
  .object({
    /**
     * how long a stop keeps retrying the venues' cancel-all and open-orders query until nothing is open, ms (a venue
     * that does not answer for a moment, an IP ban whose Retry-After passes within this time); then it exits
     * non-zero, naming what may be left open
     */
    cancelTimeoutMs: z.number().int().positive().max(600_000).default(15_000),
  })
  .strict();

export const persistConfig = z
  .object({
    dir: z.string().min(1).default('./data'),
    fsync: z.enum(['batch', 'interval', 'never']).default('batch'),
    fsyncIntervalMs: z.number().int().positive().default(1_000),
    /** journal batches are flushed this often (off the hot path) */
    batchMs: z.number().int().positive().default(5),
    snapshotIntervalMs: z.number().int().positive().default(10_000),
    /**
     * Each order intent is one write(2) into the journal file (page cache: survives kill -9; no fsync).
     * false (default, write-behind): right after the order's bytes were handed to the socket, in the same
     * synchronous turn, so the write(2) (~10 µs in situ) is not on the order path; a kill -9 between the two
     * syscalls leaves at most ONE order unjournaled, and it is the id after the last journaled one: the restart
     * queries that id on the exchange and books it (src/engine/reconcile.ts). true (write-ahead): before the send.
     */
    intentWriteAhead: z.boolean().default(false),
    /** open orders found on the exchange at start that the journal does not know (ours or foreign) */
    orphans: z.enum(['cancel', 'adopt']).default('cancel'),
  })
  .strict();

export const controlConfig = z
  .object({
    enabled: z.boolean().default(true),
    /** 0 = OS-chosen; the chosen port is written to <dir>/run-state.json */
    port: z.number().int().min(0).max(65535).default(0),
    /** always loopback; present so a config that asks for something else fails loudly */
    host: z.literal('127.0.0.1').default('127.0.0.1'),
  })
  .strict();

const logLevel = z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']);
/** Levels per destination; file destinations may rotate (pino-roll), e.g. an alert file at warn. */
export const logConfig = z
  .object({
    level: logLevel.default('info'),
    destinations: z
      .array(logDestinationSchema)
      .min(1)
      .default([{ to: 'stderr', level: 'info' }]),
  })
  .strict();

export const signalsConfig = z
  .object({
    /** poll funding rate and open interest of the futures instruments */
    funding: z.boolean().default(true),
    openInterest: z.boolean().default(true),
    intervalMs: z.number().int().min(1000).default(30_000),
    /** external scores: GET url, number at `path` of the JSON body, written to BotState `field` of the instrument */
    external: z
      .array(
        z
          .object({
            venue: venueId,
            symbol: z.string(),
            url: url,
            path: z.string().default(''),
            field: z.enum(['signal', 'fundingRate', 'openInterest']).default('signal'),
            intervalMs: z.number().int().min(100).default(5_000),
          })
          .strict(),
      )
      .default([]),
  })
  .strict();

const assetName = z.string().regex(/^[A-Z0-9]{1,20}$/, 'must be an upper-case asset like USDT');
const feeRate = z.number().gt(-0.01).lt(0.1);
const feeRates = z.object({ maker: feeRate.optional(), taker: feeRate.optional() }).strict();

/**
 * The embedded simulator's fee table (exchanges with preset `sim`; `tickwire sim --fees FILE` takes the same object).
 * Missing rates keep the venues' base tiers (src/sim/core/fees.ts): Binance Spot 0.1 %/0.1 %, USD-M 0.02 %/0.05 %,
 * Bybit spot 0.1 %/0.1 %, linear 0.02 %/0.055 %. A negative rate is a maker rebate.
 */
export const simConfig = z
  .object({
    fees: z
      .object({
        rates: z
          .object({ binanceSpot: feeRates.optional(), binanceUsdm: feeRates.optional(), bybitSpot: feeRates.optional(), bybitLinear: feeRates.optional() })
          .strict()
          .default({}),
        /** share of the rate paid in BNB with the discount on (Binance: Spot 0.75, USD-M 0.9) */
        bnbDiscount: z
          .object({ binanceSpot: z.number().gt(0).max(1).optional(), binanceUsdm: z.number().gt(0).max(1).optional() })
          .strict()
          .default({}),
        /** the simulated account starts with Binance's BNB fee discount on (Spot spotBNBBurn, USD-M feeBurn) */
        bnbBurn: z.object({ binanceSpot: z.boolean().optional(), binanceUsdm: z.boolean().optional() }).strict().default({}),
        /** BNB price in the quote asset where the simulator has no BNB<quote> book */
        bnbPrice: positive.optional(),
      })
      .strict()
      .prefault({}),
  })
  .strict();

/**
 * Spot balance reconciliation (src/engine/balances.ts): at start and every `intervalMs` the account endpoint of each
 * spot venue's wallet (Binance `GET /api/v3/account`, Bybit `GET /v5/account/wallet-balance`) is compared per asset
 * with the start balance plus what the booked fills moved, net of fees. A drift above `alertDrift` is an alert (log
 * line, `tickwire_balance_drift_total`); above the asset's `haltDrift` (else `haltDriftDefault`) trading stops.
 */
export const reconcileConfig = z
  .object({
    balances: z
      .object({
        enabled: z.boolean().default(true),
        /** ms between checks after the start; 0 = only at start */
        intervalMs: z
          .number()
          .int()
          .nonnegative()
          .refine((v) => v === 0 || v >= 1000, 'must be 0 (start only) or at least 1000')
          .default(60_000),
        /** a drift is confirmed by a second read this much later (fills in flight between the two views), ms */
        settleMs: z.number().int().nonnegative().max(60_000).default(1_000),
        /** |actual - expected| above this (asset units) raises an alert */
        alertDrift: nonNeg.default(1e-6),
        /** per asset: |drift| above this (asset units) stops trading */
        haltDrift: z.record(assetName, positive).default({}),
        /** the halt limit of assets not in haltDrift (asset units) */
        haltDriftDefault: positive.default(1),
      })
      .strict()
      .prefault({}),
  })
  .strict();

const paperFeeRate = z.number().gt(-0.01).lt(0.1);
const paperFees = (maker: number, taker: number) =>
  z
    .object({ maker: paperFeeRate.default(maker), taker: paperFeeRate.default(taker) })
    .strict()
    .prefault({});

/**
 * `tickwire run --paper` (src/exchange/paperlive.ts): orders matched locally against the live books. Fee rates are
 * fractions of the notional (0.001 = 0.1 %, negative = a maker rebate), booked in the quote asset; the defaults are
 * the venues' base tiers.
 */
export const paperConfig = z
  .object({
    fees: z
      .object({
        binanceSpot: paperFees(0.001, 0.001),
        binanceUsdm: paperFees(0.0002, 0.0005),
        bybitSpot: paperFees(0.001, 0.001),
        bybitLinear: paperFees(0.0002, 0.00055),
      })
      .strict()
      .prefault({}),
  })
  .strict();

const configShape = z
  .object({
    exchanges: z
      .object({ binance: exchangeConfig.prefault({}), bybit: exchangeConfig.prefault({}) })
      .strict()
      .prefault({}),
    /** instruments the engine subscribes to and may trade */
    instruments: z
      .array(instrumentRef)
      .min(1)
      .default([
        { venue: 'binanceSpot', symbol: 'BTCUSDT' },
        { venue: 'bybitLinear', symbol: 'BTCUSDT' },
      ]),
    strategy: strategyConfig.prefault({}),
    /** slow signals polled in the background and written to BotState (never awaited by the loop) */
    signals: signalsConfig.prefault({}),
    risk: riskConfig.prefault({}),
    loop: loopConfig.prefault({}),
    killSwitch: killSwitchConfig.prefault({}),
    shutdown: shutdownConfig.prefault({}),
    persistence: persistConfig.prefault({}),
    control: controlConfig.prefault({}),
    log: logConfig.prefault({}),
    /** the embedded simulator (preset sim): its fee table */
    sim: simConfig.prefault({}),
    /** reconciliation with the exchange beyond orders and positions: spot balances */
    reconcile: reconcileConfig.prefault({}),
    /** paper trading (`tickwire run --paper`): the local matcher's fee rates */
    paper: paperConfig.prefault({}),
    /** core pinning and host tuning checked at start (src/app/hostcheck.ts); 'refuse' exits non-zero on a mismatch */
    hostCheck: hostCheckConfigSchema.prefault({}),
    /** `tickwire bot`: alert rules and routes (Telegram, webhooks), remote commands (src/config/alerts.ts) */
    alerts: alertsConfig.prefault({}),
    /** `tickwire watchdog`: the engine's heartbeat and the cancel-all when it stops (src/config/alerts.ts) */
    watchdog: watchdogConfig.prefault({}),
    /** path of a JSON file {binance:{apiKey,apiSecret},bybit:{...}} with mode 0600 (or 0400); env wins */
    secretsFile: z.string().min(1).optional(),
  })
  .strict();

/** The whole configuration: the sections, then the rules across them. `configShape.shape` lists the sections. */
export const configSchema = configShape.superRefine(crossFieldIssues);

/**
 * Rules that span sections: each one would otherwise start an engine that is silent or wrong (a strategy on an
 * instrument nobody subscribes to runs as no strategy at all; an order size above the position limit can never
 * be sent whole). Every issue names the field to change.
 */
function crossFieldIssues(c: z.output<typeof configShape>, ctx: z.RefinementCtx): void {
  const listed = new Set(c.instruments.map((i) => `${i.venue}:${i.symbol}`));
  const exchangeOf = (v: string): 'binance' | 'bybit' => (v.startsWith('binance') ? 'binance' : 'bybit');
  const seen = new Set<string>();
  c.instruments.forEach((i, n) => {
    const k = `${i.venue}:${i.symbol}`;
    if (seen.has(k)) ctx.addIssue({ code: 'custom', path: ['instruments', n], message: `${k} is listed twice` });
    seen.add(k);
    if (!c.exchanges[exchangeOf(i.venue)].enabled)
      ctx.addIssue({ code: 'custom', path: ['instruments', n, 'venue'], message: `${i.venue} belongs to exchanges.${exchangeOf(i.venue)}, which is disabled` });
  });
  const needListed = (path: Array<string | number>, ref: { venue: string; symbol: string }): void => {
    if (!listed.has(`${ref.venue}:${ref.symbol}`))
      ctx.addIssue({ code: 'custom', path, message: `${ref.venue}:${ref.symbol} is not among the instruments (${[...listed].join(', ')})` });
  };
  const needSize = (path: Array<string | number>, size: number): void => {
    if (size > c.risk.maxOrderQty)
      ctx.addIssue({ code: 'custom', path, message: `${size} is above risk.maxOrderQty (${c.risk.maxOrderQty}): every order would be refused` });
  };
  const s = c.strategy;
  // a plug-in (strategy.module) runs instead of the named strategy: its parameters are its own to check
  if (s.module !== undefined) {
    /* checked when it loads (src/strategy/plugin.ts) */
  } else if (s.name === 'marketMaker') {
    needListed(['strategy', 'marketMaker', 'symbol'], s.marketMaker);
    needSize(['strategy', 'marketMaker', 'size'], s.marketMaker.size);
  } else if (s.name === 'triggerFollower') {
    needListed(['strategy', 'triggerFollower', 'symbol'], s.triggerFollower);
    needSize(['strategy', 'triggerFollower', 'size'], s.triggerFollower.size);
  } else if (s.name === 'crossVenue') {
    needListed(['strategy', 'crossVenue', 'leader'], s.crossVenue.leader);
    needListed(['strategy', 'crossVenue', 'follower'], s.crossVenue.follower);
    needSize(['strategy', 'crossVenue', 'size'], s.crossVenue.size);
  }
  // a preset without WebSocket order entry (Bybit demo) cannot take transport wsapi unless the config names a WS API
  for (const ex of ['binance', 'bybit'] as const) {
    const e = c.exchanges[ex];
    const rule = NO_WS_API.find((r) => r.exchange === ex && r.preset === e.preset);
    if (rule && e.transport === 'wsapi' && e.endpoints.spotWsApi === undefined && e.endpoints.futuresWsApi === undefined)
      ctx.addIssue({
        code: 'custom',
        path: ['exchanges', ex, 'transport'],
        message: `'wsapi' is not available on preset ${e.preset}: ${rule.why}; use "rest"`,
      });
  }
  const bal = c.reconcile.balances;
  if (bal.haltDriftDefault <= bal.alertDrift)
    ctx.addIssue({
      code: 'custom',
      path: ['reconcile', 'balances', 'haltDriftDefault'],
      message: `must be above reconcile.balances.alertDrift (${bal.alertDrift})`,
    });
  for (const [a, v] of Object.entries(bal.haltDrift))
    if (v <= bal.alertDrift)
      ctx.addIssue({
        code: 'custom',
        path: ['reconcile', 'balances', 'haltDrift', a],
        message: `must be above reconcile.balances.alertDrift (${bal.alertDrift})`,
      });
  if (c.risk.maxOrderQty > c.risk.maxPositionPerSymbol) {
    ctx.addIssue({
      code: 'custom',
      path: ['risk', 'maxOrderQty'],
      message: `${c.risk.maxOrderQty} is above risk.maxPositionPerSymbol (${c.risk.maxPositionPerSymbol})`,
    });
  }
}

export type Config = z.infer<typeof configSchema>;
export type RiskConfig = z.infer<typeof riskConfig>;
export type BalanceReconcileConfig = z.infer<typeof reconcileConfig>['balances'];
export type SimConfig = z.infer<typeof simConfig>;
export type KillSwitchConfig = z.infer<typeof killSwitchConfig>;
export type PersistConfig = z.infer<typeof persistConfig>;
export type LoopConfig = z.infer<typeof loopConfig>;
export type MarketMakerParams = z.infer<typeof marketMakerParams>;
export type CrossVenueParams = z.infer<typeof crossVenueParams>;
export type TriggerFollowerConfig = z.infer<typeof triggerFollowerParams>;
export type StrategyConfig = z.infer<typeof strategyConfig>;
export type PaperConfig = z.infer<typeof paperConfig>;
