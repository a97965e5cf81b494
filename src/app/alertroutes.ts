/**
 * Where alerts go: pluggable routes behind one router. Each route delivers one alert or throws; the router keeps
 * the alerts in order per route, retries a failed delivery (3 attempts, 0.5 s then 2 s apart), and counts and logs
 * every delivery and failure. A route that fails never holds up another.
 *
 * - Telegram (`TelegramRoute`): `sendMessage` to every chat of `alerts.telegram.alertChatIds`, over the Bot API at
 *   `apiBaseUrl` (the token is in the URL path: `TelegramApi` never puts the URL in an error or a log line, and the
 *   token is registered with the logger's scrubber).
 * - Webhook (`WebhookRoute`): `POST <url>` with `Content-Type: application/json` and the body
 *   `{"source":"tickwire","site":..., "host":..., "alert":{key, state, severity, title, text, at, source}, "message": <the text a person reads>}`;
 *   any 2xx is delivered.
 */
import { hostname } from 'node:os';
import { request } from 'undici';
import type { AlertsConfig, WebhookConfig } from '../config/alerts.js';
import { log, registerSecret } from '../util/log.js';
import { formatAlert, type Alert } from './alertrules.js';

export interface AlertRoute {
  readonly name: string;
  deliver(a: Alert, message: string): Promise<void>;
}

/** Telegram's limit for one message's text */
const TELEGRAM_MAX_TEXT = 4096;

/** What a Bot API call answers: `{ok: true, result}` or `{ok: false, error_code, description}`. */
interface BotAnswer {
  ok: boolean;
  result?: unknown;
  error_code?: number;
  description?: string;
  parameters?: { retry_after?: number };
}

/** A Telegram Bot API error: the method and the API's own code/description, never the URL (it holds the token). */
export class TelegramError extends Error {
  constructor(
    readonly method: string,
    readonly code: number | string,
    description: string,
    readonly retryAfterSec?: number,
  ) {
    super(`telegram ${method}: ${code} ${description}`.slice(0, 300));
    this.name = 'TelegramError';
  }
}

/** The two Bot API methods the bot uses, over HTTPS (or the local fake's HTTP in tests). */
export class TelegramApi {
  private readonly base: string;
  constructor(apiBaseUrl: string, token: string) {
    registerSecret(token);
    this.base = `${apiBaseUrl.replace(/\/$/, '')}/bot${token}/`;
  }

  async call(method: string, body: Record<string, unknown>, timeoutMs: number, signal?: AbortSignal): Promise<unknown> {
    let text: string;
    let status: number;
    try {
      const timeout = AbortSignal.timeout(timeoutMs);
      const res = await request(this.base + method, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
        signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
      });
      status = res.statusCode;
      text = await res.body.text();
    } catch (e) {
      // undici's errors may carry the URL: keep only the kind
      const err = e as { name?: string; code?: string; cause?: { code?: string } };
      throw new TelegramError(method, err.code ?? err.cause?.code ?? err.name ?? 'network', 'request failed');
    }
    let a: BotAnswer;
    try {
      a = JSON.parse(text) as BotAnswer;
    } catch {
      throw new TelegramError(method, status, 'answer is not JSON');
    }
    if (typeof a !== 'object' || a === null || a.ok !== true)
      throw new TelegramError(method, a?.error_code ?? status, String(a?.description ?? 'not ok'), a?.parameters?.retry_after);
    return a.result;
  }

  sendMessage(chatId: number, text: string, timeoutMs = 10_000): Promise<unknown> {
    const t = text.length > TELEGRAM_MAX_TEXT ? `${text.slice(0, TELEGRAM_MAX_TEXT - 1)}…` : text;
    return this.call('sendMessage', { chat_id: chatId, text: t, disable_web_page_preview: true }, timeoutMs);
  }

  /** long poll: the updates after `offset`, waiting up to `timeoutSec` for one */
  getUpdates(offset: number, timeoutSec: number, signal?: AbortSignal): Promise<unknown> {
    return this.call('getUpdates', { offset, timeout: timeoutSec, allowed_updates: ['message'] }, (timeoutSec + 10) * 1000, signal);
  }
}

export class TelegramRoute implements AlertRoute {
  readonly name = 'telegram';
  constructor(
    private readonly api: TelegramApi,
    private readonly chatIds: readonly number[],
  ) {}

  async deliver(_a: Alert, message: string): Promise<void> {
    for (const id of this.chatIds) await this.api.sendMessage(id, message);
  }
}

