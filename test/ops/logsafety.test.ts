/**
 * Log lines are safe to ship: secrets are scrubbed by value anywhere in a line (also inside exchange text that
 * echoes them: the Bybit simulator's real `error sign! origin_string[<ts><key>...]`), no line carries a key twice
 * (strict parse), and log files and the directories created for them are owner-only whatever the umask.
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { clearSecrets, closeLogs, createLogger, registerSecret, setRootLogger } from '../../src/util/log.js';
import { createBybitGateways } from '../../src/exchange/bybit/trade/index.js';
import { startSim } from '../../src/sim/index.js';
import { instrumentOf, manager, until } from '../orders/harness.js';
import { parseStrict } from './strictjson.js';

const dir = mkdtempSync(join(tmpdir(), 'tickwire-logsafety-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
afterEach(() => clearSecrets());

function strictLines(file: string): Array<Record<string, unknown>> {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => parseStrict(l) as Record<string, unknown>);
}

describe('secrets by value', () => {
  it('scrubs registered keys from the message, every field, errors and child bindings', async () => {
    const file = join(dir, 'scrub.log');
    const key = 'AbCdEf0123456789KEY';
    const pem = '-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIJ0000secretpem\n-----END PRIVATE KEY-----';
    registerSecret(key);
    registerSecret(pem);
    registerSecret('short'); // too short to scrub safely: ignored
    const l = createLogger({ destinations: [{ to: file, level: 'info' }] });
    l.error({ reason: `auth: BAD_SIGNATURE: error sign! origin_string[1700000000000${key}5000{"symbol":"BTCUSDT"}]` }, `venue halted ${key}`);
    l.warn({ err: new Error(`request failed for ${key}`), nested: { deep: [`x${key}y`] }, pem }, 'echo');
    l.child({ conn: key }).info('child');
    l.info({ url: '/api/v3/order?symbol=BTCUSDT&timestamp=1&signature=0123456789abcdef0123456789abcdef' }, 'q "signature":"c2lnbmF0dXJlLWJhc2U2NA=="');
    l.warn({ err: 'ws error: wss://fstream.binance.com/private/ws?listenKey=pqCLaBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789' }, 'ws');
    l.info({ word: 'short' }, 'kept');
    await closeLogs();
    const text = readFileSync(file, 'utf8');
    expect(text).not.toContain(key);
    expect(text).not.toContain('MC4CAQAwBQYDK2VwBCIEIJ0000secretpem');
    expect(text).not.toContain('0123456789abcdef0123456789abcdef');
    expect(text).not.toContain('c2lnbmF0dXJlLWJhc2U2NA');
    expect(text).not.toContain('pqCLaBcDeFgHiJkLmNoPqRsTuVwXyZ');
    expect(text).toContain('error sign! origin_string[1700000000000[redacted]5000');
    const lines = strictLines(file);
    expect(lines).toHaveLength(6);
    expect(lines[5]!['word']).toBe('short');
  });

  it('a logged object (or a child binding) with msg, pid, time, level or name gives one key of each per line', async () => {
    const file = join(dir, 'msg.log');
    const l = createLogger({ destinations: [{ to: file, level: 'info' }] });
    l.warn({ venue: 'spot', msg: { code: -1121, msg: 'Invalid symbol.' } }, 'binance stream control error');
    l.child({ msg: 'bound' }).info('child line');
    l.info({ msg: 'only the object' });
    l.info({ pid: process.pid, dataDir: '/d' }, 'starting');
    l.info({ pid: 4242, time: 1, level: 'x', name: 'n' }, 'embedded simulator runs in a child process');
    await closeLogs();
    const lines = strictLines(file); // throws on a duplicate key
    expect(lines.map((x) => x['msg'])).toEqual([
      'binance stream control error',
      'child line',
      'only the object',
      'starting',
      'embedded simulator runs in a child process',
    ]);
    expect(lines[0]!['msgField']).toEqual({ code: -1121, msg: 'Invalid symbol.' });
    expect(lines[1]!['msgField']).toBe('bound');
    expect(lines[3]!['pid']).toBe(process.pid);
    expect(lines[3]).not.toHaveProperty('pidField');
    expect(lines[4]).toMatchObject({ pid: process.pid, pidField: 4242, timeField: 1, levelField: 'x', nameField: 'n', level: 30 });
  });
});

describe('the Bybit simulator echoes the API key on a bad signature', () => {
  it('the echo reaches the log with the key redacted', async () => {
    const s = await startSim({ venues: ['bybit'], seed: 3, symbols: ['BTCUSDT'], rate: 100 });
    const file = join(dir, 'bybit-echo.log');
    setRootLogger(createLogger({ destinations: [{ to: file, level: 'info' }] }));
    const ep = s.endpoints.bybit!;
    registerSecret(ep.apiKey); // what wiring does at start for every configured key and secret
    registerSecret('wrong-secret-0000000000');
    const i = instrumentOf(s, 'bybitLinear');
    const [gw] = createBybitGateways([
      {
        category: 'linear',
        restBaseUrl: ep.restBaseUrl,
        apiKey: ep.apiKey,
        apiSecret: 'wrong-secret-0000000000',
        privateStream: false,
        instruments: [{ symbol: i.symbol, priceDecimals: i.priceDecimals, qtyDecimals: i.qtyDecimals }],
        timeoutMs: 2000,
      },
    ]);
    const { m, rec } = manager(i, gw!);
    try {
      await gw!.start();
      const b = s.books.get('bybitLinear')!.get('BTCUSDT')!.bestBid()!.priceTicks;
      m.place({ slot: 0, side: 'BUY', type: 'LIMIT', tif: 'GTC', price: b - 100, qty: 1 });
      await until(() => rec.events.some((e) => e.kind === 'reject'), 5000, 'reject');
      expect(rec.events.find((e) => e.kind === 'reject')!.reason).toContain(`origin_string[`);
      expect(rec.events.find((e) => e.kind === 'reject')!.reason).toContain(ep.apiKey); // the venue's echo, verbatim
    } finally {
      await gw!.stop();
      await s.close();
      await closeLogs();
    }
    const text = readFileSync(file, 'utf8');
    expect(text).toContain('error sign! origin_string[');
    expect(text).not.toContain(ep.apiKey);
  });
});

describe('log files are owner-only', () => {
  it('0600 files in 0700 directories, plain and rotating, under umask 022', async () => {
    const old = process.umask(0o022);
    try {
      const base = join(dir, 'modes');
      const l = createLogger({
        destinations: [
          { to: join(base, 'plain', 'engine.log'), level: 'info' },
          { to: join(base, 'roll', 'tickwire'), level: 'info', rotate: { size: '1m', count: 2 } },
        ],
      });
      l.info('one line');
      await closeLogs();
      for (const d of [base, join(base, 'plain'), join(base, 'roll')]) expect((statSync(d).mode & 0o777).toString(8), d).toBe('700');
      const files = [join(base, 'plain', 'engine.log'), ...readdirSync(join(base, 'roll')).map((f) => join(base, 'roll', f))];
      expect(files.length).toBeGreaterThanOrEqual(2);
      for (const f of files) expect((statSync(f).mode & 0o777).toString(8), f).toBe('600');
    } finally {
      process.umask(old);
    }
  });
});
