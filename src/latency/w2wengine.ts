/**
 * Engine path of `tickwire wire2wire --engine`: the real engine (`runEngine()` from src/core/run.ts) with the
 * trigger-follower strategy (src/strategy/triggerfollower.ts: one LIMIT IOC per touch move, sent synchronously
 * from the event path) in its own Node process, trading against the simulator in this process.
 *
 * Trigger: the simulator's generator is manual (no traffic of its own); each trigger moves the touch of
 * binanceSpot BTCUSDT by one tick (the best ask's synthetic level is lifted and a bid appears at its price, then
 * the reverse). Timed at the wire, as the floor is (`SimWireTap`): from right before the venue hands the first
 * market-data frame of that batch to the socket, to the moment the venue has read the bytes of the request that
 * carries the engine's order (WS API message / REST body), before it parses them. Which request that was is
 * known once the venue accepted the order (the first order event of the engine's account on that book after
 * the trigger; the IOC then expires unfilled): its read stamp is the arrival.
 * Also reported (`venueInclusiveUs`): the old, wider span from before the venue builds the frames to the order
 * event after the venue parsed, authenticated and matched it, which adds the simulator's own per-order work.
 * What is lifted, and why it is fair: the venue's order-rate limits (Binance spot 50 orders / 10 s) and the
 * engine's `risk.maxOrdersPerSecond` (default 10). Both are policies that cap how often an order may be sent, not
 * part of the path being timed; every order still passes every other risk check, the journal (intent written
 * right after the send, the production default; `TICKWIRE_W2W_WRITE_AHEAD=1` writes it before, to compare) and
 * the venue's auth/matching.
 * Keys: the simulator's HMAC pair and its Ed25519 pair reach the engine as in a deployment (env + a 0600 PEM file),
 * so the WS API session logs on and WS orders carry no per-request signature (`TICKWIRE_W2W_ED25519=0` to compare).
 * `gapMs` (default 2) after each arrival lets the order's ack and stream events land before the next trigger.
 * Needs the build (`npm run build`): the engine process runs dist/src/core/run.js.
 * `TICKWIRE_W2W_CPU_PROF=<dir>`: the engine process writes a V8 CPU profile there (`--cpu-prof`) when it stops.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createRequire } from 'node:module';
import { startSim, type SimHandle } from '../sim/index.js';
import type { SimBookListener, SimOrder } from '../sim/core/types.js';
import type { MatchingBook } from '../sim/core/book.js';
import { nowNs } from './clock.js';
import { buildHistogram } from './hops.js';
import { mergeInputs, percentileTable } from './histio.js';
import type { W2wSide, W2wTransport } from './wire2wire.js';
import { percentilesUs } from './wire2wire.js';

/** dist/src/core/run.js of this checkout, or undefined when not built. */
export function builtRunModule(): string | undefined {
  let d = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    const cand = [join(d, 'dist', 'src', 'core', 'run.js'), join(d, 'src', 'core', 'run.js')].find(
      (p) => existsSync(p) && p.includes(`${join('dist', 'src', 'core')}`),
    );
    if (cand) return cand;
    d = dirname(d);
  }
  return undefined;
}

/** SIGTERM the engine (graceful: it dumps its hop histograms), wait up to 10 s, and print what it dumped. */
async function stopAndReadHops(child: ChildProcess, dir: string): Promise<string | undefined> {
  if (child.exitCode === null && child.signalCode === null) {
    const done = new Promise<void>((r) => child.once('exit', () => r()));
    child.kill('SIGTERM');
    const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await done;
    clearTimeout(t);
  }
  if (!existsSync(dir)) return undefined;
  try {
    const m = mergeInputs([dir]);
    return m.series.size ? percentileTable(m.sorted()) : undefined;
  } catch {
    return undefined;
  }
}

export interface EngineOptions {
  triggers: number;
  transport: W2wTransport;
  /** ms between an arrival and the next trigger (default 2: lets the order's ack and stream events land first) */
  gapMs?: number;
  timeoutMs?: number;
  clientCpu?: number;
  warmup?: number;
  /** how long to wait for the engine's first quote (default 30 s) */
  quoteTimeoutMs?: number;
  log?: (line: string) => void;
}

/** Bare client against the simulator (the same-server floor): subscribes to the same streams as the engine's
 * Binance spot adapter and sends each market-data frame's bytes straight back over the order transport (a WS API
 * text frame, or a POST /api/v3/order with the frame as its body, over an undici Pool). The venue reads and
 * rejects it; the arrival stamp is taken when its bytes are read, as for the engine's order. */
