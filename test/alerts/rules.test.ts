/**
 * The alert rules of `tickwire bot` over sequences of status answers (pure: times are given), the routes against
 * local servers (the fake Bot API, a webhook sink), and the config's field-naming errors.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { mkdirSync, writeFileSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import { AlertRules, formatAlert, type Alert } from '../../src/app/alertrules.js';
import { AlertRouter, routesFromConfig, TelegramApi, TelegramError, WebhookRoute } from '../../src/app/alertroutes.js';
import { alertRulesConfig, alertsConfig } from '../../src/config/alerts.js';
import { loadConfig } from '../../src/config/load.js';
import type { ConfigError } from '../../src/config/errors.js';
import { loadSecrets } from '../../src/config/secrets.js';
import { scrubLine } from '../../src/util/log.js';
import { startFakeBotApi, startWebhookSink, type FakeBotApi, type WebhookSink } from '../helpers/fakebotapi.js';
import { rmDir, tmpDir } from '../core/helpers.js';

const TOKEN = '123456789:AAtest-token_0123456789abcdefXYZ';

function status(over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    trading: 'running',
    killSwitch: null,
    orders: { sent: 0, rejects: 0, open: 0 },
    fills: 0,
    pnl: 0,
    process: { pid: 100, startedAt: '2026-01-01T00:00:00.000Z' },
    venues: [{ venue: 'binanceSpot', halted: false }],
    books: [{ venue: 'binanceSpot', symbol: 'BTCUSDT', tradable: true, lastMessageAgeMs: 5 }],
    ...over,
  };
}

const keys = (as: Alert[]): string[] => as.map((a) => `${a.state}:${a.key}`);

describe('alert rules', () => {
  const rules = (o: Record<string, unknown> = {}) => new AlertRules(alertRulesConfig.parse(o));

  it('fire once per episode and resolve once: kill switch, venue halt, stale book', () => {
    const r = rules({ bookStaleSec: 10 });
    expect(r.observe(status(), 0)).toEqual([]);
    const killed = status({ trading: 'killed', killSwitch: { source: 'control', detail: 'x', verified: true, remainingOpen: [] } });
    const a = r.observe(killed, 1000);
    expect(keys(a)).toEqual(['firing:kill_switch']);
    expect(a[0]!.text).toContain('verified');
    expect(r.observe(killed, 2000)).toEqual([]); // still killed: nothing more
    const halted = status({ venues: [{ venue: 'binanceSpot', halted: true }] });
    expect(keys(r.observe(halted, 3000))).toEqual(['resolved:kill_switch', 'firing:venue_halted:binanceSpot']);
    expect(r.observe(halted, 4000)).toEqual([]);
    const stale = status({ books: [{ venue: 'binanceSpot', symbol: 'BTCUSDT', tradable: false, lastMessageAgeMs: 10_000 }] });
    expect(keys(r.observe(stale, 5000))).toEqual(['resolved:venue_halted:binanceSpot', 'firing:book_stale:binanceSpot:BTCUSDT']);
    expect(r.active()).toEqual(['book_stale:binanceSpot:BTCUSDT']);
    expect(keys(r.observe(status(), 6000))).toEqual(['resolved:book_stale:binanceSpot:BTCUSDT']);
    expect(r.active()).toEqual([]);
  });

  it('engine not answering for unreachableSec, then answering again as a new process: resolved + restarted', () => {
    const r = rules({ unreachableSec: 5 });
    r.observe(status(), 0);
    expect(r.failed('no answer (timeout)', 4000)).toEqual([]);
    const down = r.failed('no answer (timeout)', 5000);
    expect(keys(down)).toEqual(['firing:engine_unreachable']);
    expect(down[0]!.text).toContain('no answer (timeout)');
    expect(r.failed('connection refused', 9000)).toEqual([]);
    const back = r.observe(status({ process: { pid: 200, startedAt: '2026-01-01T00:01:00.000Z' } }), 10_000);
    expect(keys(back)).toEqual(['resolved:engine_unreachable', 'event:engine_restarted']);
    expect(back[1]!.text).toContain('pid 200');
    // never seen at all: counts from the bot's first poll
    const r2 = rules({ unreachableSec: 5 });
    expect(r2.failed('connection refused', 0)).toEqual([]);
    expect(keys(r2.failed('connection refused', 5000))).toEqual(['firing:engine_unreachable']);
  });

  it('a status without the fields the rules read is a failed poll, not a pass', () => {
    const r = rules({ unreachableSec: 1 });
    expect(r.observe({ trading: 'running' }, 0)).toEqual([]);
    const a = r.observe({ ...status(), pnl: 'NaN' }, 1500);
    expect(keys(a)).toEqual(['firing:engine_unreachable']);
    expect(a[0]!.text).toContain('malformed status (pnl');
  });

  it('drawdown from the peak since the engine started; the peak restarts with the engine', () => {
    const r = rules({ maxDrawdown: 50 });
    r.observe(status({ pnl: 100 }), 0);
    expect(r.observe(status({ pnl: 60 }), 1000)).toEqual([]);
    const a = r.observe(status({ pnl: 40 }), 2000);
    expect(keys(a)).toEqual(['firing:drawdown']);
    expect(a[0]!.text).toBe('PnL 40.00 is 60.00 below its peak 100.00 (limit 50)');
    expect(keys(r.observe(status({ pnl: 55 }), 3000))).toEqual(['resolved:drawdown']);
    // a new process: its own peak (0), so -40 is within 50
    expect(keys(r.observe(status({ pnl: -40, process: { pid: 2, startedAt: 'b' } }), 4000))).toEqual(['event:engine_restarted']);
  });

  it('reject rate over the window, only with enough orders', () => {
    const r = rules({ maxRejectRate: 0.5, rejectWindowSec: 10, minOrdersForRate: 10 });
    r.observe(status({ orders: { sent: 0, rejects: 0 } }), 0);
    expect(r.observe(status({ orders: { sent: 5, rejects: 5 } }), 1000)).toEqual([]); // 5 orders: too few to judge
    const a = r.observe(status({ orders: { sent: 12, rejects: 8 } }), 2000);
    expect(keys(a)).toEqual(['firing:reject_rate']);
    expect(a[0]!.text).toContain('8 rejects of 12 orders');
    expect(r.observe(status({ orders: { sent: 30, rejects: 18 } }), 3000)).toEqual([]); // still beyond: nothing more
    // later the window holds only the new orders: 30 sent, 1 reject
    expect(keys(r.observe(status({ orders: { sent: 60, rejects: 19 } }), 16_000))).toEqual(['resolved:reject_rate']);
  });

  it('no fills for noFillsSec while trading; not while stopped; a fill resolves', () => {
    const r = rules({ noFillsSec: 100 });
    r.observe(status({ fills: 3 }), 0);
    expect(r.observe(status({ fills: 3 }), 99_000)).toEqual([]);
    expect(keys(r.observe(status({ fills: 3 }), 100_000))).toEqual(['firing:no_fills']);
    expect(r.observe(status({ fills: 3 }), 200_000)).toEqual([]);
    expect(keys(r.observe(status({ fills: 4 }), 201_000))).toEqual(['resolved:no_fills']);
    // stopped: the clock does not run
    expect(r.observe(status({ fills: 4, trading: 'stopped' }), 400_000)).toEqual([]);
    expect(r.observe(status({ fills: 4 }), 450_000)).toEqual([]);
  });

  it('formats a message a person reads', () => {
    const a: Alert = { key: 'kill_switch', state: 'firing', severity: 'critical', title: 'kill switch fired', text: 'source control', at: 'T', source: 'bot' };
    expect(formatAlert(a, 'tokyo')).toBe('[FIRING] kill switch fired (tokyo)\nsource control\nT · kill_switch · critical · from bot');
  });
});

describe('alert routes against local servers', () => {
  let api: FakeBotApi | undefined;
  let sink: WebhookSink | undefined;
  afterEach(async () => {
    await api?.close();
    await sink?.close();
    api = sink = undefined;
  });
  const alert: Alert = { key: 'k', state: 'firing', severity: 'warning', title: 't', text: 'x', at: 'T', source: 'bot' };

  it('Telegram and webhook both get every alert, in order; a failing webhook is retried and counted', async () => {
    api = await startFakeBotApi(TOKEN);
    sink = await startWebhookSink();
    const cfg = alertsConfig.parse({ telegram: { enabled: true, apiBaseUrl: api.url, alertChatIds: [11, 12] }, webhooks: [{ url: sink.url }] });
    const { routes } = routesFromConfig(cfg, TOKEN, 'tokyo');
    const router = new AlertRouter(routes, 'tokyo');
    router.retryDelaysMs = [10, 10];
    sink.failNext(2);
    await router.send(alert);
    await router.send({ ...alert, state: 'resolved' });
    expect(api.sent.map((m) => [m.chat_id, m.text.split('\n')[0]])).toEqual([
      [11, '[FIRING] t (tokyo)'],
      [12, '[FIRING] t (tokyo)'],
      [11, '[RESOLVED] t (tokyo)'],
      [12, '[RESOLVED] t (tokyo)'],
    ]);
    expect(sink.failed).toBe(2);
    expect(sink.bodies.map((b) => (b['alert'] as Alert).state)).toEqual(['firing', 'resolved']);
    expect(sink.bodies[0]).toMatchObject({ source: 'tickwire', site: 'tokyo', alert, message: expect.stringContaining('[FIRING] t') });
    expect(router.counts.get('webhook[0]')).toEqual({ delivered: 2, failed: 0, retries: 2 });
    expect(router.counts.get('telegram')).toEqual({ delivered: 2, failed: 0, retries: 0 });
    // a route that keeps failing gives up after its attempts, counted; the other route is not held up
    sink.failNext(3);
    await router.send(alert);
    expect(router.counts.get('webhook[0]')).toEqual({ delivered: 2, failed: 1, retries: 4 });
    expect(api.sent.length).toBe(6);
  });

  it('a Bot API error names the method and code, never the URL or the token; the token is scrubbed from logs', async () => {
    api = await startFakeBotApi(TOKEN);
    const wrong = '987654321:BBwrong-token_0123456789abcdef';
    const e = await new TelegramApi(api.url, wrong).sendMessage(1, 'x').catch((x: unknown) => x);
    expect(e).toBeInstanceOf(TelegramError);
    expect((e as Error).message).toBe('telegram sendMessage: 401 Unauthorized');
    expect(api.unauthorized).toBe(1);
    expect(scrubLine(`{"msg":"${wrong}"}`)).not.toContain(wrong);
    // a server that is gone: the error has no URL either
    const port = new URL(api.url).port;
    await api.close();
    const e2 = await new TelegramApi(api.url, wrong).sendMessage(1, 'x').catch((x: unknown) => x);
    expect((e2 as Error).message).toMatch(/^telegram sendMessage: \w+ request failed$/);
    expect((e2 as Error).message).not.toContain(port);
    api = undefined;
  });

  it('a webhook answering non-2xx is a failed delivery', async () => {
    sink = await startWebhookSink();
    const w = new WebhookRoute({ url: sink.url.replace('/hook', '/x'), headers: {}, timeoutMs: 2000 }, undefined, 0);
    sink.failNext(1);
    await expect(w.deliver(alert, 'm')).rejects.toThrow('webhook[0]: HTTP 500');
  });
});

describe('alerts and watchdog config', () => {
  const issues = (o: Record<string, unknown>, env: Record<string, string> = {}): string[] => {
    try {
      loadConfig({ env, overrides: o });
      return [];
    } catch (e) {
      return (e as ConfigError).issues.map((i) => `${i.path}: ${i.message}`);
    }
  };
  it('names the field of every bad value', () => {
    expect(issues({ alerts: { telegram: { enabled: true } } })).toEqual([
      'alerts.telegram.alertChatIds: an enabled Telegram route needs alertChatIds or commandChatIds',
    ]);
    expect(issues({ alerts: { telegram: { alertChatIds: ['123'] } } })[0]).toMatch(/^alerts\.telegram\.alertChatIds\.0: must be a Telegram chat id/);
    expect(issues({ alerts: { telegram: { commandChatIds: [1.5] } } })[0]).toMatch(/^alerts\.telegram\.commandChatIds\.0: /);
    expect(issues({ alerts: { webhooks: [{ url: 'ftp://x' }] } })).toEqual(['alerts.webhooks.0.url: must be an http(s):// URL']);
    expect(issues({ alerts: { webhooks: [{ url: 'http://x', extra: 1 }] } })).toEqual(['alerts.webhooks.0.extra: unknown field']);
    expect(issues({ alerts: { rules: { maxRejectRate: 2 } } })[0]).toMatch(/^alerts\.rules\.maxRejectRate: /);
    expect(issues({ alerts: { pollMs: 10 } })[0]).toMatch(/^alerts\.pollMs: /);
    expect(issues({ watchdog: { timeoutSec: 1, requestTimeoutMs: 1000 } })[0]).toMatch(/^watchdog\.requestTimeoutMs: must be below watchdog\.timeoutSec/);
    expect(issues({}, { TICKWIRE__WATCHDOG__TIMEOUT_SEC: '-1' })[0]).toMatch(/^watchdog\.timeoutSec: /);
    expect(issues({}, { TICKWIRE__WATCHDOG__SECRETS_FILE: '/x' })).toEqual([]);
  });

  it('the bot token from env or the secrets file, checked for its shape without echoing it', () => {
    expect(loadSecrets(undefined, { TICKWIRE_TELEGRAM_BOT_TOKEN: TOKEN }).telegram?.botToken).toBe(TOKEN);
    let err: ConfigError | undefined;
    try {
      loadSecrets(undefined, { TICKWIRE_TELEGRAM_BOT_TOKEN: 'not-a-token-secret-value' });
    } catch (e) {
      err = e as ConfigError;
    }
    expect(err?.issues).toEqual([{ path: 'env.TICKWIRE_TELEGRAM_BOT_TOKEN', message: 'must be a Bot API token (digits:characters)' }]);
    expect(err?.message).not.toContain('not-a-token-secret-value');
    const dir = tmpDir('tg-secrets');
    try {
      mkdirSync(dir, { recursive: true });
      const f = join(dir, 'secrets.json');
      writeFileSync(f, JSON.stringify({ telegram: { botToken: TOKEN } }));
      chmodSync(f, 0o600);
      expect(loadSecrets(f, {}).telegram?.botToken).toBe(TOKEN);
      writeFileSync(f, JSON.stringify({ telegram: { botToken: 'nope' } }));
      expect(() => loadSecrets(f, {})).toThrow(/secretsFile:telegram\.botToken: must be a Bot API token/);
    } finally {
      rmDir(dir);
    }
  });
});
