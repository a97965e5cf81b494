/**
 * Sustained-load check of the market-data path (issue 3 "Proof"): a simulator pushes book updates at
 * `--rate` level updates per second (default 100,000) over loopback; the four adapters (Binance spot, USD-M,
 * Bybit linear, spot) keep their books; at the end every book must be valid with no gap, and the frame
 * receive -> BotState written latency is reported from HDR histograms (p50/p99/p99.9), per venue.
 *
 *   npm run build && node dist/src/tools/mdload.js [--rate 100000] [--duration 20] [--symbols BTCUSDT,ETHUSDT]
 *        [--depth-interval 0] [--in-process] [--taskset-sim 1]
 *
 * By default the simulator runs in its own process (`tickwire sim`), as in production where the exchange is
 * another machine; --in-process shares one event loop (and one core) between both sides.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { BotState, FLAG_VALID } from '../model/botstate.js';
import { VENUE_INDEX, type VenueId } from '../model/types.js';
import { Hop, HopRecorder } from '../util/hops.js';
import { VENUE_DRIVERS, type MdAdapter } from '../exchange/registry.js';
import { accessFromSim } from '../exchange/endpoints.js';
import type { SimVenueEndpoints } from '../sim/core/types.js';

interface Endpoints {
  binanceSpot?: SimVenueEndpoints;
  binanceUsdm?: SimVenueEndpoints;
  bybit?: SimVenueEndpoints;
}

function arg(argv: string[], name: string): string | undefined {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
}

async function spawnSim(args: string[], cpu?: string): Promise<{ child: ChildProcess; endpoints: Endpoints }> {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const cli = path.resolve(here, '../cli/tickwire.js');
  const cmd = cpu !== undefined ? 'taskset' : process.execPath;
  const full = cpu !== undefined ? ['-c', cpu, process.execPath, cli, 'sim', ...args] : [cli, 'sim', ...args];
  const child = spawn(cmd, full, { stdio: ['ignore', 'pipe', 'inherit'] });
  const rl = createInterface({ input: child.stdout! });
  const line = await new Promise<string>((resolve, reject) => {
    rl.once('line', resolve);
    child.once('exit', (c) => reject(new Error(`tickwire sim exited with ${String(c)}`)));
  });
  return { child, endpoints: JSON.parse(line) as Endpoints };
}

export async function main(argv: string[]): Promise<number> {
  const rate = Number(arg(argv, '--rate') ?? 100_000);
  const durationS = Number(arg(argv, '--duration') ?? 20);
  const symbols = (arg(argv, '--symbols') ?? 'BTCUSDT,ETHUSDT').split(',');
  const depthInterval = arg(argv, '--depth-interval') ?? '0';
  let child: ChildProcess | undefined;
  let closeSim: (() => Promise<void>) | undefined;
  let ep: Endpoints;
  if (argv.includes('--in-process')) {
    const { startSim } = await import('../sim/index.js');
    const sim = await startSim({ rate, symbols, depthIntervalMs: Number(depthInterval) });
    ep = sim.endpoints;
    closeSim = () => sim.close();
  } else {
    const s = await spawnSim(['--rate', String(rate), '--symbols', symbols.join(','), '--depth-interval', depthInterval], arg(argv, '--taskset-sim'));
    child = s.child;
    ep = s.endpoints;
  }
  const hops = new HopRecorder();
  const n = symbols.length;
  const state = BotState.create(4 * n);
  const mds: Array<{ venue: VenueId; md: MdAdapter }> = [];
  const access = accessFromSim({ endpoints: ep });
  // slots: n per market, in this order
  for (const [k, venue] of (['binanceSpot', 'binanceUsdm', 'bybitLinear', 'bybitSpot'] as const).entries()) {
    const a = access[venue];
    if (!a) continue;
    const d = VENUE_DRIVERS[venue];
    mds.push({ venue, md: d.createMd(a, await d.fetchInstruments(a, symbols, k * n), { state, hops }) });
  }
  await Promise.all(mds.map((m) => m.md.start()));
  const t0 = Date.now();
  await new Promise((r) => setTimeout(r, durationS * 1000));
  const elapsed = (Date.now() - t0) / 1000;
  let ok = true;
  const rows: string[] = [];
  const q = (venue: VenueId, hop: Hop, p: number) => {
    const h = hops.get(hop, VENUE_INDEX[venue]);
    return h && h.totalCount > 0 ? (h.getValueAtPercentile(p) / 1000).toFixed(1) : '-';
  };
  rows.push('venue          frames/s  applied  gaps resyncs crossed errors valid | recv->state us p50 / p99 / p99.9 | parse p50 | apply p50');
  for (const { venue, md } of mds) {
    const c = md.counters;
    const valid = md.feeds.every((f) => (state.flags(f.slot) & FLAG_VALID) !== 0);
    if (!valid || c.gaps > 0 || c.crossed > 0 || c.totalParseErrors() > 0) ok = false;
    rows.push(
      `${venue.padEnd(14)} ${(c.frames / elapsed).toFixed(0).padStart(8)} ${String(c.applied).padStart(8)} ${String(c.gaps).padStart(5)} ${String(c.resyncs).padStart(7)} ` +
        `${String(c.crossed).padStart(7)} ${String(c.totalParseErrors()).padStart(6)} ${String(valid).padStart(5)} | ` +
        `${q(venue, Hop.RecvToState, 50)} / ${q(venue, Hop.RecvToState, 99)} / ${q(venue, Hop.RecvToState, 99.9)} | ${q(venue, Hop.Parse, 50)} | ${q(venue, Hop.Apply, 50)}`,
    );
  }
  process.stdout.write(
    `md loadtest: rate ${rate} level updates/s, ${symbols.length} symbols x ${mds.length} markets, ${elapsed.toFixed(1)} s, sim ${child ? 'separate process' : 'in process'}\n`,
  );
  process.stdout.write(rows.join('\n') + '\n');
  await Promise.all(mds.map((m) => m.md.stop()));
  if (closeSim) await closeSim();
  if (child) {
    child.kill('SIGTERM');
    await new Promise((r) => child!.once('exit', r));
  }
  process.stdout.write(ok ? 'OK: every book valid, no gap, no crossed book, no parse error\n' : 'FAIL: see the table\n');
  return ok ? 0 : 1;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  main(process.argv.slice(2)).then(
    (c) => process.exit(c),
    (e: unknown) => {
      process.stderr.write(`md loadtest: ${e instanceof Error ? e.message : String(e)}\n`);
      process.exit(1);
    },
  );
}
