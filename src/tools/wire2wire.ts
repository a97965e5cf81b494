/**
 * `tickwire wire2wire --triggers N --transport ws|rest|both --json FILE`: wire-to-wire latency harness.
 *
 * The exchange side (this process, a uWebSockets.js server like the simulator's) sends a trigger frame over a
 * market-data WebSocket and timestamps it (`nowNs()` right before the send); it timestamps again when the order
 * that answers it arrives (ws: a frame on the same connection; rest: a POST /order on a keep-alive HTTP
 * connection, at the end of its body). Triggers are sent one at a time (closed loop), so each arrival belongs to
 * the trigger in flight; its sequence number is checked.
 *
 * Floor: a bare client in its own Node process (the `ws` client; for REST the engine's REST client) that sends the
 * trigger frame straight back over the order transport: the least any Node client can do on this machine.
 * Engine (default with the build; `--no-engine` skips it; src/tools/w2wengine.ts): the real engine in its own
 * process against the simulator in this process, interleaved with a bare client echoing the same simulator's
 * frames (the same-server floor), both timed at the simulator's sockets (`SimWireTap`). Without it the JSON says
 * `engine: null` with a note.
 *
 * Pinning: run this process under `taskset -c A` and give `--client-cpu B` (the client is spawned under
 * `taskset -c B`); the JSON records both affinities. On this 2-vCPU guest a cross-vCPU wake-up costs ~50 µs
 * (see /work/shared/perf-notes.md), so compare only like with like.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket as WsSocket } from 'ws';
import { loadUws, uws, type WebSocket as UwsWebSocket } from '../util/uws.js';
import { closeListen, listen, type Listening } from '../sim/core/http.js';
import { nowNs } from '../util/clock.js';
import { buildHistogram } from '../util/hops.js';

export { builtModule, floorPrelude, floorRestSource, percentilesUs, type Percentiles, type W2wServer, type W2wSide, type W2wTransport } from './w2wcommon.js';
import { cpuMeter, floorPrelude, percentilesUs, type Percentiles, type W2wServer, type W2wSide, type W2wTransport } from './w2wcommon.js';

export interface W2wResult {
  transport: W2wTransport;
  server: W2wServer;
  /** the uWS build behind `uws` (and the simulator): a native package, or the compat server on node:http + ws */
  uwsSource: string;
  triggers: number;
  frameBytes: number;
  /** affinity of the exchange-side (this) process */
  exchangeCpus: string | null;
  floor: W2wSide;
  /** the same bare echo against the simulator (same server, trigger and wire stamps as the engine path),
   * interleaved trigger by trigger with the engine: the goal's reference */
  simFloor: W2wSide | null;
  /** that floor measured alone first (the engine process not started yet) */
  simFloorAlone: W2wSide | null;
  engine: W2wSide | null;
  engineNote?: string;
  /** engine / floor, when both exist */
  ratio: { p50: number; p99: number } | null;
  /** engine / simFloor (like with like: both answer the simulator's frames and are read by its sockets) */
  simRatio: { p50: number; p99: number } | null;
  /** engine / simFloorAlone */
  simAloneRatio: { p50: number; p99: number } | null;
  /** the engine's own share measured from outside: engine - simFloorAlone, µs */
  engineOverAlone: { p50: number; p99: number } | null;
  /** the simulator's own share: simFloorAlone - the echo floor, µs (not the engine's) */
  simShare: { p50: number; p99: number } | null;
  /** every answering process busy-polled */
  busyPoll: boolean;
  goal: string;
}

export interface W2wOptions {
  triggers: number;
  transport: W2wTransport;
  /** exchange-side server (default uws) */
  server?: W2wServer;
  /** CPU for the answering client process (spawned under taskset) */
  clientCpu?: number;
  /** warm-up triggers not recorded (default min(2000, triggers/10)) */
  warmup?: number;
  /** per-trigger timeout, ms (default 1000): a lost trigger is counted and the loop goes on */
  timeoutMs?: number;
  /** busy-poll: every answering process (floors and engine) never sleeps (the engine's loop.mode busy) */
  busyPoll?: boolean;
  log?: (line: string) => void;
}

