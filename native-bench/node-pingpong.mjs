// Node's side of the same loopback round trip as pingpong.c: node:net client and echo server (a child process),
// 150-byte messages, TCP_NODELAY, percentiles in µs. usage: node node-pingpong.mjs [N] [SIZE]
import { fork } from 'node:child_process';
import net from 'node:net';
import { performance } from 'node:perf_hooks';

if (process.argv[2] === '--server') {
  const srv = net.createServer((s) => {
    s.setNoDelay(true);
    s.on('data', (d) => s.write(d));
  });
  srv.listen(0, '127.0.0.1', () => process.send({ port: srv.address().port }));
} else {
  const n = Number(process.argv[2] ?? 100000);
  const size = Number(process.argv[3] ?? 150);
  const child = fork(new URL(import.meta.url).pathname, ['--server'], { stdio: 'inherit' });
  const port = await new Promise((res) => child.once('message', (m) => res(m.port)));
  const sock = net.connect(port, '127.0.0.1');
  sock.setNoDelay(true);
  await new Promise((res) => sock.once('connect', res));
  const msg = Buffer.alloc(size, 'x');
  const warm = Math.max(1000, Math.floor(n / 10));
  const v = new Float64Array(n);
  let i = -warm;
  let got = 0;
  let t0 = 0;
  await new Promise((resolve) => {
    sock.on('data', (d) => {
      got += d.length;
      if (got < size) return;
      got -= size;
      const t1 = performance.now();
      if (i >= 0) v[i] = (t1 - t0) * 1000;
      if (++i >= n) return resolve();
      t0 = performance.now();
      sock.write(msg);
    });
    t0 = performance.now();
    sock.write(msg);
  });
  v.sort();
  const p = (q) => v[Math.min(n - 1, Math.floor((q / 100) * n))].toFixed(2).padStart(8);
  console.log(`${`node:net ping-pong raw ${size}B`.padEnd(44)} n=${String(n).padEnd(8)} p50 ${p(50)}  p90 ${p(90)}  p99 ${p(99)}  p99.9 ${p(99.9)}  max ${v[n - 1].toFixed(2).padStart(9)}  (us)`);
  sock.destroy();
  child.kill();
}
