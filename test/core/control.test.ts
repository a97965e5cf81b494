import { afterEach, describe, expect, it } from 'vitest';
import { networkInterfaces } from 'node:os';
import { connect } from 'node:net';
import { request } from 'undici';
import { MAX_BODY_BYTES, startControl, type ControlServer } from '../../src/app/control.js';
import { main as cli, USAGE } from '../../src/app/controlcli.js';
import { COMMANDS, dispatch } from '../../src/cli/commands.js';
import { KillSwitch } from '../../src/engine/killswitch.js';
import { F } from '../../src/model/botstate.js';
import { rig, rmDir, sleep, testConfig, tmpDir, until, type Rig } from './helpers.js';
import { parseExposition } from './promtext.js';
import { Writable } from 'node:stream';
import pino from 'pino';
import { log, setRootLogger } from '../../src/util/log.js';

const TOKEN = 'test-token-0123456789abcdef';
let r: Rig | undefined;
let srv: ControlServer | undefined;
let ks: KillSwitch | undefined;
let dir = '';
afterEach(async () => {
  srv?.close();
  srv = undefined;
  ks?.stop();
  await r?.close();
  r = undefined;
  if (dir) rmDir(dir);
});

async function up(): Promise<ControlServer> {
  dir = tmpDir('ctl');
  const cfg = testConfig({ persistence: { dir }, killSwitch: { verifyTimeoutMs: 2000 } });
  r = rig({ cfg, journalDir: dir });
  r.venue.seed();
  r.engine.start();
  ks = new KillSwitch(r.engine, cfg.killSwitch, { dataDir: dir, exit: () => {} });
  let reloads = 0;
  srv = await startControl({ engine: r.engine, killSwitch: ks, token: TOKEN, reload: () => ({ ok: true, message: `reload ${++reloads}` }) });
  return srv;
}

