// Native uWS vs the compat server (src/util/uwscompat.ts), one server per run: a REST GET round trip over one
// keep-alive undici connection, and app.publish fan-out to 8 ws clients (in this process: their cost is the same in
// both runs, so the CPU difference is the server's). `npm run build`, then, on a Node where native uWS loads:
//   node bench/uws-compat.mjs && TICKWIRE_UWS=compat node bench/uws-compat.mjs
import { loadUws } from '../dist/src/util/uws.js';
import { listen, closeListen, send } from '../dist/src/sim/core/http.js';
import WebSocket from 'ws';
import { Pool } from 'undici';
const { uws, source } = loadUws();
const app = uws.App();
app.get('/api/v3/time', (res) => {
  send(res, 200, '{"serverTime":1700000000000}');
});
app.ws('/ws', { idleTimeout: 0, maxBackpressure: 64 << 20, open: (ws) => ws.subscribe('t') });
const l = await listen(app, '127.0.0.1', 0);
const pct = (a, p) => a[Math.min(a.length - 1, Math.floor(a.length * p))];
// REST
const pool = new Pool(`http://127.0.0.1:${l.port}`, { connections: 1, pipelining: 1 });
const lat = [];
for (let i = 0; i < 22000; i++) {
  const t = process.hrtime.bigint();
  const r = await pool.request({ path: '/api/v3/time', method: 'GET' });
  await r.body.text();
  if (i >= 2000) lat.push(Number(process.hrtime.bigint() - t) / 1000);
}
lat.sort((a, b) => a - b);
// fan-out: 8 clients, 20k frames of ~180 B published in bursts of 100 per tick
const N = 8,
  FRAMES = 20000;
const frame =
  '{"e":"depthUpdate","E":1700000000000,"s":"BTCUSDT","U":1,"u":2,"b":[["95000.10","0.500"],["94999.90","1.250"]],"a":[["95000.20","0.300"]],"pad":"' +
  'x'.repeat(40) +
  '"}';
let got = 0;
const clients = await Promise.all(
  Array.from(
    { length: N },
    () =>
      new Promise((r) => {
        const w = new WebSocket(`ws://127.0.0.1:${l.port}/ws`, { perMessageDeflate: false });
        w.on('message', () => got++);
        w.on('open', () => r(w));
      }),
  ),
);
await new Promise((r) => setTimeout(r, 100));
const t0 = process.hrtime.bigint();
const cpu0 = process.cpuUsage();
for (let i = 0; i < FRAMES; i += 100) {
  for (let j = 0; j < 100; j++) app.publish('t', frame);
  await new Promise((r) => setImmediate(r));
}
while (got < N * FRAMES) await new Promise((r) => setImmediate(r));
const ms = Number(process.hrtime.bigint() - t0) / 1e6;
const cpu = process.cpuUsage(cpu0);
console.log(
  `${source}: REST GET round trip (undici, keep-alive, n=20000) p50 ${pct(lat, 0.5).toFixed(1)} µs p99 ${pct(lat, 0.99).toFixed(1)} µs | fan-out ${FRAMES} frames x ${N} clients (same process) in ${ms.toFixed(0)} ms = ${((((N * FRAMES) / ms) * 1000) / 1e3).toFixed(0)}k msgs/s, process CPU ${((cpu.user + cpu.system) / 1000).toFixed(0)} ms`,
);
for (const c of clients) c.terminate();
await pool.close();
closeListen(l);
process.exit(0);
