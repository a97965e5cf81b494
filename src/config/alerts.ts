/**
 * Config sections of the processes that watch the engine from outside: `alerts` (`tickwire bot`: alert rules, where
 * alerts go, which Telegram chats may send commands) and `watchdog` (`tickwire watchdog`: the engine's heartbeat and
 * what to do when it stops). They live in the engine's config file, so all three find the same data dir
 * (`persistence.dir`, where the engine writes its control plane's URL and token) and the same instruments.
 * Secrets (the Telegram bot token, the watchdog's own API keys) never live here: see src/config/secrets.ts.
 */
import { z } from 'zod';

const httpUrl = z.string().regex(/^https?:\/\/\S+$/, 'must be an http(s):// URL');
const nonNeg = z.number().nonnegative();
/** A Telegram chat id: an integer (negative for groups), as the Bot API sends it in `message.chat.id`. */
const chatId = z
  .number({ error: 'must be a Telegram chat id (an integer)' })
  .int('must be a Telegram chat id (an integer)')
  .refine(Number.isSafeInteger, 'too large');

/** When an alert fires. Each rule fires once per episode and says "resolved" when it clears; 0 turns a rule off. */
export const alertRulesConfig = z
  .object({
    /** a book whose feed delivered nothing for this long, seconds */
    bookStaleSec: nonNeg.default(30),
    /** PnL this far (quote currency) below its highest value since the engine started */
    maxDrawdown: nonNeg.default(0),
    /** exchange rejects / orders sent over `rejectWindowSec` above this fraction (with at least `minOrdersForRate` orders) */
    maxRejectRate: z.number().min(0).max(1).default(0.2),
    rejectWindowSec: z.number().int().positive().default(300),
    minOrdersForRate: z.number().int().positive().default(20),
    /** trading, and no fill for this long, seconds (default 4 h) */
    noFillsSec: nonNeg.default(4 * 3600),
    /** the engine's control plane does not answer for this long, seconds */
    unreachableSec: z.number().positive().default(15),
  })
  .strict();

export const telegramConfig = z
  .object({
    enabled: z.boolean().default(false),
    /** the Bot API's base URL (a local fake in tests) */
    apiBaseUrl: httpUrl.default('https://api.telegram.org'),
    /** chats that receive the alerts */
    alertChatIds: z.array(chatId).default([]),
    /** chats whose status / start / stop / kill commands are obeyed; every other chat is ignored (logged, counted) */
    commandChatIds: z.array(chatId).default([]),
    /** getUpdates long-poll timeout, seconds (0 = short polling) */
    pollTimeoutSec: z.number().int().min(0).max(50).default(25),
  })
  .strict()
  .refine((t) => !t.enabled || t.alertChatIds.length > 0 || t.commandChatIds.length > 0, {
    message: 'an enabled Telegram route needs alertChatIds or commandChatIds',
    path: ['alertChatIds'],
  });

/** A generic webhook: every alert is POSTed as JSON (see src/app/alertroutes.ts for the body). */
export const webhookConfig = z
  .object({
    url: httpUrl,
    /** extra request headers (e.g. an Authorization the receiver wants) */
    headers: z.record(z.string().regex(/^[A-Za-z0-9-]{1,64}$/, 'must be an HTTP header name'), z.string()).default({}),
    timeoutMs: z.number().int().positive().max(60_000).default(5_000),
  })
  .strict();

export const alertsConfig = z
  .object({
    /** how often the bot asks the engine for its status, ms */
    pollMs: z.number().int().min(100).max(60_000).default(2_000),
    rules: alertRulesConfig.prefault({}),
    telegram: telegramConfig.prefault({}),
    webhooks: z.array(webhookConfig).default([]),
  })
  .strict();

export const watchdogConfig = z
  .object({
    /** how often the heartbeat (the control plane's GET /status) is asked, ms */
    intervalMs: z.number().int().min(50).max(60_000).default(1_000),
    /** one heartbeat request's timeout, ms: a stopped event loop accepts the connection but never answers */
    requestTimeoutMs: z.number().int().positive().max(60_000).default(1_000),
    /** no answer for this long: the engine is hung or gone; cancel everything on every venue and alert, seconds */
    timeoutSec: z.number().positive().max(3600).default(10),
    /**
     * when an engine the watchdog gave up on answers again (a hang that ended, SIGCONT): 'stop' its strategy
     * (POST /stop: its orders were cancelled under it; an operator resumes with `tickwire start`), or 'none'
     */
    onReturn: z.enum(['stop', 'none']).default('stop'),
    /** how long the cancel keeps retrying until the venues show nothing open, ms */
    cancelTimeoutMs: z.number().int().positive().max(600_000).default(30_000),
    /**
     * the watchdog's own API keys: a secrets file of the engine's format (src/config/secrets.ts); the
     * TICKWIRE_*_API_KEY variables of the watchdog's own environment win, as for the engine
     */
    secretsFile: z.string().min(1).optional(),
  })
  .strict()
  .refine((w) => w.requestTimeoutMs < w.timeoutSec * 1000, {
    message: 'must be below watchdog.timeoutSec (a heartbeat must be able to answer before the engine is declared gone)',
    path: ['requestTimeoutMs'],
  });

export type AlertsConfig = z.infer<typeof alertsConfig>;
export type AlertRulesConfig = z.infer<typeof alertRulesConfig>;
export type TelegramConfig = z.infer<typeof telegramConfig>;
export type WebhookConfig = z.infer<typeof webhookConfig>;
export type WatchdogConfig = z.infer<typeof watchdogConfig>;
