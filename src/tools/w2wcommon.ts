/**
 * What the wire-to-wire harness (wire2wire.ts) and its engine path (w2wengine.ts) share: the result types, the
 * percentile summary, and the bare clients' module source (the floors). Its own module so that neither imports the
 * other at load time.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createRequire } from 'node:module';
import type * as hdr from 'hdr-histogram-js';

const require = createRequire(import.meta.url);

export type W2wTransport = 'ws' | 'rest';
/** exchange-side server: uWebSockets.js (what the simulator uses) or the `ws` package on node:http */
export type W2wServer = 'uws' | 'ws';

export interface Percentiles {
  count: number;
  /** µs */
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
  mean: number;
}

export interface W2wSide {
  kind: 'floor' | 'engine';
  /** what answered the triggers */
  client: string;
  /** affinity of the answering process (Cpus_allowed_list), if known */
  cpus: string | null;
  latencyUs: Percentiles;
  lost: number;
  durationMs: number;
  /** CPU time of the answering process over its measured window, % of one core (null: not readable) */
  cpuPct?: number | null;
  /** engine only: the engine's own per-hop percentile table over the run (from its exit dump) */
  engineHops?: string;
  /** engine only: the wider span from before the venue builds the trigger's frames to the venue's order event
   * (after it parsed, authenticated and matched the order): adds the simulator's own work on both ends */
  venueInclusiveUs?: Percentiles;
}

export function percentilesUs(h: hdr.Histogram): Percentiles {
  const us = (ns: number): number => Math.round(ns / 10) / 100;
  const at = (p: number): number => us(Math.min(h.getValueAtPercentile(p), h.maxValue));
  return {
    count: h.totalCount,
    p50: at(50),
    p90: at(90),
    p99: at(99),
    p999: at(99.9),
    max: us(h.maxValue),
    mean: us(h.mean),
  };
}

/**
 * The REST client a floor uses: the engine's own (src/net/rest.ts: one undici Pool, the request written on the
 * socket inside the call) when the build is there, so that the floor does not pay undici's deferred write that the
 * engine avoids; else a plain undici `Pool.request`. Returns ES module source defining `post(path, body, ctype)`.
 */
export function floorRestSource(httpUrl: string): string {
  const built = builtModule(join('net', 'rest.js'));
  if (built) {
    return `
const { RestClient } = await import(${JSON.stringify(pathToFileURL(built).href)});
const rest = new RestClient(${JSON.stringify(httpUrl)}, { connections: 1 });
const post = (path, body, ctype) => rest.request('POST', path, { body, headers: { 'content-type': ctype } });
`;
  }
  const undiciPath = require.resolve('undici');
  return `
const { Pool } = require(${JSON.stringify(undiciPath)});
const pool = new Pool(${JSON.stringify(httpUrl)}, { connections: 1, pipelining: 1, keepAliveTimeout: 60000 });
const post = (path, body, ctype) => pool.request({ path, method: 'POST', headers: { 'content-type': ctype }, body }).then((r) => r.body.dump());
`;
}

/** dist/src/<rel> of this checkout's build, or undefined. */
export function builtModule(rel: string): string | undefined {
  let d = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    const cand = join(d, 'dist', 'src', rel);
    if (existsSync(cand)) return cand;
    if (d.endsWith(join('dist', 'src', 'tools')) && existsSync(join(d, '..', rel))) return join(d, '..', rel);
    d = dirname(d);
  }
  return undefined;
}

/**
 * The start of every bare client's ES module source (run with `node --input-type=module -e`): `WebSocket` (the ws
 * package), `transport`, and for REST `post(path, body, contentType)` (floorRestSource).
 */
export function floorPrelude(transport: W2wTransport, httpUrl: string, busyPoll = false): string {
  const wsPath = require.resolve('ws');
  return `
import { createRequire } from 'node:module';
const require = createRequire(${JSON.stringify(wsPath)});
const WebSocket = require(${JSON.stringify(wsPath)});
const transport = ${JSON.stringify(transport)};
${transport === 'rest' ? floorRestSource(httpUrl) : ''}${busyPoll ? BUSY_POLL_SOURCE : ''}`;
}

/** A bare client's busy-poll: the same as the engine's loop.mode busy (re-armed with setImmediate, never sleeps). */
const BUSY_POLL_SOURCE = `
const spin = () => { setImmediate(spin); };
spin();
`;

/** Clock ticks per second of /proc/<pid>/stat (USER_HZ: 100 on every Linux this runs on). */
const USER_HZ = 100;

/** CPU time (user + system) a process has used so far, ms; NaN when /proc cannot tell (not Linux, gone). */
export function cpuTimeMs(pid: number | undefined): number {
  if (pid === undefined) return Number.NaN;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // fields after the command name (which may hold spaces) in parentheses: state is field 3, utime 14, stime 15
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(f[11]) + Number(f[12])) * 1000) / USER_HZ;
  } catch {
    return Number.NaN;
  }
}

/** Measures one process's CPU use over a window: `start()` then `pct()` = % of one core since start (null if unknown). */
export function cpuMeter(pid: number | undefined): { start(): void; pct(): number | null } {
  let c0 = Number.NaN;
  let t0 = 0;
  return {
    start() {
      c0 = cpuTimeMs(pid);
      t0 = Date.now();
    },
    pct() {
      const c = cpuTimeMs(pid) - c0;
      const wall = Date.now() - t0;
      return Number.isFinite(c) && wall > 0 ? Math.round((c / wall) * 100) : null;
    },
  };
}