function cpusOf(pid: number | 'self'): string | null {
  try {
    const m = /Cpus_allowed_list:\s*(\S+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m?.[1] ?? null;
  } catch {
    return null;
  }
}

/** A ~150-byte bookTicker-like frame; the sequence number sits at a fixed offset (bytes 6..15). */
export function triggerFrame(seq: number): string {
  return `{"s":"${String(seq).padStart(10, '0')}","stream":"btcusdt@bookTicker","data":{"u":400900217,"s":"BTCUSDT","b":"97000.10","B":"31.21000000","a":"97000.20","A":"40.66000000"}}`;
}

function seqOf(buf: Uint8Array): number {
  let v = 0;
  for (let i = 6; i < 16; i++) {
    const c = buf[i]! - 48;
    if (c < 0 || c > 9) return -1;
    v = v * 10 + c;
  }
  return v;
}

/** The bare client of the echo floor. Echoes each trigger. */
function floorClientSource(transport: W2wTransport, wsUrl: string, httpUrl: string, busyPoll: boolean): string {
  return `${floorPrelude(transport, httpUrl, busyPoll)}
const ws = new WebSocket(${JSON.stringify(wsUrl)}, { perMessageDeflate: false });
ws.on('open', () => { ws._socket.setNoDelay(true); });
ws.on('message', (data) => {
  if (transport === 'ws') { ws.send(data, { binary: false }); return; }
  post('/order', data, 'application/json').catch((e) => { process.stderr.write('floor client: ' + e.message + '\\n'); });
});
ws.on('close', () => process.exit(0));
ws.on('error', (e) => { process.stderr.write('floor client ws: ' + e.message + '\\n'); process.exit(1); });
`;
}

interface ExchangeSide {
  port: number;
  close(): void;
  /** resolves when a client connected to /md */
  connected: Promise<void>;
  send(frame: string): void;
  /** called with (seq, arrival ns) for each answer */
  onAnswer: ((seq: number, ns: number) => void) | undefined;
}

async function startExchangeSide(): Promise<ExchangeSide> {
  const u = uws();
  let client: UwsWebSocket<unknown> | undefined;
  let resolveConnected: () => void = () => undefined;
  const connected = new Promise<void>((r) => (resolveConnected = r));
  let listening: Listening | undefined;
  const side: ExchangeSide = {
    port: 0,
    connected,
    onAnswer: undefined,
    send(frame: string) {
      client?.send(frame, false);
    },
    close() {
      try {
        client?.end(1000, 'done');
      } catch {
        /* already closed */
      }
      closeListen(listening);
    },
  };
  const app = u
    .App()
    .ws('/md', {
      compression: u.DISABLED,
      maxPayloadLength: 1 << 16,
      idleTimeout: 0,
      open: (ws) => {
        client = ws;
        resolveConnected();
      },
      message: (_ws, msg) => {
        const t = nowNs();
        side.onAnswer?.(seqOf(new Uint8Array(msg)), t);
      },
      close: () => {
        client = undefined;
      },
    })
    .post('/order', (res) => {
      let aborted = false;
      res.onAborted(() => {
        aborted = true;
      });
      let first: Buffer | undefined;
      res.onData((chunk, isLast) => {
        if (!first) first = Buffer.from(chunk.slice(0, 16));
        if (!isLast) return;
        const t = nowNs();
        side.onAnswer?.(seqOf(first), t);
        if (!aborted) res.cork(() => res.writeHeader('content-type', 'application/json').end('{"status":"NEW"}'));
      });
    });
  listening = await listen(app, '127.0.0.1', 0);
  side.port = listening.port;
  return side;
}

/** The same exchange side on the `ws` package over node:http (for the uWS vs ws comparison). */
async function startExchangeSideWs(): Promise<ExchangeSide> {
  let client: WsSocket | undefined;
  let resolveConnected: () => void = () => undefined;
  const connected = new Promise<void>((r) => (resolveConnected = r));
  const http = createServer((req, res) => {
    if (req.method !== 'POST' || req.url !== '/order') {
      res.writeHead(404).end();
      return;
    }
    let first: Buffer | undefined;
    req.on('data', (chunk: Buffer) => {
      if (!first) first = chunk.subarray(0, 16);
    });
    req.on('end', () => {
      const t = nowNs();
      if (first) side.onAnswer?.(seqOf(first), t);
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"NEW"}');
    });
  });
  http.keepAliveTimeout = 60_000;
  const wss = new WebSocketServer({ server: http, path: '/md', perMessageDeflate: false });
  wss.on('connection', (sock) => {
    client = sock;
    (sock as unknown as { _socket?: { setNoDelay(v: boolean): void } })._socket?.setNoDelay(true);
    sock.on('message', (data: Buffer) => {
      const t = nowNs();
      side.onAnswer?.(seqOf(data), t);
    });
    resolveConnected();
  });
  const side: ExchangeSide = {
    port: 0,
    connected,
    onAnswer: undefined,
    send(frame: string) {
      client?.send(frame);
    },
    close() {
      client?.terminate();
      wss.close();
      http.closeAllConnections();
      http.close();
    },
  };
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
  side.port = (http.address() as AddressInfo).port;
  return side;
}

