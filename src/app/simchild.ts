/**
 * The embedded simulator in a child process, so that its generator, matching and frame building do not share the
 * engine's event loop (in one thread they delayed the engine's frames and skipped ~20% of its 10 ms ticks).
 *
 * `spawnSimChild(opts)` starts `node` on a small module source that imports the built simulator
 * (dist/src/sim/index.js), starts it, and prints one JSON line with its endpoints (the `tickwire sim` contract,
 * `SimEndpointsJson`); it resolves with those endpoints. The child ends when:
 * - `close()` is called (its stdin is closed; SIGKILL after 5 s if it does not exit);
 * - the engine dies in any way, `kill -9` included: the child's stdin is a pipe from the engine, which the kernel
 *   closes when the engine's process ends, so the child sees end-of-file and exits (no orphan). It also checks
 *   its parent pid every second as a second line of defence.
 * The child ignores SIGINT: Ctrl-C reaches the whole foreground process group, and the engine must still cancel
 * its orders on the simulator before the simulator goes away.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { SimEndpointsJson, SimVenueName } from '../sim/index.js';

export interface SimChildOptions {
  venues: SimVenueName[];
  symbols: string[];
  seed: number;
  /** level updates per second over all books */
  rate: number;
  /** the simulator's fee table (config `sim.fees`) */
  fees?: import('../sim/core/fees.js').SimFeeOptions;
  /** the child's log level (its logs go to stderr) */
  logLevel?: string;
  /** CPU list for the child (`taskset -c`), e.g. to keep it off the engine's core */
  cpus?: string;
  /** how long to wait for the endpoints line (default 20 s) */
  startTimeoutMs?: number;
}

export interface SimChild {
  readonly pid: number;
  readonly endpoints: SimEndpointsJson;
  close(): Promise<void>;
}

/** dist/src/<rel> of this checkout (the built module), or undefined when not built. */
export function builtModule(rel: string): string | undefined {
  const here = fileURLToPath(import.meta.url);
  // compiled: dist/src/app/simchild.js -> dist/src/<rel>
  const sibling = join(dirname(here), '..', rel);
  if (here.endsWith('.js') && existsSync(sibling)) return sibling;
  let d = dirname(here);
  for (let i = 0; i < 6; i++) {
    const cand = join(d, 'dist', 'src', rel);
    if (existsSync(cand)) return cand;
    d = dirname(d);
  }
  return undefined;
}

function childSource(simJs: string, logJs: string, parentPid: number): string {
  return `
const { startSim } = await import(${JSON.stringify(pathToFileURL(simJs).href)});
const { createLogger, flushLogs } = await import(${JSON.stringify(pathToFileURL(logJs).href)});
const o = JSON.parse(process.env.TICKWIRE_SIM_CHILD_OPTS);
const log = createLogger({ level: o.logLevel ?? 'info', name: 'tickwire' });
process.on('SIGINT', () => {});
const sim = await startSim({ venues: o.venues, symbols: o.symbols, seed: o.seed, rate: o.rate, fees: o.fees, log });
for (const [v, msg] of Object.entries(sim.venueErrors)) log.warn({ venue: v, err: msg }, 'simulator venue failed to start');
process.stdout.write(JSON.stringify(sim.endpoints) + '\\n');
let closing = false;
const stop = () => {
  if (closing) return;
  closing = true;
  const hard = setTimeout(() => process.exit(0), 3000);
  sim.close().catch(() => undefined).then(() => { clearTimeout(hard); try { flushLogs(); } catch {} process.exit(0); });
};
process.stdin.on('end', stop);
process.stdin.on('error', stop);
process.stdin.resume();
process.on('SIGTERM', stop);
setInterval(() => { if (process.ppid !== ${parentPid}) stop(); }, 1000);
`;
}

export async function spawnSimChild(o: SimChildOptions): Promise<SimChild> {
  const simJs = builtModule(join('sim', 'index.js'));
  const logJs = builtModule(join('util', 'log.js'));
  if (!simJs || !logJs) throw new Error('simulator child process needs the build: run `npm run build` first');
  const env = {
    ...process.env,
    TICKWIRE_SIM_CHILD_OPTS: JSON.stringify({ venues: o.venues, symbols: o.symbols, seed: o.seed, rate: o.rate, fees: o.fees, logLevel: o.logLevel }),
  };
  const args = ['--input-type=module', '-e', childSource(simJs, logJs, process.pid)];
  const stdio: ['pipe', 'pipe', 'inherit'] = ['pipe', 'pipe', 'inherit'];
  const child: ChildProcess =
    o.cpus !== undefined ? spawn('taskset', ['-c', o.cpus, process.execPath, ...args], { env, stdio }) : spawn(process.execPath, args, { env, stdio });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  let exitedFlag = false;
  void exited.then(() => (exitedFlag = true));
  try {
    const endpoints = await new Promise<SimEndpointsJson>((resolve, reject) => {
      let buf = '';
      const timer = setTimeout(
        () => reject(new Error(`simulator child did not print its endpoints within ${o.startTimeoutMs ?? 20_000} ms`)),
        o.startTimeoutMs ?? 20_000,
      );
      child.stdout!.setEncoding('utf8');
      child.stdout!.on('data', (chunk: string) => {
        buf += chunk;
        const nl = buf.indexOf('\n');
        if (nl < 0) return;
        clearTimeout(timer);
        try {
          resolve(JSON.parse(buf.slice(0, nl)) as SimEndpointsJson);
        } catch (e) {
          reject(new Error(`simulator child printed a bad endpoints line: ${(e as Error).message}`));
        }
      });
      child.once('exit', (code, sig) => {
        clearTimeout(timer);
        reject(new Error(`simulator child exited before it was ready (code ${code}, signal ${sig})`));
      });
      child.once('error', (e) => {
        clearTimeout(timer);
        reject(e);
      });
    });
    child.stdout!.resume(); // nothing more is expected on stdout; keep the pipe drained
    return {
      pid: child.pid ?? -1,
      endpoints,
      async close() {
        if (exitedFlag) return;
        child.stdin?.end();
        const t = setTimeout(() => child.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(t);
      },
    };
  } catch (e) {
    if (!exitedFlag) {
      child.kill('SIGKILL');
      await exited;
    }
    throw e;
  }
}