async function get(path: string, token: string | null = TOKEN, method: 'GET' | 'POST' = 'GET', body?: unknown) {
  const res = await request(srv!.url + path, {
    method,
    headers: token !== null ? { authorization: `Bearer ${token}` } : {},
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  return { status: res.statusCode, text: await res.body.text() };
}

/** capture stdout and stderr of a CLI entry point (the control commands by default) */
async function runCli(argv: string[], main: (argv: string[]) => Promise<number> = cli): Promise<{ code: number; out: string; err: string }> {
  const orig = process.stdout.write.bind(process.stdout);
  const origErr = process.stderr.write.bind(process.stderr);
  let out = '';
  let err = '';
  process.stdout.write = ((s: string) => ((out += s), true)) as typeof process.stdout.write;
  process.stderr.write = ((s: string) => ((err += s), true)) as typeof process.stderr.write;
  try {
    const code = await main(argv);
    return { code, out, err };
  } finally {
    process.stdout.write = orig;
    process.stderr.write = origErr;
  }
}

describe('control plane', () => {
  it('requires the token on every endpoint', async () => {
    await up();
    for (const p of ['/status', '/metrics']) {
      expect((await get(p, null)).status).toBe(401);
      expect((await get(p, 'wrong-token-0123456789abcdef')).status).toBe(401);
    }
    expect((await get('/kill', null, 'POST')).status).toBe(401);
    expect(r!.engine.trading).toBe('running');
    expect((await get('/status')).status).toBe(200);
  });

  it('/status tells an outside watcher which process answers, halted venues and book ages (and /metrics the same)', async () => {
    await up();
    await until(() => r!.engine.instruments.every((i) => r!.engine.state.tradable(i.slot)), 5000, 'books');
    const st = JSON.parse((await get('/status')).text) as {
      process: { pid: number; startedAt: string };
      venues: Array<{ venue: string; halted: boolean }>;
      books: Array<{ venue: string; symbol: string; tradable: boolean; lastMessageAgeMs: number }>;
    };
    expect(st.process.pid).toBe(process.pid);
    expect(Math.abs(Date.parse(st.process.startedAt) - (Date.now() - process.uptime() * 1000))).toBeLessThan(5000);
    expect(st.venues.map((v) => [v.venue, v.halted]).sort()).toEqual([
      ['binanceSpot', false],
      ['bybitLinear', false],
    ]);
    expect(st.books.map((b) => b.venue).sort()).toEqual(['binanceSpot', 'bybitLinear']);
    for (const b of st.books) {
      expect(b.tradable).toBe(true);
      expect(b.lastMessageAgeMs).toBeGreaterThanOrEqual(0);
      expect(b.lastMessageAgeMs).toBeLessThan(60_000);
    }
    // the same in /metrics (a real halt: test/app/bot.test.ts, against the simulator)
    const fams = parseExposition((await get('/metrics')).text);
    expect(fams.get('tickwire_venue_halted')!.samples.map((x) => x.value)).toEqual([0, 0]);
    expect(fams.get('tickwire_book_last_message_age_seconds')?.samples.length).toBe(2);
  });

  it('binds to loopback only', async () => {
    const s = await up();
    const other = Object.values(networkInterfaces())
      .flat()
      .find((a) => a && a.family === 'IPv4' && !a.internal)?.address;
    if (other) {
      const err = await new Promise<string>((resolve) => {
        const c = connect({ host: other, port: s.port });
        c.on('connect', () => (c.destroy(), resolve('connected')));
        c.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'error'));
      });
      expect(err).toBe('ECONNREFUSED');
    }
    expect(s.url.startsWith('http://127.0.0.1:')).toBe(true);
  });

  it('/metrics is valid Prometheus text, with the engine and the process metrics', async () => {
    await up();
    await get('/status'); // something for tickwire_control_requests_total
    await sleep(50); // the event-loop delay monitor samples every 10 ms: give it a few samples since the last scrape
    const { status, text } = await get('/metrics');
    expect(status).toBe(200);
    const fams = parseExposition(text);
    for (const n of [
      'tickwire_book_resyncs_total',
      'tickwire_orders_sent_total',
      'tickwire_fills_total',
      'tickwire_rejects_total',
      'tickwire_risk_refusals_total',
      'tickwire_position',
      'tickwire_pnl_quote',
      'tickwire_hop_latency_seconds',
      'tickwire_journal_write_errors_total',
      'tickwire_control_requests_total',
    ])
      expect(fams.has(n), n).toBe(true);
    const gauge = (n: string): number => {
      const f = fams.get(n);
      expect(f?.type, n).toBe('gauge');
      return f!.samples[0]!.value;
    };
    // process metrics under prom-client's default names, with plausible values
    expect(gauge('process_resident_memory_bytes')).toBeGreaterThan(1e6);
    expect(gauge('process_open_fds')).toBeGreaterThan(2);
    expect(gauge('process_max_fds')).toBeGreaterThanOrEqual(gauge('process_open_fds'));
    expect(gauge('nodejs_heap_size_used_bytes')).toBeGreaterThan(0);
    expect(gauge('nodejs_heap_size_total_bytes')).toBeGreaterThanOrEqual(gauge('nodejs_heap_size_used_bytes'));
    expect(Math.abs(gauge('process_start_time_seconds') - (Date.now() / 1000 - process.uptime()))).toBeLessThan(5);
    expect(gauge('nodejs_eventloop_lag_p50_seconds')).toBeGreaterThanOrEqual(0);
    expect(gauge('nodejs_eventloop_lag_p99_seconds')).toBeGreaterThanOrEqual(0);
    for (const n of ['process_cpu_user_seconds_total', 'process_cpu_system_seconds_total', 'process_cpu_seconds_total'])
      expect(fams.get(n)?.type, n).toBe('counter');
    // GCs seen by the collector's observer appear in the histogram by kind (allocate until one is reported, bounded)
    let gcs = 0;
    for (let round = 0; round < 50 && gcs === 0; round++) {
      let junk: number[][] = [];
      for (let i = 0; i < 1e5; i++) junk.push([i]);
      junk = [];
      await sleep(10);
      const gcFam = parseExposition((await get('/metrics')).text).get('nodejs_gc_duration_seconds');
      expect(gcFam?.type).toBe('histogram');
      gcs = gcFam!.samples
        .filter((x) => x.name === 'nodejs_gc_duration_seconds_count' && x.labels['kind'] !== undefined)
        .reduce((a, x) => a + x.value, junk.length);
    }
    expect(gcs).toBeGreaterThan(0);
    const req = parseExposition((await get('/metrics')).text).get('tickwire_control_requests_total')!;
    expect(req.samples.find((x) => x.labels['code'] === '200')!.value).toBeGreaterThanOrEqual(3);
  });

  it('the strict exposition check refuses what a scraper would refuse', () => {
    const ok = '# HELP a_total x\n# TYPE a_total counter\na_total{v="1"} 1\n';
    expect(parseExposition(ok).get('a_total')!.samples[0]!.value).toBe(1);
    expect(() => parseExposition(ok + '# TYPE a_total counter\n')).toThrow(/second TYPE|reappears/);
    expect(() => parseExposition(ok + '# HELP b x\n# HELP b y\n')).toThrow(/second HELP/);
    expect(() => parseExposition(ok + '# TYPE b gauge\nb 1\na_total{v="2"} 1\n')).toThrow(/reappears/);
    expect(() => parseExposition(ok + 'a_total{v="1"} 2\n')).toThrow(/duplicate/);
    expect(() => parseExposition(ok + 'b{v="1} 2\n')).toThrow();
    expect(() => parseExposition(ok + 'b 1x\n')).toThrow(/bad value/);
    expect(() => parseExposition('# TYPE h histogram\nh_bucket{le="1"} 2\nh_bucket{le="+Inf"} 1\nh_count 1\n')).toThrow(/cumulative/);
    expect(() => parseExposition(ok.trimEnd())).toThrow(/newline/);
  });

  it('CLI: status, stop/start, manual buy, reload, kill --wait leaves zero open orders', async () => {
    const s = await up();
    const env = { ...process.env };
    process.env['TICKWIRE_CONTROL_URL'] = s.url;
    process.env['TICKWIRE_CONTROL_TOKEN'] = TOKEN;
    try {
      const st = await runCli(['status']);
      expect(st.code).toBe(0);
      expect(JSON.parse(st.out).trading).toBe('running');
      expect((await runCli(['stop'])).code).toBe(0);
      expect(r!.engine.trading).toBe('stopped');
      const slot = r!.engine.slotOf('binanceSpot', 'BTCUSDT');
      const px = ((r!.state.get(slot, F.bidPx) - 1000) / 100).toFixed(2);
      const buy = await runCli(['buy', 'binanceSpot', 'BTCUSDT', '0.001', px]);
      expect(buy.code).toBe(0);
      expect(JSON.parse(buy.out).clientOrderId).toMatch(/^tw/);
      const refused = await runCli(['buy', 'binanceSpot', 'BTCUSDT', '5', px]);
      expect(refused.code).toBe(1);
      expect(JSON.parse(refused.out).reason).toBe('max_order_qty');
      expect(JSON.parse((await runCli(['reload'])).out).message).toBe('reload 1');
      expect((await runCli(['start'])).code).toBe(0);
      await until(() => r!.engine.acks === 1, 2000, 'ack');
      const k = await runCli(['kill', '--wait']);
      expect(k.code).toBe(0);
      const rep = JSON.parse(k.out);
      expect(rep.verified).toBe(true);
      expect(rep.openOrdersAtTrigger).toBe(1);
      expect((await r!.venue.openOrders(r!.engine.instruments)).length).toBe(0);
      expect((await runCli(['start'])).code).toBe(1); // no restart after a kill
    } finally {
      process.env = env;
    }
  });
});