/** Run one floor measurement (bare client) over one transport. */
export async function runFloor(opts: W2wOptions): Promise<W2wSide> {
  const log = opts.log ?? (() => undefined);
  const ex = opts.server === 'ws' ? await startExchangeSideWs() : await startExchangeSide();
  const port = ex.port;
  const src = floorClientSource(opts.transport, `ws://127.0.0.1:${port}/md`, `http://127.0.0.1:${port}`, opts.busyPoll === true);
  const nodeArgs = ['--input-type=module', '-e', src];
  const child: ChildProcess =
    opts.clientCpu !== undefined
      ? spawn('taskset', ['-c', String(opts.clientCpu), process.execPath, ...nodeArgs], { stdio: ['ignore', 'inherit', 'inherit'] })
      : spawn(process.execPath, nodeArgs, { stdio: ['ignore', 'inherit', 'inherit'] });
  const hist = buildHistogram(10_000_000_000, 64);
  let lost = 0;
  const t0 = Date.now();
  try {
    await Promise.race([ex.connected, new Promise((_, rej) => setTimeout(() => rej(new Error('floor client did not connect within 10 s')), 10_000).unref())]);
    const cpus = child.pid !== undefined ? cpusOf(child.pid) : null;
    const warm = opts.warmup ?? Math.min(2000, Math.floor(opts.triggers / 10));
    const total = warm + opts.triggers;
    const timeoutMs = opts.timeoutMs ?? 1000;
    const cpu = cpuMeter(child.pid);
    cpu.start();
    await new Promise<void>((resolve) => {
      let seq = 0;
      let sentNs = 0;
      let timer: NodeJS.Timeout | undefined;
      const next = (): void => {
        if (seq >= total) {
          resolve();
          return;
        }
        seq++;
        const frame = triggerFrame(seq);
        timer = setTimeout(() => {
          lost++;
          next();
        }, timeoutMs);
        sentNs = nowNs();
        ex.send(frame);
      };
      ex.onAnswer = (s, t) => {
        if (s !== seq) return; // late answer of a timed-out trigger
        if (timer) clearTimeout(timer);
        if (seq > warm) hist.recordValue(Math.max(0, Math.round(t - sentNs)));
        setImmediate(next);
      };
      next();
    });
    log(`floor ${opts.transport} (${opts.server ?? 'uws'} server): ${hist.totalCount} triggers, lost ${lost}`);
    return {
      kind: 'floor',
      client:
        opts.transport === 'ws'
          ? 'ws client echoing each frame on the same WebSocket'
          : "ws client POSTing each frame to /order over the engine's REST client (src/net/rest.ts: one undici Pool, keep-alive, written inside the call)",
      cpus,
      latencyUs: percentilesUs(hist),
      lost,
      durationMs: Date.now() - t0,
      cpuPct: cpu.pct(),
    };
  } finally {
    ex.onAnswer = undefined;
    ex.close();
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    setTimeout(() => child.kill('SIGKILL'), 2000).unref();
    await exited;
  }
}

