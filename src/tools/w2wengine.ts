/**
 * Engine path of `tickwire wire2wire --engine`: the real engine (`runEngine()` from src/app/run.ts) with the
 * trigger-follower strategy (src/strategy/triggerfollower.ts: one LIMIT IOC per touch move, sent synchronously
 * from the event path) in its own Node process, and beside it, in the same run, the floor: a bare client in its
 * own process, both trading against the simulator in this process, pinned alike (`clientCpu`).
 *
 * Interleaved, so that both sides see the same machine (this guest's noise comes in bursts): triggers alternate
 * between the engine's book (binanceSpot BTCUSDT) and the floor's (binanceSpot ETHUSDT). Each trigger moves the
 * touch of its book by one tick (the best ask's synthetic level is lifted and a bid appears at its price, then the
 * reverse); only the process subscribed to that symbol receives its frames.
 * - Engine: answers every touch move with one non-crossing IOC (accepted, expires at once).
 * - Floor: subscribes to the same streams for ETHUSDT and sends each frame's bytes straight back over the order
 *   transport (a WS API text frame, or a POST /api/v3/order with the frame as its body over an undici Pool); the
 *   venue reads and rejects it.
 * Timed at the wire for both (`SimWireTap`), as the echo floor is: from right before the venue hands the first
 * market-data frame of the trigger's batch to the socket, to the moment the venue has read the bytes of the
 * request that answers it (WS API message / REST body), before it parses them. Engine: the request whose order
 * the venue then accepted on that book (its read stamp); floor: the first request read after the trigger.
 * Also reported for the engine (`venueInclusiveUs`): the wider span from before the venue builds the frames to the
 * order event after the venue parsed, authenticated and matched it (adds the simulator's own per-order work).
 *
 * What is lifted, and why it is fair: the venue's order-rate limits (Binance spot 50 orders / 10 s) and the
 * engine's `risk.maxOrdersPerSecond` (default 10). Both are policies that cap how often an order may be sent, not
 * part of the path being timed; every order still passes every other risk check, the journal (intent written
 * right after the send, the production default; `TICKWIRE_W2W_WRITE_AHEAD=1` writes it before, to compare) and
 * the venue's auth/matching.
 * Keys: the simulator's HMAC pair and its Ed25519 pair reach the engine as in a deployment (env + a 0600 PEM file),
 * so the WS API session logs on and WS orders carry no per-request signature (`TICKWIRE_W2W_ED25519=0` to compare).
 * The engine runs with the deployment launcher's V8 flags (64 MB young generation; `TICKWIRE_W2W_SEMI_SPACE_MB`).
 * `gapMs` (default 2) after each arrival lets the order's ack and stream events land before the next trigger.
 * Nothing but the triggers moves the two books: the harness waits for the floor's first echo and the engine's first
 * order by moving the touch the same way, and a trigger that did not move the touch throws (a harness fault, never
 * counted as a trigger the answering side lost). A lost trigger is one unanswered within `timeoutMs`, or answered
 * with wire stamps that do not belong to it; each is logged with its reason.
 * Needs the build (`npm run build`): the engine process runs dist/src/app/run.js.
 * `TICKWIRE_W2W_CPU_PROF=<dir>`: the engine process writes a V8 CPU profile there (`--cpu-prof`) when it stops
 * (`TICKWIRE_W2W_CPU_PROF_US`: its sampling interval, µs). `TICKWIRE_W2W_V8_FLAGS`: more V8 flags for the engine
 * (e.g. `--trace-deopt`); `TICKWIRE_W2W_ENGINE_STDOUT=<file>`: the engine's stdout (where V8 traces print).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { startSim, type SimHandle } from '../sim/index.js';
import type { SimBookListener, SimOrder } from '../sim/core/types.js';
import type { MatchingBook } from '../sim/core/book.js';
import { nowNs } from '../util/clock.js';
import { buildHistogram } from '../util/hops.js';
import { mergeInputs, percentileTable } from '../util/histio.js';
import { cpuMeter, floorPrelude, percentilesUs, type W2wSide, type W2wTransport } from './w2wcommon.js';

/** dist/src/app/run.js of this checkout, or undefined when not built. */
export function builtRunModule(): string | undefined {
  let d = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    const cand = [join(d, 'dist', 'src', 'app', 'run.js'), join(d, 'src', 'app', 'run.js')].find(
      (p) => existsSync(p) && p.includes(`${join('dist', 'src', 'app')}`),
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
  /** busy-poll: the engine (loop.mode busy) and the floor client never sleep */
  busyPoll?: boolean;
  log?: (line: string) => void;
}

/** The same-server floor: a bare client that echoes each market-data frame of `symbol` over the order transport. */
function simFloorClientSource(transport: W2wTransport, mdUrl: string, wsApiUrl: string, restUrl: string, busyPoll: boolean): string {
  return `${floorPrelude(transport, restUrl, busyPoll)}
const md = new WebSocket(${JSON.stringify(mdUrl)}, { perMessageDeflate: false });
const api = transport === 'ws' ? new WebSocket(${JSON.stringify(wsApiUrl)}, { perMessageDeflate: false }) : null;
api?.on('message', () => {});
md.on('message', (data) => {
  if (api) { if (api.readyState === 1) api.send(data, { binary: false }); return; }
  post('/api/v3/order', data, 'application/x-www-form-urlencoded').catch((e) => { process.stderr.write('sim floor client: ' + e.message + '\\n'); });
});
md.on('close', () => process.exit(0));
md.on('error', (e) => { process.stderr.write('sim floor client md: ' + e.message + '\\n'); process.exit(1); });
`;
}

export interface SimPairResult {
  engine: W2wSide;
  /** the same-server floor, interleaved with the engine's triggers (null in busy-poll mode: two processes that never
   * sleep cannot share the client's vCPU, so the floor stops after its run alone and the engine runs by itself) */
  floor: W2wSide | null;
  /** the same-server floor measured first, alone (the engine process not started yet) */
  floorAlone: W2wSide;
}

/**
 * Moves one book's touch per call (see the header), alternating: up lifts the synthetic best ask and bids at its
 * price (the bid rises to the old ask, the ask to the next level); down restores both. The price is read from the
 * book at each up move, not once: other traffic (such as the generator traffic this harness once fed while it
 * waited for the engine's first quote) moves the touch, and a toggle of a price that is no longer at the touch is
 * no trigger at all (the engine rightly sends nothing; the harness used to count that as a lost trigger).
 * Returns the touch (bid and ask prices) before the move, so that the caller can check the move happened.
 */
export function touchMover(book: MatchingBook): () => { bid: number; ask: number } {
  let up = false;
  let px = 0;
  let qty = 0;
  return () => {
    const before = { bid: book.bestBidPrice(), ask: book.bestAskPrice() };
    book.beginBatch();
    if (!up) {
      px = before.ask;
      qty = px > 0 ? book.syntheticQty('SELL', px) : 0;
      // only synthetic liquidity moves without a trade: a user order at the touch would be matched instead
      if (qty <= 0) throw new Error(`wire2wire: ${book.instrument.symbol}: the best ask (${px}) holds no synthetic liquidity to move`);
      book.setSynthetic('SELL', px, 0);
      book.setSynthetic('BUY', px, qty);
    } else {
      book.setSynthetic('BUY', px, 0);
      book.setSynthetic('SELL', px, qty);
    }
    up = !up;
    return before;
  };
}

function spawnPinned(cpu: number | undefined, args: string[], env: NodeJS.ProcessEnv, cwd: string, stdoutFd?: number): ChildProcess {
  const stdio: ['ignore', 'ignore' | number, 'inherit'] = ['ignore', stdoutFd ?? 'ignore', 'inherit'];
  return cpu !== undefined
    ? spawn('taskset', ['-c', String(cpu), process.execPath, ...args], { env, stdio, cwd })
    : spawn(process.execPath, args, { env, stdio, cwd });
}

/** Engine and same-server floor, interleaved in one run (see the header). `opts.triggers` for each side. */
export async function runSimPair(opts: EngineOptions): Promise<SimPairResult> {
  const runJs = builtRunModule();
  if (!runJs) throw new Error('engine path needs the build: run `npm run build` first');
  const log = opts.log ?? (() => undefined);
  const tmp = mkdtempSync(join(tmpdir(), 'tw-w2w-engine-'));
  let sim: SimHandle | undefined;
  let engine: ChildProcess | undefined;
  let floor: ChildProcess | undefined;
  try {
    // the venue's order-rate limits are lifted for this account (see LATENCY.md, "Wire to wire"): one order per
    // trigger at hundreds of triggers/s would trip Binance spot's 50 orders / 10 s at once; the limits are a policy
    // of the exchange, not part of the path being measured (the engine's own risk checks still run on every order)
    const big = 1_000_000_000;
    // wire points: a trigger arms the tap, the first md frame out stamps it; every request read stamps lastInNs.
    // Engine: the order event that follows (synchronously, in the same handler) takes it. Floor: the first request
    // read after its trigger's frame went out is the echo.
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
      venues: ['binanceSpot'],
      symbols: ['BTCUSDT', 'ETHUSDT'],
      generatorMode: 'manual',
      depthIntervalMs: 0,
      seed: 1,
      venueOptions: { binanceSpot: { limits: { orders10s: big, ordersLong: big, weightPerMin: big } } },
    });
    const ep = sim.endpoints.binanceSpot;
    const engineBook = sim.books.get('binanceSpot')?.get('BTCUSDT') as MatchingBook | undefined;
    const floorBook = sim.books.get('binanceSpot')?.get('ETHUSDT') as MatchingBook | undefined;
    if (!ep || !engineBook || !floorBook) throw new Error('simulator did not start binanceSpot BTCUSDT/ETHUSDT');

    // --- the engine
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
      // busy-poll; TICKWIRE_W2W_WARM_US: keep-warm every that many µs (loop.warmUs; default 0 = off)
      ...(opts.busyPoll ? { loop: { mode: 'busy', warmUs: Number(process.env['TICKWIRE_W2W_WARM_US'] ?? 0) } } : {}),
      log: {
        level: process.env['TICKWIRE_W2W_LOG'] === 'info' ? 'info' : 'warn',
        destinations: [{ to: 'stderr', level: process.env['TICKWIRE_W2W_LOG'] === 'info' ? 'info' : 'warn' }],
      },
    };
    const cfgFile = join(tmp, 'engine.json');
    writeFileSync(cfgFile, JSON.stringify(config, null, 1));
    const src = `
const { runEngine } = await import(${JSON.stringify(pathToFileURL(runJs).href)});
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
      ...process.env,
      TICKWIRE_BINANCE_API_KEY: ep.apiKey,
      TICKWIRE_BINANCE_API_SECRET: ep.apiSecret,
      ...(withEd ? { TICKWIRE_BINANCE_ED25519_API_KEY: ep.ed25519ApiKey, TICKWIRE_BINANCE_ED25519_KEY_FILE: pemFile } : {}),
    };
    // the V8 flags of the deployment's launcher (deploy/tokyo/tickwire-launch.sh: a fixed 64 MB young generation,
    // LATENCY.md "GC and allocation"); TICKWIRE_W2W_SEMI_SPACE_MB=0 runs with V8's defaults, to compare
    const semi = Number(process.env['TICKWIRE_W2W_SEMI_SPACE_MB'] ?? 64);
    const v8 = semi > 0 ? [`--max-semi-space-size=${semi}`, `--min-semi-space-size=${semi}`] : [];
    const prof = process.env['TICKWIRE_W2W_CPU_PROF']
      ? ['--cpu-prof', '--cpu-prof-interval=' + (process.env['TICKWIRE_W2W_CPU_PROF_US'] ?? '1000'), '--cpu-prof-dir=' + process.env['TICKWIRE_W2W_CPU_PROF']]
      : [];
    // --- the floor first, alone (the engine not started yet): the engine adapter's streams, for the floor's symbol
    const mdUrl = `${ep.wsStreamBaseUrl.replace(/\/+$/, '')}/stream?streams=ethusdt@depth@100ms/ethusdt@bookTicker/ethusdt@aggTrade`;
    floor = spawnPinned(
      opts.clientCpu,
      ['--input-type=module', '-e', simFloorClientSource(opts.transport, mdUrl, ep.wsApiUrl, ep.restBaseUrl, opts.busyPoll === true)],
      process.env,
      tmp,
    );
    let exited = '';
    floor.once('exit', () => (exited ||= 'floor client'));

    let onOrder: ((t: number, wireIn: number) => void) | undefined;
    let quoted = false;
    let lastOrderMs = 0;
    const listener: SimBookListener = {
      onLevels: () => undefined,
      onTrade: () => undefined,
      onOrder: (_sym: string, _o: SimOrder) => {
        const t = nowNs();
        quoted = true;
        lastOrderMs = Date.now();
        const f = onOrder;
        onOrder = undefined;
        f?.(t, lastInNs);
      },
    };
    engineBook.addListener(listener);
    try {
      const quoteTimeout = opts.quoteTimeoutMs ?? 30_000;
      /** `feed()` every 20 ms until `done()` (the floor echoed a frame / the engine sent an order) */
      const feedUntil = async (feed: () => void, done: () => boolean, what: string): Promise<void> => {
        const t0 = Date.now();
        while (!done()) {
          if (exited) throw new Error(`wire2wire: the ${exited} process exited before answering`);
          if (Date.now() - t0 > quoteTimeout) throw new Error(`wire2wire: no ${what} within ${quoteTimeout} ms`);
          feed();
          await new Promise((r) => setTimeout(r, 20));
        }
      };
      const moveEngine = touchMover(engineBook);
      const moveFloor = touchMover(floorBook);
      /** one trigger on `book`: move its touch (frames go out at endBatch); a move that left the touch where it
       * was is no trigger, so it is a fault of this harness, never a trigger the answering side lost */
      const trigger = (book: MatchingBook, move: () => { bid: number; ask: number }, onFramesOut: () => void, i: number): void => {
        const before = move();
        onFramesOut();
        book.endBatch();
        if (book.bestBidPrice() === before.bid && book.bestAskPrice() === before.ask) {
          throw new Error(`wire2wire: trigger ${i} did not move ${book.instrument.symbol}'s touch (${before.bid}/${before.ask}): a harness fault`);
        }
      };
      let echoed = false;
      // the floor's books move by the same touch moves as its triggers: no other traffic reaches the books
      await feedUntil(
        () => trigger(floorBook, moveFloor, () => undefined, -1),
        () => {
          if (!echoed && !onEcho) onEcho = () => (echoed = true);
          return echoed;
        },
        'floor echo',
      );
      onEcho = undefined;
      const newHist = (): ReturnType<typeof buildHistogram> => buildHistogram(10_000_000_000, 64);
      const wide = newHist();
      // warm-up not recorded: the echo floor's rule (min(2000, N/10)), so both are timed after V8 compiled their paths
      const warm = opts.warmup ?? Math.min(2000, Math.floor(opts.triggers / 10));
      const gap = opts.gapMs ?? 2;
      const timeoutMs = opts.timeoutMs ?? 2000;
      interface Tally {
        hist: ReturnType<typeof buildHistogram>;
        lost: number;
      }
      const tally = (): Tally => ({ hist: newHist(), lost: 0 });
      /** `total` triggers, the side of each given by `sideOf(i)`; the first `skip` are not recorded */
      const run = async (
        label: string,
        total: number,
        skip: number,
        sideOf: (i: number) => 'engine' | 'floor',
        out: { engine?: Tally; floor?: Tally },
      ): Promise<number> => {
        const started = Date.now();
        let lastLog = started;
        for (let i = 0; i < total; i++) {
          if (exited) throw new Error(`wire2wire: the ${exited} process exited during the run`);
          const side = sideOf(i);
          let wireIn = 0;
          const arrived = new Promise<number>((res) => {
            const timer = setTimeout(() => {
              onOrder = undefined;
              onEcho = undefined;
              res(-1);
            }, timeoutMs);
            const done = (t: number, w: number): void => {
              clearTimeout(timer);
              wireIn = w;
              res(t);
            };
            if (side === 'engine') onOrder = done;
            else onEcho = (t) => done(t, t);
          });
          let sent = 0;
          trigger(
            side === 'engine' ? engineBook : floorBook,
            side === 'engine' ? moveEngine : moveFloor,
            () => {
              wireOutNs = 0;
              armed = true;
              sent = nowNs();
            },
            i,
          );
          armed = false;
          const t = await arrived;
          const tl = out[side]!;
          if (t < 0) {
            tl.lost++;
            log(`${label} ${opts.transport}: trigger ${i} (${side}) lost: no answer within ${timeoutMs} ms`);
          } else if (i >= skip) {
            if (side === 'engine') wide.recordValue(Math.max(0, Math.round(t - sent)));
            // both wire stamps must belong to this trigger: the frame went out, and the answer was read after it
            if (wireOutNs > 0 && wireIn > wireOutNs) tl.hist.recordValue(Math.round(wireIn - wireOutNs));
            else {
              tl.lost++;
              log(`${label} ${opts.transport}: trigger ${i} (${side}) lost: ${wireOutNs > 0 ? 'answer read before its frame went out' : 'no frame went out'}`);
            }
          }
          if (Date.now() - lastLog >= 5000) {
            lastLog = Date.now();
            log(`${label} ${opts.transport}: ${i + 1} of ${total} triggers`);
          }
          await new Promise((r) => setTimeout(r, gap));
        }
        return Date.now() - started;
      };
      const alone = tally();
      const floorCpu = cpuMeter(floor.pid);
      floorCpu.start();
      const aloneMs = await run('floor alone', warm + opts.triggers, warm, () => 'floor', { floor: alone });
      log(`floor alone ${opts.transport}: ${alone.hist.totalCount} triggers, lost ${alone.lost}`);

      if (opts.busyPoll === true) {
        // busy-poll: the floor's client would spin beside the engine on the same vCPU; it has been measured alone
        floor.removeAllListeners('exit');
        const gone = new Promise<void>((r) => floor!.once('exit', () => r()));
        floor.kill('SIGKILL');
        await gone;
      }
      // --- the engine, then (default mode) engine and floor interleaved trigger by trigger
      // TICKWIRE_W2W_V8_FLAGS: more V8 flags for the engine (e.g. --trace-deopt), whose stdout goes to
      // TICKWIRE_W2W_ENGINE_STDOUT when set (V8 traces print there)
      const extra = (process.env['TICKWIRE_W2W_V8_FLAGS'] ?? '').split(' ').filter((f) => f !== '');
      const outFile = process.env['TICKWIRE_W2W_ENGINE_STDOUT'];
      const outFd = outFile ? openSync(outFile, 'w', 0o600) : undefined;
      engine = spawnPinned(opts.clientCpu, [...v8, ...prof, ...extra, '--input-type=module', '-e', src], env, tmp, outFd);
      if (outFd !== undefined) closeSync(outFd);
      engine.once('exit', () => (exited ||= 'engine'));
      // the engine's first order: move its touch until it answers (the first touch it sees is its baseline)
      await feedUntil(
        () => trigger(engineBook, moveEngine, () => undefined, -1),
        () => quoted,
        'engine order',
      );
      // settle: the answers to those moves, and their acks, land before the first timed trigger (quiet for 500 ms)
      const settle0 = Date.now();
      while (Date.now() - lastOrderMs < 500) {
        if (Date.now() - settle0 > quoteTimeout) throw new Error(`wire2wire: the engine's orders did not settle within ${quoteTimeout} ms`);
        await new Promise((r) => setTimeout(r, 50));
      }
      const aloneCpu = floorCpu.pct();
      const eng = tally();
      const flo = tally();
      const engineCpu = cpuMeter(engine.pid);
      engineCpu.start();
      floorCpu.start();
      const interleave = opts.busyPoll !== true;
      const durationMs = interleave
        ? await run('engine+floor', 2 * (warm + opts.triggers), 2 * warm, (i) => ((i & 1) === 0 ? 'engine' : 'floor'), { engine: eng, floor: flo })
        : await run('engine', warm + opts.triggers, warm, () => 'engine', { engine: eng });
      const cpu = { engine: engineCpu.pct(), floor: floorCpu.pct() };
      const hist = { engine: eng.hist, floor: flo.hist };
      const lost = { engine: eng.lost, floor: flo.lost };
      log(`engine+floor ${opts.transport}: ${hist.engine.totalCount}+${hist.floor.totalCount} triggers, lost ${lost.engine}+${lost.floor}`);
      // graceful stop: the engine writes its exit dump of per-hop histograms into its persistence dir
      const hopsTable = await stopAndReadHops(engine, join(tmp, 'data', 'latency'));
      const kindOf = opts.transport === 'ws' ? 'WS API' : 'REST';
      return {
        engine: {
          ...(hopsTable ? { engineHops: hopsTable } : {}),
          kind: 'engine',
          client: `tickwire engine (trigger follower, ${kindOf} orders) in its own process; md frame out -> order request read, at the simulator's sockets`,
          venueInclusiveUs: percentilesUs(wide),
          cpus: null,
          latencyUs: percentilesUs(hist.engine),
          lost: lost.engine,
          durationMs,
          cpuPct: cpu.engine,
        },
        floor: !interleave
          ? null
          : {
              kind: 'floor',
              client: `bare ws client on the simulator's ETHUSDT streams, sending each frame straight back (${opts.transport === 'ws' ? 'WS API text frame' : "POST /api/v3/order over the engine's REST client"}); interleaved with the engine's triggers`,
              cpus: null,
              latencyUs: percentilesUs(hist.floor),
              lost: lost.floor,
              durationMs,
              cpuPct: cpu.floor,
            },
        floorAlone: {
          kind: 'floor',
          client: `the same bare client, measured first, alone (before the engine process started)`,
          cpus: null,
          latencyUs: percentilesUs(alone.hist),
          lost: alone.lost,
          durationMs: aloneMs,
          cpuPct: aloneCpu,
        },
      };
    } finally {
      engineBook.removeListener(listener);
    }
  } finally {
    for (const c of [engine, floor]) {
      if (c && c.exitCode === null && c.signalCode === null) {
        const done = new Promise<void>((r) => c.once('exit', () => r()));
        c.kill('SIGKILL');
        await done;
      }
    }
    await sim?.close();
    rmSync(tmp, { recursive: true, force: true });
  }
}

/** The engine side of `runSimPair` (the floor runs beside it, interleaved). */
export async function runEnginePath(opts: EngineOptions): Promise<W2wSide> {
  return (await runSimPair(opts)).engine;
}