/** One request over its own socket, the body as given (string or bytes), with the answer's status, JSON and headers. */
async function send(method: string, path: string, body?: string | Buffer, headers: Record<string, string> = { authorization: `Bearer ${TOKEN}` }) {
  const res = await request(srv!.url + path, { method: method as 'GET', headers, ...(body !== undefined ? { body } : {}) });
  const text = await res.body.text();
  let json: Record<string, unknown> = {};
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    /* not JSON: the assertions say so */
  }
  return { status: res.statusCode, text, json, headers: res.headers };
}

/** Raw HTTP over a socket: writes `head`, then `body` chunks until the server closes or `bodyBytes` were sent. */
function rawHttp(port: number, head: string, chunk?: Buffer, bodyBytes = 0): Promise<{ text: string; written: number; closed: boolean }> {
  return new Promise((resolve) => {
    const c = connect(port, '127.0.0.1');
    let text = '';
    let written = 0;
    let stop = false;
    const done = setTimeout(() => (c.destroy(), resolve({ text, written, closed: false })), 10_000);
    c.on('data', (d: Buffer) => (text += d.toString('latin1')));
    c.on('error', () => (stop = true));
    c.on('close', () => {
      stop = true;
      clearTimeout(done);
      resolve({ text, written, closed: true });
    });
    c.on('connect', async () => {
      c.write(head);
      while (chunk && !stop && written < bodyBytes) {
        const ok = c.write(`${chunk.length.toString(16)}\r\n`) && c.write(chunk) && c.write('\r\n');
        written += chunk.length;
        if (!ok) await new Promise((r2) => (c.once('drain', r2), c.once('close', r2)));
      }
    });
  });
}