export const ENGINE_NOT_RUN = 'engine path not run (--no-engine, or no build: npm run build); see LATENCY.md, "Wire to wire"';
export const ENGINE_METHOD =
  'engine: tickwire run (trigger-follower strategy: one IOC order per touch move) in its own process against the simulator in this ' +
  'process (venue order-rate limits lifted), interleaved trigger by trigger with a bare client (the same-server floor, ETHUSDT) pinned ' +
  "alike; both timed at the simulator's sockets: md frame handed to the socket -> answering request read (before parsing). " +
  "The echo floor above uses a bare uWS echo server instead of the simulator: it has none of the venue's per-frame work";

/** a - b at p50 and p99, µs (two decimals), when both were measured */
function diffOf(a: Percentiles | undefined, b: Percentiles | undefined): { p50: number; p99: number } | null {
  return a && b && a.count > 0 && b.count > 0 ? { p50: Math.round((a.p50 - b.p50) * 100) / 100, p99: Math.round((a.p99 - b.p99) * 100) / 100 } : null;
}

/** The in-situ goals (issue 14), against the same client measured alone on the same simulator. */
export const GOAL =
  'engine - floor alone at p50: <= 10 µs with the engine on its own vCPU, <= 20 µs with everything on one vCPU; engine p99 <= 1.3x the floor alone';

export async function runWire2Wire(opts: W2wOptions & { engineTriggers?: number; engineGapMs?: number }): Promise<W2wResult> {
  const floor = await runFloor(opts);
  let engine: W2wSide | null = null;
  let simFloor: W2wSide | null = null;
  let simFloorAlone: W2wSide | null = null;
  let engineNote: string | undefined = ENGINE_NOT_RUN;
  if (opts.engineTriggers !== undefined && opts.engineTriggers > 0) {
    const { runSimPair } = await import('./w2wengine.js');
    const pair = await runSimPair({
      triggers: opts.engineTriggers,
      transport: opts.transport,
      ...(opts.engineGapMs !== undefined ? { gapMs: opts.engineGapMs } : {}),
      ...(opts.clientCpu !== undefined ? { clientCpu: opts.clientCpu } : {}),
      ...(opts.busyPoll ? { busyPoll: true } : {}),
      ...(opts.log ? { log: opts.log } : {}),
    });
    engine = pair.engine;
    simFloor = pair.floor;
    simFloorAlone = pair.floorAlone;
    engineNote = ENGINE_METHOD;
  }
  const f = floor.latencyUs;
  const e = engine?.latencyUs;
  const sf = simFloor?.latencyUs;
  const ratioOf = (a: Percentiles | undefined, b: Percentiles | undefined): { p50: number; p99: number } | null =>
    a && b && a.count > 0 && b.p50 > 0 && b.p99 > 0 ? { p50: Math.round((a.p50 / b.p50) * 100) / 100, p99: Math.round((a.p99 / b.p99) * 100) / 100 } : null;
  return {
    transport: opts.transport,
    server: opts.server ?? 'uws',
    uwsSource: loadUws().source,
    triggers: opts.triggers,
    frameBytes: triggerFrame(1).length,
    exchangeCpus: cpusOf('self'),
    floor,
    simFloor,
    simFloorAlone,
    engine,
    engineNote,
    ratio: ratioOf(e, f),
    simRatio: ratioOf(e, sf),
    simAloneRatio: ratioOf(e, simFloorAlone?.latencyUs),
    engineOverAlone: diffOf(e, simFloorAlone?.latencyUs),
    simShare: diffOf(simFloorAlone?.latencyUs, f),
    busyPoll: opts.busyPoll === true,
    goal: GOAL,
  };
}