function simFloorClientSource(transport: W2wTransport, mdUrl: string, wsApiUrl: string, restUrl: string): string {
  const req = createRequire(import.meta.url);
  const wsPath = req.resolve('ws');
  const undiciPath = req.resolve('undici');
  return `
import { createRequire } from 'node:module';
const require = createRequire(${JSON.stringify(wsPath)});
const WebSocket = require(${JSON.stringify(wsPath)});
const { Pool } = require(${JSON.stringify(undiciPath)});
const transport = ${JSON.stringify(transport)};
const md = new WebSocket(${JSON.stringify(mdUrl)}, { perMessageDeflate: false });
const api = transport === 'ws' ? new WebSocket(${JSON.stringify(wsApiUrl)}, { perMessageDeflate: false }) : null;
const pool = transport === 'rest' ? new Pool(${JSON.stringify(restUrl)}, { connections: 1, pipelining: 1, keepAliveTimeout: 60000 }) : null;
api?.on('message', () => {});
md.on('message', (data) => {
  if (api) { if (api.readyState === 1) api.send(data, { binary: false }); return; }
  pool.request({ path: '/api/v3/order', method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: data })
    .then((r) => r.body.dump())
    .catch((e) => { process.stderr.write('sim floor client: ' + e.message + '\\n'); });
});
md.on('close', () => { if (pool) pool.close().catch(() => {}); process.exit(0); });
md.on('error', (e) => { process.stderr.write('sim floor client md: ' + e.message + '\\n'); process.exit(1); });
`;
}

export async function runEnginePath(opts: EngineOptions): Promise<W2wSide> {
  return runSimPath('engine', opts);
}

/** The bare-client floor against the simulator: same server, same trigger, same wire stamps as the engine path. */
export async function runSimFloorPath(opts: EngineOptions): Promise<W2wSide> {
  return runSimPath('floor', opts);
}