describe('control plane: strict input, whole or nothing', () => {
  const order = { venue: 'binanceSpot', symbol: 'BTCUSDT', side: 'BUY', qty: '0.001' };
  const post = (body: string | Buffer) => send('POST', '/order', body, { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' });

  it('refuses every malformed or mistyped order with 400 naming the field, and sends nothing', async () => {
    await up();
    r!.engine.stopTrading(); // the strategy sends nothing; a manual order would still go
    const cases: Array<[string, string, string | undefined]> = [
      ['null', 'body must be a JSON object', undefined],
      ['[]', 'body must be a JSON object', undefined],
      ['42', 'body must be a JSON object', undefined],
      ['"BUY"', 'body must be a JSON object', undefined],
      ['', 'body must be JSON', undefined],
      ['{"venue":', 'body must be JSON', undefined],
      ["{'venue':'binanceSpot'}", 'body must be JSON', undefined],
      [JSON.stringify({ ...order, symbol: 42 }), 'symbol', 'symbol'],
      [JSON.stringify({ ...order, qty: ['0.001'] }), 'qty', 'qty'],
      [JSON.stringify({ ...order, qty: 0.001 }), 'qty', 'qty'],
      [JSON.stringify({ ...order, qty: '1e-3' }), 'qty', 'qty'],
      [JSON.stringify({ ...order, qty: '-0.001' }), 'qty', 'qty'],
      [JSON.stringify({ ...order, qty: '0' }), 'qty', 'qty'],
      [JSON.stringify({ ...order, qty: '0.0000000001' }), 'qty', 'qty'], // finer than the step
      [JSON.stringify({ ...order, qty: '99999999999999999.9' }), 'qty', 'qty'], // not exact as a scaled integer
      [JSON.stringify({ ...order, qty: ' 0.001' }), 'qty', 'qty'],
      [JSON.stringify({ ...order, price: '' }), 'price', 'price'],
      [JSON.stringify({ ...order, price: 97000 }), 'price', 'price'],
      [JSON.stringify({ ...order, price: null }), 'price', 'price'],
      [JSON.stringify({ ...order, price: 'NaN' }), 'price', 'price'],
      [JSON.stringify({ ...order, side: 'buy' }), 'side', 'side'],
      [JSON.stringify({ ...order, side: undefined }), 'side', 'side'],
      [JSON.stringify({ ...order, venue: 'binance' }), 'venue', 'venue'],
      [JSON.stringify({ ...order, venue: { toString: 1 } }), 'venue', 'venue'],
      [JSON.stringify({ ...order, symbol: 'NOPEUSDT' }), 'unknown instrument', 'symbol'],
      [JSON.stringify({ ...order, type: 'LIMIT' }), 'unknown field "type"', 'type'],
      ['{"__proto__":{"qty":"0.001"},"venue":"binanceSpot","symbol":"BTCUSDT","side":"BUY","qty":"0.001"}', 'unknown field', '__proto__'],
    ];
    for (const [body, msg, field] of cases) {
      const a = await post(body);
      expect(a.status, body).toBe(400);
      expect(a.headers['content-type'], body).toMatch(/^application\/json/);
      expect(String(a.json['error']), body).toContain(msg);
      expect(a.json['field'], body).toBe(field);
    }
    const bad = await post(Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x3a, 0x31, 0x7d])); // {"<invalid UTF-8>":1}
    expect([bad.status, bad.json['error']]).toEqual([400, 'body must be UTF-8']);
    expect(r!.engine.ordersSent).toBe(0);
    expect((await r!.venue.openOrders(r!.engine.instruments)).length).toBe(0);
    // the same order, well formed, goes through: the refusals above were about the input only
    const slot = r!.engine.slotOf('binanceSpot', 'BTCUSDT');
    const px = ((r!.state.get(slot, F.bidPx) - 1000) / 100).toFixed(2);
    const ok = await post(JSON.stringify({ ...order, symbol: 'btcusdt', price: px }));
    expect(ok.status, ok.text).toBe(200);
    expect(r!.engine.ordersSent).toBe(1);
  });

  it('404 unknown path, 405 wrong method (with Allow), 400 for a body or query an endpoint does not take', async () => {
    await up();
    expect((await send('GET', '/nope')).status).toBe(404);
    expect((await send('GET', '/nope', undefined, {})).status).toBe(401); // the token first: nothing is learnt without it
    const g = await send('GET', '/order');
    expect([g.status, g.headers['allow']]).toEqual([405, 'POST']);
    const p = await send('POST', '/status');
    expect([p.status, p.headers['allow']]).toEqual([405, 'GET']);
    expect((await send('DELETE', '/kill')).status).toBe(405);
    expect(r!.engine.trading).toBe('running');
    // a body on an endpoint that takes none is refused, not ignored: /stop does not stop
    const b = await send('POST', '/stop', '{"really":true}');
    expect([b.status, b.json['error']]).toEqual([400, '/stop takes no body']);
    expect(r!.engine.trading).toBe('running');
    expect((await send('POST', '/stop', '{}')).status).toBe(200);
    expect(r!.engine.trading).toBe('stopped');
    // query parameters: only those an endpoint takes, with the values it knows
    const q = await send('POST', '/kill?wait=yes');
    expect([q.status, q.json['field']]).toEqual([400, 'wait']);
    expect((await send('POST', '/kill?wait=1&wait=0')).status).toBe(400);
    expect((await send('POST', '/kill?force=1')).json['field']).toBe('force');
    expect(r!.engine.trading).toBe('stopped'); // no kill happened
    expect((await send('GET', '/status?x=1')).status).toBe(400);
    // the X-Tickwire-Token header works like the bearer token
    expect((await send('GET', '/status', undefined, { 'x-tickwire-token': TOKEN })).status).toBe(200);
    // not HTTP at all: a bare 400, connection closed
    const junk = await rawHttp(srv!.port, 'THIS IS NOT HTTP\r\n\r\n');
    expect(junk.text).toMatch(/^HTTP\/1\.1 400 /);
    expect(junk.closed).toBe(true);
  });

  it('caps the body at 64 KB: 413, the rest is not read, the connection closes, memory does not grow', async () => {
    await up();
    // at the cap it is read; one byte over it is refused
    const at = '{}' + ' '.repeat(MAX_BODY_BYTES - 2);
    expect((await send('POST', '/stop', at)).status).toBe(200);
    const over = await send('POST', '/stop', at + ' ');
    expect([over.status, over.json['error']]).toEqual([413, `body larger than ${MAX_BODY_BYTES} bytes`]);
    expect(over.headers['connection']).toBe('close');
    const auth = `Authorization: Bearer ${TOKEN}\r\nHost: x\r\n`;
    // declared too large: refused before a byte of it is read
    const declared = await rawHttp(srv!.port, `POST /order HTTP/1.1\r\n${auth}Content-Length: 200000000\r\n\r\n`);
    expect(declared.text).toMatch(/^HTTP\/1\.1 413 /);
    expect(declared.closed).toBe(true);
    // the same with `Expect: 100-continue`: no 100 that would invite the body
    const expecting = await rawHttp(srv!.port, `POST /order HTTP/1.1\r\n${auth}Content-Length: 200000000\r\nExpect: 100-continue\r\n\r\n`);
    expect(expecting.text).toMatch(/^HTTP\/1\.1 413 /);
    expect(expecting.closed).toBe(true);
    // streamed (chunked, no length): refused once the cap is passed; the 200 MB never reach the server
    const rss0 = process.memoryUsage().rss;
    const streamed = await rawHttp(srv!.port, `POST /order HTTP/1.1\r\n${auth}Transfer-Encoding: chunked\r\n\r\n`, Buffer.alloc(65536, 0x20), 200e6);
    expect(streamed.text).toMatch(/^HTTP\/1\.1 413 /);
    expect(streamed.closed).toBe(true);
    expect(streamed.written).toBeLessThan(64e6); // what the kernel buffers took before the close, not 200 MB
    expect(process.memoryUsage().rss - rss0).toBeLessThan(48e6);
    expect((await send('GET', '/status')).status).toBe(200); // still serving
    expect(r!.engine.ordersSent).toBe(0);
    // each refusal is counted
    const counted = parseExposition((await send('GET', '/metrics')).text).get('tickwire_control_requests_total')!;
    expect(counted.samples.find((x) => x.labels['code'] === '413')?.value).toBe(4);
  });

  it('an internal failure is logged and answered 500 with a generic message, never its text', async () => {
    dir = tmpDir('ctl');
    const cfg = testConfig({ persistence: { dir } });
    r = rig({ cfg, journalDir: dir });
    ks = new KillSwitch(r.engine, cfg.killSwitch, { dataDir: dir, exit: () => {} });
    srv = await startControl({
      engine: r.engine,
      killSwitch: ks,
      token: TOKEN,
      extraStatus: () => {
        throw new Error('secret internal detail at /srv/tickwire/keys');
      },
    });
    const lines: string[] = [];
    const prev = log();
    setRootLogger(pino({ level: 'error' }, new Writable({ write: (c: Buffer, _e, cb) => (lines.push(c.toString()), cb()) })));
    let a: Awaited<ReturnType<typeof send>>;
    try {
      a = await send('GET', '/status');
    } finally {
      setRootLogger(prev);
    }
    expect(a.status).toBe(500);
    expect(a.json).toEqual({ error: 'internal error' });
    expect(a.text).not.toContain('secret');
    // the detail goes to the log, with the route
    expect(lines.length).toBe(1);
    const rec = JSON.parse(lines[0]!) as { msg: string; path: string; err: { message: string } };
    expect([rec.msg, rec.path, rec.err.message]).toEqual(['control plane: internal error', '/status', 'secret internal detail at /srv/tickwire/keys']);
    expect((await send('GET', '/metrics')).status).toBe(200); // still serving
  });

  it('startControl rejects (does not hang or crash) when the port is taken', async () => {
    const first = await up();
    await expect(startControl({ engine: r!.engine, killSwitch: ks!, token: TOKEN }, first.port)).rejects.toThrow(
      /cannot listen on 127\.0\.0\.1:\d+: EADDRINUSE/,
    );
    await expect(startControl({ engine: r!.engine, killSwitch: ks!, token: TOKEN }, 70000)).rejects.toThrow(/cannot listen/);
    await expect(startControl({ engine: r!.engine, killSwitch: ks!, token: 'short' })).rejects.toThrow(/at least 16/);
    expect((await send('GET', '/status')).status).toBe(200); // the first one is untouched
  });
});

