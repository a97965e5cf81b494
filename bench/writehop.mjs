/**
 * What a socket write costs on this machine's loopback, and how much of it is the receiver's wake-up (issue 14, the
 * `write` hop): a bare `node:net` write of 220 B, once every ms, timed around `socket.write()`, to a receiver on
 * vCPU 0 that sleeps in epoll and to one that busy-polls (setImmediate), alternating. Run the writer on vCPU 1:
 *   taskset -c 1 node bench/writehop.mjs
 */
import { spawn } from 'node:child_process';
import net from 'node:net';

if (process.argv[2] === 'server') {
  const srv = net.createServer((s) => s.on('data', () => {}));
  srv.listen(0, '127.0.0.1', () => process.stdout.write(`${srv.address().port}\n`));
  if (process.argv[3] === 'busy') {
    const spin = () => setImmediate(spin);
    spin();
  }
} else {
  for (const mode of ['sleep', 'busy', 'sleep', 'busy']) {
    const child = spawn('taskset', ['-c', '0', process.execPath, process.argv[1], 'server', mode], { stdio: ['ignore', 'pipe', 'inherit'] });
    const port = await new Promise((r) => child.stdout.once('data', (d) => r(Number(String(d).trim()))));
    const sock = net.connect(port, '127.0.0.1');
    await new Promise((r) => sock.once('connect', r));
    sock.setNoDelay(true);
    const buf = Buffer.alloc(220, 97);
    const t = [];
    for (let i = 0; i < 3000; i++) {
      await new Promise((r) => setTimeout(r, 1));
      const a = process.hrtime.bigint();
      sock.write(buf);
      const b = process.hrtime.bigint();
      if (i >= 200) t.push(Number(b - a) / 1000);
    }
    t.sort((x, y) => x - y);
    process.stdout.write(`receiver ${mode}: write() p50 ${t[t.length >> 1].toFixed(1)} µs  p90 ${t[Math.floor(t.length * 0.9)].toFixed(1)}\n`);
    sock.destroy();
    child.kill();
  }
}