const HELP = `usage: tickwire wire2wire [--triggers N] [--transport ws|rest|both] [--json FILE] [--client-cpu N] [--no-engine] [--server uws|ws|both]
                          [--busy-poll]

Engine and floor side by side, in µs (p50/p90/p99/p99.9/max), per transport:
  - the engine (tickwire run, trigger-follower strategy: one IOC per touch move, in its own process) against the
    embedded simulator, interleaved trigger by trigger with a bare client echoing the same simulator's frames over
    the same order transport (the same-server floor: the goal's reference), both timed at the simulator's sockets;
    the same floor measured alone first;
  - the echo floor: a bare client echoing trigger frames from a bare uWS server (what Node can do at all).
Pin with: taskset -c A npx tickwire wire2wire ... --client-cpu B   (LATENCY.md, "Wire to wire")

  --triggers N      recorded triggers (default 100000; plus a warm-up of min(2000, N/10))
  --transport T     ws, rest or both (default ws)
  --server S        exchange-side server: uws (uWebSockets.js, as the simulator; default), ws (the ws package on
                    node:http) or both, for the uWS vs ws comparison
  --engine          run the engine path (the default whenever the build is there; needs npm run build)
  --no-engine       the echo floor only
  --engine-triggers N   engine triggers (default: --triggers)
  --engine-gap-ms MS    pause after each engine answer (default 2: the order's ack and stream events land first)
  --json FILE       also write the results as JSON
  --client-cpu N    run the answering client under taskset -c N
  --busy-poll       every answering process never sleeps: the engine with loop.mode busy, the floors' bare clients
                    with the same setImmediate poll (floors always run in the engine's mode); CPU % is printed
`;

const pctLine = (label: string, p: Percentiles, lost: number, cpuPct?: number | null): string =>
  `     ${label} n=${p.count} p50 ${p.p50} µs  p90 ${p.p90}  p99 ${p.p99}  p99.9 ${p.p999}  max ${p.max}  lost ${lost}` +
  (cpuPct !== undefined && cpuPct !== null ? `  cpu ${cpuPct}%` : '') +
  '\n';

/** One transport's result as printed: the floors, the engine, the goal lines and the engine's own hops. */
export function formatResult(r: W2wResult): string {
  const srv = r.server === 'uws' ? `uws server [${r.uwsSource}]` : `${r.server} server`;
  let out =
    `${r.transport.padEnd(4)} floor, ${srv}  (${r.floor.client}; exchange cpus ${r.exchangeCpus ?? '?'}, client cpus ${r.floor.cpus ?? '?'}; ` +
    `${r.busyPoll ? 'busy-poll: every answering process never sleeps' : 'default: answering processes sleep in epoll'})\n` +
    pctLine('echo floor', r.floor.latencyUs, r.floor.lost, r.floor.cpuPct);
  if (!r.engine) return out + `     engine: not run (${r.engineNote ?? ''})\n`;
  const e = r.engine;
  out += pctLine('engine    ', e.latencyUs, e.lost, e.cpuPct);
  if (r.simFloor) out += pctLine('floor against the simulator, interleaved', r.simFloor.latencyUs, r.simFloor.lost, r.simFloor.cpuPct);
  if (r.simFloorAlone) out += pctLine('floor against the simulator, alone      ', r.simFloorAlone.latencyUs, r.simFloorAlone.lost, r.simFloorAlone.cpuPct);
  if (r.engineOverAlone)
    out +=
      `     engine - floor alone:   p50 ${r.engineOverAlone.p50} µs  p99 ${r.engineOverAlone.p99} µs;  engine/floor alone p99 ${r.simAloneRatio?.p99 ?? '?'}x\n` +
      `       (goal: p50 <= 10 µs on its own vCPU, <= 20 µs on one vCPU; p99 <= 1.3x)\n`;
  if (r.simShare) out += `     the simulator's own share (floor alone - echo floor): p50 ${r.simShare.p50} µs  p99 ${r.simShare.p99} µs (not the engine's)\n`;
  if (r.simFloor) out += `     engine/floor (interleaved, same server): p50 ${r.simRatio?.p50 ?? '?'}x  p99 ${r.simRatio?.p99 ?? '?'}x\n`;
  out += `     engine/echo floor (bare uWS echo server): p50 ${r.ratio?.p50 ?? '?'}x  p99 ${r.ratio?.p99 ?? '?'}x\n`;
  if (e.venueInclusiveUs)
    out += `     incl. the simulator's own work (frames built -> order matched): p50 ${e.venueInclusiveUs.p50} µs  p99 ${e.venueInclusiveUs.p99}\n`;
  if (e.engineHops) out += `     the engine's own hops over the run:\n${e.engineHops.replace(/^/gm, '       ')}\n`;
  return out;
}

