import { afterEach, describe, expect, it } from 'vitest';
import { networkInterfaces } from 'node:os';
import { connect } from 'node:net';
import { request } from 'undici';
import { startControl, type ControlServer } from '../../src/control/server.js';
import { main as cli } from '../../src/control/cli.js';
import { KillSwitch } from '../../src/core/killswitch.js';
import { F } from '../../src/core/botstate.js';
import { rig, rmDir, testConfig, tmpDir, until, type Rig } from './helpers.js';

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
  const res = await request(srv!.url + path, { method, headers: token !== null ? { authorization: `Bearer ${token}` } : {}, ...(body ? { body: JSON.stringify(body) } : {}) });
  return { status: res.statusCode, text: await res.body.text() };
}

/** capture stdout of the CLI */
async function runCli(argv: string[]): Promise<{ code: number; out: string }> {
  const orig = process.stdout.write.bind(process.stdout);
  let out = '';
  process.stdout.write = ((s: string) => ((out += s), true)) as typeof process.stdout.write;
  try {
    const code = await cli(argv);
    return { code, out };
  } finally {
    process.stdout.write = orig;
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

  it('binds to loopback only', async () => {
    const s = await up();
    const other = Object.values(networkInterfaces()).flat().find((a) => a && a.family === 'IPv4' && !a.internal)?.address;
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

  it('/metrics is valid Prometheus text', async () => {
    await up();
    const { status, text } = await get('/metrics');
    expect(status).toBe(200);
    const sample = /^[a-zA-Z_:][a-zA-Z0-9_:]*(\{([a-zA-Z_][a-zA-Z0-9_]*="([^"\\\n]|\\.)*",?)*\})? (-?[0-9.eE+-]+|NaN|[+-]Inf)$/;
    const types = new Map<string, string>();
    for (const line of text.trimEnd().split('\n')) {
      if (line.startsWith('# HELP ')) continue;
      const t = /^# TYPE (\S+) (counter|gauge|summary|histogram|untyped)$/.exec(line);
      if (t) {
        types.set(t[1]!, t[2]!);
        continue;
      }
      expect(line).toMatch(sample);
      const name = line.split(/[{ ]/)[0]!.replace(/_(sum|count)$/, '');
      expect(types.has(name)).toBe(true);
    }
    for (const n of ['tickwire_book_resyncs_total', 'tickwire_orders_sent_total', 'tickwire_fills_total', 'tickwire_rejects_total', 'tickwire_risk_refusals_total', 'tickwire_position', 'tickwire_pnl_quote', 'tickwire_hop_latency_seconds', 'tickwire_journal_write_errors_total']) expect(types.has(n)).toBe(true);
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