export class WebhookRoute implements AlertRoute {
  readonly name: string;
  constructor(
    private readonly cfg: WebhookConfig,
    private readonly site: string | undefined,
    index: number,
  ) {
    this.name = `webhook[${index}]`;
    // the URL may hold a secret (Slack-style hooks), and so may the headers
    registerSecret(cfg.url);
    for (const v of Object.values(cfg.headers)) registerSecret(v);
  }

  async deliver(a: Alert, message: string): Promise<void> {
    const body = JSON.stringify({ source: 'tickwire', site: this.site ?? null, host: hostname(), alert: a, message });
    let status: number;
    try {
      const res = await request(this.cfg.url, {
        method: 'POST',
        headers: { ...this.cfg.headers, 'content-type': 'application/json' },
        body,
        signal: AbortSignal.timeout(this.cfg.timeoutMs),
        headersTimeout: this.cfg.timeoutMs,
        bodyTimeout: this.cfg.timeoutMs,
      });
      status = res.statusCode;
      await res.body.dump();
    } catch (e) {
      const err = e as { name?: string; code?: string; cause?: { code?: string } };
      throw new Error(`${this.name}: ${err.code ?? err.cause?.code ?? err.name ?? 'request failed'}`);
    }
    if (status < 200 || status >= 300) throw new Error(`${this.name}: HTTP ${status}`);
  }
}

export interface RouteCounts {
  delivered: number;
  failed: number;
  retries: number;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Sends each alert on every route, in order per route, with retries; counts and logs. */
export class AlertRouter {
  readonly counts = new Map<string, RouteCounts>();
  private readonly queues = new Map<string, Promise<void>>();
  /** backoff between attempts, ms (tests shorten it) */
  retryDelaysMs: number[] = [500, 2000];

  constructor(
    readonly routes: readonly AlertRoute[],
    private readonly site?: string,
  ) {
    for (const r of routes) this.counts.set(r.name, { delivered: 0, failed: 0, retries: 0 });
  }

  /** Queue the alert on every route; the promise ends once every route delivered it or gave up. */
  send(a: Alert): Promise<void> {
    const message = formatAlert(a, this.site);
    log()[a.state === 'resolved' || a.severity === 'info' ? 'info' : 'warn'](
      { event: 'alert', key: a.key, state: a.state, severity: a.severity, title: a.title, source: a.source },
      `alert ${a.state}: ${a.title}`,
    );
    const all = this.routes.map((r) => {
      const next = (this.queues.get(r.name) ?? Promise.resolve()).then(() => this.deliver(r, a, message));
      this.queues.set(r.name, next);
      return next;
    });
    return Promise.all(all).then(() => undefined);
  }

  /** every queued delivery done */
  async idle(): Promise<void> {
    await Promise.all(this.queues.values());
  }

  private async deliver(r: AlertRoute, a: Alert, message: string): Promise<void> {
    const c = this.counts.get(r.name) as RouteCounts;
    for (let attempt = 0; ; attempt++) {
      try {
        await r.deliver(a, message);
        c.delivered++;
        return;
      } catch (e) {
        const wait = this.retryDelaysMs[attempt];
        const retryAfter = e instanceof TelegramError && e.retryAfterSec !== undefined ? e.retryAfterSec * 1000 : 0;
        if (wait === undefined) {
          c.failed++;
          log().error(
            { event: 'alert_delivery_failed', route: r.name, key: a.key, state: a.state, err: (e as Error).message, failed: c.failed },
            'alert NOT delivered',
          );
          return;
        }
        c.retries++;
        log().warn(
          { event: 'alert_delivery_retry', route: r.name, key: a.key, err: (e as Error).message, retryInMs: Math.max(wait, retryAfter) },
          'alert delivery failed: retrying',
        );
        await sleep(Math.min(Math.max(wait, retryAfter), 30_000));
      }
    }
  }
}

/** The routes the config asks for; Telegram needs the bot token (env or secrets file). */
export function routesFromConfig(cfg: AlertsConfig, telegramToken: string | undefined, site?: string): { routes: AlertRoute[]; telegram?: TelegramApi } {
  const routes: AlertRoute[] = [];
  let telegram: TelegramApi | undefined;
  if (cfg.telegram.enabled) {
    if (!telegramToken) throw new Error('alerts.telegram.enabled needs the bot token: TICKWIRE_TELEGRAM_BOT_TOKEN or secretsFile {"telegram":{"botToken"}}');
    telegram = new TelegramApi(cfg.telegram.apiBaseUrl, telegramToken);
    if (cfg.telegram.alertChatIds.length > 0) routes.push(new TelegramRoute(telegram, cfg.telegram.alertChatIds));
  }
  for (const [i, w] of cfg.webhooks.entries()) routes.push(new WebhookRoute(w, site, i));
  return telegram ? { routes, telegram } : { routes };
}