export async function main(argv: string[]): Promise<number> {
  const val = (n: string): string | undefined => {
    const i = argv.indexOf(n);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(HELP);
    return 0;
  }
  const triggers = Number(val('--triggers') ?? 100_000);
  const t = val('--transport') ?? 'ws';
  if (!Number.isInteger(triggers) || triggers < 1) {
    process.stderr.write('tickwire wire2wire: --triggers must be a positive integer\n');
    return 2;
  }
  if (t !== 'ws' && t !== 'rest' && t !== 'both') {
    process.stderr.write('tickwire wire2wire: --transport must be ws, rest or both\n');
    return 2;
  }
  const sv = val('--server') ?? 'uws';
  if (sv !== 'uws' && sv !== 'ws' && sv !== 'both') {
    process.stderr.write('tickwire wire2wire: --server must be uws, ws or both\n');
    return 2;
  }
  const servers: W2wServer[] = sv === 'both' ? ['uws', 'ws'] : [sv];
  const cpuArg = val('--client-cpu');
  const clientCpu = cpuArg === undefined ? undefined : Number(cpuArg);
  if (clientCpu !== undefined && !(Number.isInteger(clientCpu) && clientCpu >= 0)) {
    process.stderr.write('tickwire wire2wire: --client-cpu must be a CPU number (0, 1, ...)\n');
    return 2;
  }
  // the engine path runs by default (the contract: one command writes engine and floor side by side);
  // --no-engine skips it; --engine insists on it (an error without the build)
  const { builtRunModule } = await import('./w2wengine.js');
  const withEngine = !argv.includes('--no-engine') && (argv.includes('--engine') || builtRunModule() !== undefined);
  if (argv.includes('--engine') && builtRunModule() === undefined) {
    process.stderr.write('tickwire wire2wire: --engine needs the build: run npm run build first\n');
    return 2;
  }
  const busyPoll = argv.includes('--busy-poll');
  const results: W2wResult[] = [];
  const transports: W2wTransport[] = t === 'both' ? ['ws', 'rest'] : [t];
  for (const server of servers)
    for (const transport of transports) {
      const engineTriggers = withEngine && server === servers[0] ? Number(val('--engine-triggers') ?? triggers) : undefined;
      const gap = val('--engine-gap-ms');
      const r = await runWire2Wire({
        triggers,
        transport,
        server,
        ...(clientCpu !== undefined ? { clientCpu } : {}),
        ...(busyPoll ? { busyPoll } : {}),
        ...(engineTriggers !== undefined ? { engineTriggers } : {}),
        ...(gap !== undefined ? { engineGapMs: Number(gap) } : {}),
        log: (l) => process.stderr.write(l + '\n'),
      });
      results.push(r);
      process.stdout.write(formatResult(r));
    }
  const file = val('--json');
  if (file) writeFileSync(file, JSON.stringify(results.length === 1 ? results[0] : results, null, 1) + '\n');
  return results.some((r) => r.floor.latencyUs.count === 0) ? 1 : 0;
}
