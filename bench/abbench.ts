/**
 * Same-process A/B of the market-data frame handlers of two builds (not used by the engine):
 *
 *   node dist/bench/abbench.js [filter] <distA> [<distB> ...]
 *
 * Each dist is a compiled tree (e.g. `npx tsc -p tsconfig.build.json --outDir /tmp/a/dist` in a checkout of the
 * commit to compare, with node_modules linked next to it). The drivers of bench/benchframes.ts of every build
 * run interleaved, 5 rounds of 200,000 frames each, in ONE process, so that load from other work on this shared
 * machine hits all builds alike; JSON.parse of the same frame is timed in the same rounds. Prints the median
 * ns per frame and the ratio to JSON.parse for every build. filter: a substring of the driver name or 'all'.
 */
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { MdDriver } from './benchframes.js';

type Mod = { DRIVERS: Array<() => MdDriver> };

const args = process.argv.slice(2);
const filter = args.length > 1 && !args[0]!.includes('/') ? (args.shift() as string) : 'all';
const dirs = args;
if (dirs.length === 0) {
  process.stderr.write('usage: node dist/bench/abbench.js [filter] <distA> [<distB> ...]\n');
  process.exit(2);
}
const mods = (await Promise.all(dirs.map((d) => import(pathToFileURL(path.resolve(d, 'bench/benchframes.js')).href)))) as Mod[];
const N = 200_000;
const res: Array<Record<string, number[]>> = dirs.map(() => ({}));
const jp: Record<string, number[]> = {};
let sink = 0;
for (let round = 0; round < 5; round++) {
  for (let m = 0; m < mods.length; m++) {
    for (const make of (mods[m] as Mod).DRIVERS) {
      const d = make();
      if (filter !== 'all' && !d.name.includes(filter)) continue;
      for (let i = 0; i < 30_000; i++) d.step();
      if (m === 0) {
        for (let i = 0; i < 5_000; i++) sink += JSON.parse(d.text) ? 1 : 0;
        const t0 = process.hrtime.bigint();
        for (let i = 0; i < N / 4; i++) sink += JSON.parse(d.text) ? 1 : 0;
        (jp[d.name] ??= []).push(Number(process.hrtime.bigint() - t0) / (N / 4));
      }
      const t0 = process.hrtime.bigint();
      for (let i = 0; i < N; i++) d.step();
      ((res[m] as Record<string, number[]>)[d.name] ??= []).push(Number(process.hrtime.bigint() - t0) / N);
      if (d.errors() !== 0) process.stdout.write(`ERRORS in ${dirs[m]} ${d.name}: ${d.errors()}\n`);
    }
  }
}
const med = (a: number[]): number => [...a].sort((x, y) => x - y)[a.length >> 1] as number;
for (const k of Object.keys(jp)) {
  const j = med(jp[k] as number[]);
  const cols = dirs.map((d, m) => {
    const v = med((res[m] as Record<string, number[]>)[k] as number[]);
    return `${d}: ${v.toFixed(0)} ns (${(v / j).toFixed(3)})`;
  });
  process.stdout.write(`${k.padEnd(26)} JSON.parse ${j.toFixed(0)} ns | ${cols.join(' | ')}\n`);
}
if (sink < 0) process.stdout.write('');
