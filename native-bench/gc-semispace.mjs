// Scavenge frequency and pause vs V8's semi-space size under a synthetic market-data allocation load:
// JSON.parse of a ~1 KB depth diff per "frame" (what an allocating parser does), a sliding window of the last
// KEEP parsed frames kept alive (survivors; default 100), 300,000 frames as fast as possible.
// Runs itself once per setting in a child process and prints one line each.
//   node native-bench/gc-semispace.mjs [frames] [keep]
import { spawnSync } from 'node:child_process';
import { PerformanceObserver, performance } from 'node:perf_hooks';

const child = process.argv[2] === '--child';
const frames = Number((child ? process.argv[3] : process.argv[2]) ?? 300000);
const keep = Number((child ? process.argv[4] : process.argv[3]) ?? 100);
if (child) {
  const frame = JSON.stringify({
    e: 'depthUpdate', E: 1763776800123, s: 'BTCUSDT', U: 71234567001, u: 71234567042,
    b: Array.from({ length: 20 }, (_, i) => [(97000.1 - i * 0.1).toFixed(2), (0.01 + i * 0.137).toFixed(8)]),
    a: Array.from({ length: 20 }, (_, i) => [(97000.2 + i * 0.1).toFixed(2), (0.02 + i * 0.091).toFixed(8)]),
  });
  const window = new Array(keep);
  const gcs = [];
  const obs = new PerformanceObserver((l) => { for (const e of l.getEntries()) gcs.push(e); });
  obs.observe({ entryTypes: ['gc'] });
  const lat = new Float64Array(frames);
  const t0 = performance.now();
  for (let i = 0; i < frames; i++) {
    const s = performance.now();
    window[i % keep] = JSON.parse(frame);
    lat[i] = performance.now() - s;
  }
  const wall = performance.now() - t0;
  await new Promise((r) => setTimeout(r, 50));
  obs.disconnect();
  const minor = gcs.filter((e) => (e.detail?.kind ?? e.kind) === 1); // NODE_PERFORMANCE_GC_MINOR
  const pauses = minor.map((e) => e.duration).sort((a, b) => a - b);
  lat.sort();
  const q = (a, p) => (a.length ? a[Math.min(a.length - 1, Math.floor(p * a.length))] : 0);
  const flags = process.execArgv.join(' ') || '(defaults)';
  console.log(
    `${flags.padEnd(28)} scavenges ${String(minor.length).padStart(5)} (${(minor.length / (frames / 1000)).toFixed(2)}/1k frames)` +
      `  pause p50 ${q(pauses, 0.5).toFixed(3)} ms max ${(pauses.at(-1) ?? 0).toFixed(3)} ms total ${pauses.reduce((a, b) => a + b, 0).toFixed(1)} ms` +
      `  | frame p50 ${(q(lat, 0.5) * 1000).toFixed(1)} µs p99.9 ${(q(lat, 0.999) * 1000).toFixed(1)} µs max ${(lat[frames - 1] * 1000).toFixed(0)} µs  wall ${wall.toFixed(0)} ms`,
  );
} else {
  console.log(`# ${frames} frames of JSON.parse(1 KB depth diff), last ${keep} kept alive; node ${process.version}`);
  for (const flags of [[], ['--max-semi-space-size=32'], ['--max-semi-space-size=64'], ['--min-semi-space-size=64', '--max-semi-space-size=64']]) {
    const r = spawnSync(process.execPath, [...flags, new URL(import.meta.url).pathname, '--child', String(frames), String(keep)], { encoding: 'utf8' });
    process.stdout.write(r.stdout || r.stderr);
  }
}
