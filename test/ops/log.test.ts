import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { closeLogs, createLogger, parseLogDestinations, productionLogOptions, REDACT_PATHS } from '../../src/util/log.js';

const dir = mkdtempSync(join(tmpdir(), 'tickwire-log-'));
afterAll(async () => {
  await closeLogs();
  rmSync(dir, { recursive: true, force: true });
});

const SECRETS = ['S3CRET-api-secret-0001', 'deadbeefsignature0002', 'KEY-apikey-0003', 'tok-0004', 'lk-listenkey-0005', 'hdr-apikey-0006'];

function lines(file: string): Array<Record<string, unknown>> {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

describe('logger', () => {
  it('keeps the exports others import', () => {
    expect(REDACT_PATHS).toContain('apiSecret');
  });

  it('redacts secrets in a file destination', async () => {
    const file = join(dir, 'redact.log');
    const logger = createLogger({ destinations: [{ to: file, level: 'info' }] });
    logger.info(
      {
        apiSecret: SECRETS[0],
        signature: SECRETS[1],
        venue: { apiKey: SECRETS[2], token: SECRETS[3] },
        order: { params: { signature: SECRETS[1], symbol: 'ETHUSDT' } },
        listenKey: SECRETS[4],
        req: { headers: { 'x-mbx-apikey': SECRETS[5], 'content-type': 'application/json' } },
        symbol: 'BTCUSDT',
      },
      'order sent',
    );
    await closeLogs();
    const text = readFileSync(file, 'utf8');
    for (const s of SECRETS) expect(text).not.toContain(s);
    const [line] = lines(file);
    expect(line?.['msg']).toBe('order sent');
    expect(line?.['symbol']).toBe('BTCUSDT');
    expect(line?.['apiSecret']).toBe('[redacted]');
    expect((line?.['venue'] as Record<string, unknown> | undefined)?.['apiKey']).toBe('[redacted]');
  });

  it('filters per destination: the alert stream gets warn and above only', async () => {
    const main = join(dir, 'main.log');
    const alert = join(dir, 'alert.log');
    const logger = createLogger({
      destinations: [
        { to: main, level: 'debug' },
        { to: alert, level: 'warn' },
      ],
    });
    logger.trace('t');
    logger.debug('d');
    logger.info('i');
    logger.warn('w');
    logger.error({ err: new Error('boom') }, 'e');
    await closeLogs();
    expect(lines(main).map((l) => l['msg'])).toEqual(['d', 'i', 'w', 'e']);
    expect(lines(alert).map((l) => l['msg'])).toEqual(['w', 'e']);
  });

  it('rotating destinations through pino-roll write the engine log and the alert log', async () => {
    const opts = productionLogOptions({ dir: join(dir, 'prod'), level: 'info', alertLevel: 'error' });
    const logger = createLogger(opts);
    logger.info({ apiSecret: SECRETS[0] }, 'started');
    logger.error('feed stale');
    await closeLogs();
    const engineDir = join(dir, 'prod', 'engine');
    const alertDir = join(dir, 'prod', 'alert');
    const engineFile = readdirSync(engineDir).find((f) => /^tickwire\..*\.log$/.test(f));
    const alertFile = readdirSync(alertDir).find((f) => /^alert\..*\.log$/.test(f));
    expect(engineFile).toBeDefined();
    expect(alertFile).toBeDefined();
    const engine = readFileSync(join(engineDir, engineFile as string), 'utf8');
    expect(engine).toContain('started');
    expect(engine).toContain('feed stale');
    expect(engine).not.toContain(SECRETS[0]);
    const alerts = lines(join(alertDir, alertFile as string)).map((l) => l['msg']);
    expect(alerts).toEqual(['feed stale']);
  });

  it('parses destinations with levels and rotation from one string', () => {
    expect(parseLogDestinations('stderr=info; /var/log/tickwire/engine/tickwire=debug,daily,size=200m,count=14 ;/a/alert=warn,every=60000')).toEqual([
      { to: 'stderr', level: 'info' },
      { to: '/var/log/tickwire/engine/tickwire', level: 'debug', rotate: { frequency: 'daily', size: '200m', count: 14 } },
      { to: '/a/alert', level: 'warn', rotate: { frequency: 60000 } },
    ]);
    expect(() => parseLogDestinations('stderr=loud')).toThrow(/stderr.*level 'loud'/);
    expect(() => parseLogDestinations('/x=info,weekly')).toThrow(/unknown option 'weekly'/);
    expect(() => parseLogDestinations('stdout=info,daily')).toThrow(/only files rotate/);
    expect(() => parseLogDestinations(' ; ')).toThrow(/none given/);
  });
});

describe('logger configuration errors', () => {
  it('a rotating destination in an unwritable place is a clear error at creation, not silent loss', () => {
    // a regular file where a directory should be: ENOTDIR even for root (and never a path under /proc, where
    // Node 20's recursive mkdirSync spins forever)
    const notADir = join(dir, 'plain-file');
    writeFileSync(notADir, '');
    expect(() => createLogger({ destinations: [{ to: join(notADir, 'engine', 'x'), level: 'info', rotate: { frequency: 'daily' } }] })).toThrow(
      /log destination '.*plain-file\/engine\/x': directory .*plain-file\/engine is not writable \(ENOTDIR/,
    );
  });
});