describe('tickwire command line', () => {
  it('`tickwire metrics` prints the /metrics text of a running control plane', async () => {
    const s = await up();
    const m = await runCli(['metrics', '--url', s.url, '--token', TOKEN], dispatch);
    expect(m.code, m.err).toBe(0);
    const fams = parseExposition(m.out);
    expect(fams.get('tickwire_orders_sent_total')?.type).toBe('counter');
    expect(fams.get('process_resident_memory_bytes')?.type).toBe('gauge');
    const wrong = await runCli(['metrics', '--url', s.url, '--token', 'wrong-token-0123456789abcdef'], dispatch);
    expect(wrong.code).toBe(1);
  });

  it('`tickwire help` lists every command, `help COMMAND` shows its options', async () => {
    const h = await runCli(['help'], dispatch);
    expect(h.code).toBe(0);
    for (const c of [...Object.keys(COMMANDS), 'help']) expect(h.out).toMatch(new RegExp(`^  ${c}\\b`, 'm'));
    // every command the control CLI's usage documents is one the dispatcher knows
    const documented = [...USAGE.matchAll(/tickwire ([a-z|-]+)/g)].flatMap((x) => x[1]!.split('|'));
    expect(documented).toContain('metrics');
    for (const c of documented) expect(Object.keys(COMMANDS)).toContain(c);
    expect((await runCli(['--help'], dispatch)).out).toBe(h.out);
    expect((await runCli(['-h'], dispatch)).out).toBe(h.out);
    const none = await runCli([], dispatch);
    expect([none.code, none.out]).toEqual([2, h.out]);
    const hm = await runCli(['help', 'metrics'], dispatch);
    expect([hm.code, hm.out]).toEqual([0, USAGE]);
    const hh = await runCli(['help', 'host-check'], dispatch);
    expect(hh.code).toBe(0);
    expect(hh.out).toMatch(/^usage: tickwire host-check/);
    const hr = await runCli(['help', 'run'], dispatch);
    expect(hr.code).toBe(0);
    expect(hr.out).toMatch(/tickwire run/);
    const unknown = await runCli(['help', 'frobnicate'], dispatch);
    expect(unknown.code).toBe(2);
    expect(unknown.err).toContain("unknown command 'frobnicate'");
  });
});
