/**
 * `tickwire bot` against a real engine (the embedded simulator) and local fakes of its outside world: the Telegram
 * Bot API (long poll + sendMessage) and a webhook sink, all on 127.0.0.1. The bot finds the engine as it would in
 * production: through <persistence.dir>/run-state.json.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { runEngine } from '../../src/app/run.js';
import { startBot, type Bot } from '../../src/app/bot.js';
import type { Alert } from '../../src/app/alertrules.js';
import { loadConfig } from '../../src/config/load.js';
import type { BaseGateway } from '../../src/orders/basegw.js';
import { scrubLine } from '../../src/util/log.js';
import { rmDir, tmpDir, until } from '../core/helpers.js';
import { startFakeBotApi, startWebhookSink } from '../helpers/fakebotapi.js';

const dir = tmpDir('bot');
afterAll(() => rmDir(dir));
const TOKEN = 'bot-test-control-token-0123456789';
const BOT_TOKEN = '555000111:AAbot-test-token_abcdefghij0123';
const OPERATOR = 4242;
const STRANGER = 9999;

describe('tickwire bot against a running engine', () => {
  it('alerts on a venue halt and the kill switch (once each, resolved when cleared) on Telegram and the webhook; commands only from allowlisted chats', async () => {
    const api = await startFakeBotApi(BOT_TOKEN);
    const sink = await startWebhookSink();
    let bot: Bot | undefined;
    let failure: unknown;
    let done = false;
    const alerts: Alert[] = [];
    const dataDir = `${dir}/data`;
    /** the command replies to a chat (the alerts go to the operator's chat too: they start with `[FIRING]` ...) */
    const replies = (chat: number): string[] => api.sent.filter((m) => m.chat_id === chat && !/^\[(FIRING|RESOLVED|EVENT)\]/.test(m.text)).map((m) => m.text);
    const replyTo = async (chat: number, text: string, n: number): Promise<string> => {
      api.push(chat, text);
      await until(() => replies(chat).length >= n, 10_000, `reply ${n} to ${text}`);
      return replies(chat)[n - 1]!;
    };
    const alertTexts = () => api.sent.filter((m) => m.text.startsWith('[')).map((m) => m.text.split('\n')[0]);
    try {
      await runEngine({
        durationSec: 40,
        print: false,
        signals: false,
        simRate: 200,
        env: { TICKWIRE_CONTROL_TOKEN: TOKEN },
        overrides: {
          log: { level: 'silent', destinations: [{ to: 'stderr', level: 'silent' }] },
          persistence: { dir: dataDir },
          strategy: { name: 'none' },
          instruments: [{ venue: 'binanceSpot', symbol: 'BTCUSDT' }],
          exchanges: { bybit: { enabled: false } },
        },
        stopWhen: () => done,
        onReady: ({ engine, wiring }) => {
          void (async () => {
            try {
              const cfg = loadConfig({
                env: {},
                overrides: {
                  persistence: { dir: dataDir },
                  alerts: {
                    pollMs: 200,
                    rules: { bookStaleSec: 0, noFillsSec: 0, maxRejectRate: 0, unreachableSec: 5 },
                    telegram: { enabled: true, apiBaseUrl: api.url, alertChatIds: [OPERATOR], commandChatIds: [OPERATOR], pollTimeoutSec: 1 },
                    webhooks: [{ url: sink.url }],
                  },
                },
              });
              bot = await startBot({ cfg, env: { TICKWIRE_TELEGRAM_BOT_TOKEN: BOT_TOKEN, TICKWIRE_SITE: 'test' }, onAlert: (a) => alerts.push(a) });
              bot.router.retryDelaysMs = [50, 50];
              expect(scrubLine(BOT_TOKEN)).toBe('[redacted]');
              await until(() => bot!.counts.polls >= 3, 10_000, 'three polls');
              expect(bot.counts.pollFailures).toBe(0);
              expect(alerts).toEqual([]);

              // a stranger's command: no answer at all, counted
              api.push(STRANGER, '/status');
              api.push(STRANGER, '/kill');
              await until(() => bot!.counts.commandsIgnored === 2, 10_000, 'stranger ignored');
              const status = await replyTo(OPERATOR, '/status', 1);
              expect(status).toContain('trading: running');
              expect(status).toContain('binanceSpot');
              expect(api.sent.some((m) => m.chat_id === STRANGER)).toBe(false);
              expect(engine.trading).toBe('running');

              // a venue halt (an auth failure): one alert, then resolved by the operator's /start
              (wiring.orders.gateway('binanceSpot') as unknown as BaseGateway).halt('auth: test');
              await until(() => alertTexts().includes('[FIRING] venue binanceSpot halted (test)'), 10_000, 'halt alert');
              expect(await replyTo(OPERATOR, '/start', 2)).toContain('venues resumed: binanceSpot');
              await until(() => alertTexts().includes('[RESOLVED] venue binanceSpot halted (test)'), 10_000, 'halt resolved');

              // /stop and the kill switch from the phone
              expect(await replyTo(OPERATOR, '/stop', 3)).toContain('trading stopped');
              expect(engine.trading).toBe('stopped');
              const kill = await replyTo(OPERATOR, '/kill', 4);
              expect(kill).toContain('kill switch fired');
              expect(kill).toContain('nothing open');
              await until(() => alertTexts().includes('[FIRING] kill switch fired (test)'), 10_000, 'kill alert');
              const polls = bot.counts.polls;
              await until(() => bot!.counts.polls >= polls + 5, 10_000, 'five more polls');
              await bot.router.idle();
            } catch (e) {
              failure = e;
            } finally {
              done = true;
            }
          })();
        },
      });
      if (failure) throw failure;
      // one alert per event, in order, on both routes
      expect(alerts.map((a) => `${a.state}:${a.key}`)).toEqual(['firing:venue_halted:binanceSpot', 'resolved:venue_halted:binanceSpot', 'firing:kill_switch']);
      expect(alertTexts()).toEqual([
        '[FIRING] venue binanceSpot halted (test)',
        '[RESOLVED] venue binanceSpot halted (test)',
        '[FIRING] kill switch fired (test)',
      ]);
      expect(sink.bodies.map((b) => `${(b['alert'] as Alert).state}:${(b['alert'] as Alert).key}`)).toEqual([
        'firing:venue_halted:binanceSpot',
        'resolved:venue_halted:binanceSpot',
        'firing:kill_switch',
      ]);
      expect(bot!.counts).toMatchObject({ commands: 4, commandsIgnored: 2, commandsStale: 0, alertsFiring: 2, alertsResolved: 1 });

      // the engine is gone (its control plane closed with the run): "not answering", once
      await until(() => alertTexts().includes('[FIRING] engine not answering (test)'), 20_000, 'unreachable alert');
      expect(api.sent.find((m) => m.text.startsWith('[FIRING] engine not answering'))?.text).toContain('connection refused');
    } finally {
      await bot?.stop();
      await api.close();
      await sink.close();
    }
  });
});