async function runSimPath(kind: 'engine' | 'floor', opts: EngineOptions): Promise<W2wSide> {
  const runJs = kind === 'engine' ? builtRunModule() : undefined;
  if (kind === 'engine' && !runJs) throw new Error('engine path needs the build: run `npm run build` first');
  const log = opts.log ?? (() => undefined);
  const what = kind === 'engine' ? `engine ${opts.transport}` : `floor ${opts.transport} (simulator)`;
  const tmp = mkdtempSync(join(tmpdir(), 'tw-w2w-engine-'));
  let sim: SimHandle | undefined;
  let child: ChildProcess | undefined;
  let hopsTable: string | undefined;
  try {
    // the venue's order-rate limits are lifted for this account (see LATENCY.md, "Wire to wire"): one order per
    // trigger at ~300 triggers/s would trip Binance spot's 50 orders / 10 s at once; the limits are a policy of the
    // exchange, not part of the path being measured (the engine's own risk checks still run on every order)
    const big = 1_000_000_000;
    // wire points (see the header): armed by a trigger, the first md frame out stamps it; every request read
    // stamps lastInNs. Engine: the order event that follows (synchronously, in the same handler) takes it.
    // Floor: the first request read after the trigger's frame went out is the echo.
    let armed = false;
    let wireOutNs = 0;
    let lastInNs = 0;
    let onEcho: ((t: number) => void) | undefined;
    const wireTap = {
      mdOut: (): void => {
        if (armed) {
          wireOutNs = nowNs();
          armed = false;
        }
      },
      orderIn: (): void => {
        lastInNs = nowNs();
        if (onEcho) {
          const f = onEcho;
          onEcho = undefined;
          f(lastInNs);
        }
      },
    };
    sim = await startSim({
      wireTap,
      venues: ['binanceSpot'], symbols: ['BTCUSDT'], generatorMode: 'manual', depthIntervalMs: 0, seed: 1,
      venueOptions: { binanceSpot: { limits: { orders10s: big, ordersLong: big, weightPerMin: big } } },
    });
    const ep = sim.endpoints.binanceSpot;
    const book = sim.books.get('binanceSpot')?.get('BTCUSDT') as MatchingBook | undefined;
    if (!ep || !book) throw new Error('simulator did not start binanceSpot BTCUSDT');
    if (kind === 'engine') {
      const config = {
        exchanges: {
          binance: { preset: 'sim', endpoints: { spotRest: ep.restBaseUrl, spotWs: ep.wsStreamBaseUrl, spotWsApi: ep.wsApiUrl } },
          bybit: { enabled: false },
        },
        instruments: [{ venue: 'binanceSpot', symbol: 'BTCUSDT' }],
        // one non-crossing IOC per touch move (src/strategy/triggerfollower.ts), chosen by config like any strategy
        strategy: { name: 'triggerFollower', triggerFollower: { venue: 'binanceSpot', symbol: 'BTCUSDT', size: 0.001, tif: 'IOC' } },
        // risk still checks every order; only the order-rate ceiling is raised to the harness's trigger rate
        risk: { maxOrdersPerSecond: 1_000_000 },
        persistence: { dir: join(tmp, 'data'), fsync: 'never', intentWriteAhead: process.env['TICKWIRE_W2W_WRITE_AHEAD'] === '1' },
        control: { enabled: false },
        log: { level: process.env['TICKWIRE_W2W_LOG'] === 'info' ? 'info' : 'warn', destinations: [{ to: 'stderr', level: process.env['TICKWIRE_W2W_LOG'] === 'info' ? 'info' : 'warn' }] },
      };
      const cfgFile = join(tmp, 'engine.json');
      writeFileSync(cfgFile, JSON.stringify(config, null, 1));
      const src = `
  const { runEngine } = await import(${JSON.stringify(pathToFileURL(runJs!).href)});
  const r = await runEngine({
    config: ${JSON.stringify(cfgFile)}, durationSec: 3600, print: false, transport: ${JSON.stringify(opts.transport === 'ws' ? 'wsapi' : 'rest')},
  });
  process.exit(r.code);
  `;
      // HMAC pair (REST signs with it) and the simulator's Ed25519 pair (the WS API session logs on, so WS orders
      // carry no per-request signature), as a deployment passes them: env + a 0600 PEM file
      const pemFile = join(tmp, 'ed25519.pem');
      const withEd = process.env['TICKWIRE_W2W_ED25519'] !== '0' && ep.ed25519ApiKey !== undefined && ep.ed25519PrivateKeyPem !== undefined;
      if (withEd) writeFileSync(pemFile, ep.ed25519PrivateKeyPem!, { mode: 0o600 });
      const env = {
        ...process.env, TICKWIRE_BINANCE_API_KEY: ep.apiKey, TICKWIRE_BINANCE_API_SECRET: ep.apiSecret,
        ...(withEd ? { TICKWIRE_BINANCE_ED25519_API_KEY: ep.ed25519ApiKey, TICKWIRE_BINANCE_ED25519_KEY_FILE: pemFile } : {}),
      };
      // the V8 flags of the deployment's launcher (deploy/tokyo/tickwire-launch.sh: a fixed 64 MB young generation,
      // LATENCY.md "Tuning"); TICKWIRE_W2W_SEMI_SPACE_MB=0 runs with V8's defaults, to compare
      const semi = Number(process.env['TICKWIRE_W2W_SEMI_SPACE_MB'] ?? 64);
      const v8 = semi > 0 ? [`--max-semi-space-size=${semi}`, `--min-semi-space-size=${semi}`] : [];
      const prof = process.env['TICKWIRE_W2W_CPU_PROF'] ? ['--cpu-prof', '--cpu-prof-dir=' + process.env['TICKWIRE_W2W_CPU_PROF']] : [];
      const args = [...v8, ...prof, '--input-type=module', '-e', src];
      child =
        opts.clientCpu !== undefined
          ? spawn('taskset', ['-c', String(opts.clientCpu), process.execPath, ...args], { env, stdio: ['ignore', 'ignore', 'inherit'], cwd: tmp })
          : spawn(process.execPath, args, { env, stdio: ['ignore', 'ignore', 'inherit'], cwd: tmp });
    } else {
      const mdUrl = `${ep.wsStreamBaseUrl.replace(/\/+$/, '')}/stream?streams=btcusdt@depth@100ms/btcusdt@bookTicker/btcusdt@aggTrade`;
      const args = ['--input-type=module', '-e', simFloorClientSource(opts.transport, mdUrl, ep.wsApiUrl, ep.restBaseUrl)];
      child =
        opts.clientCpu !== undefined
          ? spawn('taskset', ['-c', String(opts.clientCpu), process.execPath, ...args], { stdio: ['ignore', 'ignore', 'inherit'], cwd: tmp })
          : spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'inherit'], cwd: tmp });
    }
    let exited = false;
    child.once('exit', () => (exited = true));

    let onArrival: ((t: number, wireIn: number) => void) | undefined;
    let quoted = false;
    const listener: SimBookListener = {
      onLevels: () => undefined,
      onTrade: () => undefined,
      onOrder: (_sym: string, _o: SimOrder) => {
        const t = nowNs();
        quoted = true;
        const f = onArrival;
        onArrival = undefined;
        f?.(t, lastInNs);
      },
    };
    book.addListener(listener);
    try {
      // the engine syncs its book from a snapshot plus diffs: feed it some generator traffic until it quotes
      const t0 = Date.now();
      if (kind === 'floor') onEcho = () => (quoted = true);
      while (!quoted) {
        if (exited) throw new Error(`${what}: client process exited before answering`);
        if (Date.now() - t0 > (opts.quoteTimeoutMs ?? 30_000)) throw new Error(`${what}: no answer within ${opts.quoteTimeoutMs ?? 30_000} ms`);
        sim.generator.produce(5);
        await new Promise((r) => setTimeout(r, 20));
      }
      await new Promise((r) => setTimeout(r, 1000)); // both sides quoted, acks in
      const ba = book.bestAsk();
      if (!ba) throw new Error('empty ask side');
      const px = ba.priceTicks;
      const synth = book.syntheticQty('SELL', px);
      let up = false;
      const step = (): void => {
        // up: lift the best ask's synthetic level and bid at its price (touch +1 tick); down: the reverse
        book.beginBatch();
        if (!up) {
          book.setSynthetic('SELL', px, 0);
          book.setSynthetic('BUY', px, synth > 0 ? synth : 1000);
        } else {
          book.setSynthetic('BUY', px, 0);
          book.setSynthetic('SELL', px, synth > 0 ? synth : 1000);
        }
        up = !up;
      };
      const hist = buildHistogram(10_000_000_000, 64);
      const wide = buildHistogram(10_000_000_000, 64);
      let noWire = 0;
      // warm-up not recorded: the same rule as the echo floor (min(2000, N/10)), so that both sides are timed after
      // V8 has compiled their hot paths
      const warm = opts.warmup ?? Math.min(2000, Math.floor(opts.triggers / 10));
      const total = warm + opts.triggers;
      const gap = opts.gapMs ?? 2;
      const timeoutMs = opts.timeoutMs ?? 2000;
      let lost = 0;
      const started = Date.now();
      let lastLog = started;
      for (let i = 0; i < total; i++) {
        if (exited) throw new Error(`${what}: client process exited during the run`);
        let wireIn = 0;
        const arrived = new Promise<number>((res) => {
          const timer = setTimeout(() => {
            onArrival = undefined;
            onEcho = undefined;
            res(-1);
          }, timeoutMs);
          const done = (t: number, w: number): void => {
            clearTimeout(timer);
            wireIn = w;
            res(t);
          };
          if (kind === 'engine') onArrival = done;
          else onEcho = (t) => done(t, t);
        });
        step();
        wireOutNs = 0;
        armed = true;
        const sent = nowNs();
        book.endBatch();
        armed = false;
        const t = await arrived;
        if (t < 0) lost++;
        else if (i >= warm) {
          if (kind === 'engine') wide.recordValue(Math.max(0, Math.round(t - sent)));
          // both wire stamps must belong to this trigger: the frame went out, and the order's request was read after it
          if (wireOutNs > 0 && wireIn > wireOutNs) hist.recordValue(Math.round(wireIn - wireOutNs));
          else noWire++;
        }
        if (Date.now() - lastLog >= 5000) {
          lastLog = Date.now();
          log(`${what}: ${i + 1} of ${total} triggers, lost ${lost}`);
        }
        await new Promise((r) => setTimeout(r, gap));
      }
      log(`${what}: ${hist.totalCount} triggers, lost ${lost}${noWire ? `, ${noWire} without wire stamps` : ''}`);
      if (noWire > 0) lost += noWire;
      if (kind === 'floor') {
        return {
          kind: 'floor',
          client: `bare ws client subscribed to the simulator's streams, sending each frame straight back (${opts.transport === 'ws' ? 'WS API text frame' : 'POST /api/v3/order over an undici Pool'}); md frame out -> request read, at the simulator's sockets`,
          cpus: null,
          latencyUs: percentilesUs(hist),
          lost,
          durationMs: Date.now() - started,
        };
      }
      // graceful stop: the engine writes its exit dump of per-hop histograms into its persistence dir
      hopsTable = await stopAndReadHops(child, join(tmp, 'data', 'latency'));
      return {
        ...(hopsTable ? { engineHops: hopsTable } : {}),
        kind: 'engine',
        client: `tickwire engine (trigger follower, ${opts.transport === 'ws' ? 'WS API' : 'REST'} orders) in its own process; md frame out -> order request read, at the simulator's sockets`,
        venueInclusiveUs: percentilesUs(wide),
        cpus: null,
        latencyUs: percentilesUs(hist),
        lost,
        durationMs: Date.now() - started,
      };
    } finally {
      book.removeListener(listener);
    }
  } finally {
    if (child && child.exitCode === null) {
      const done = new Promise<void>((r) => child!.once('exit', () => r()));
      child.kill('SIGKILL');
      await done;
    }
    await sim?.close();
    rmSync(tmp, { recursive: true, force: true });
  }
}

