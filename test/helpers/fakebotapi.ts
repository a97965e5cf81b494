/**
 * Local stand-ins for the outside world of `tickwire bot` / `tickwire watchdog`, on 127.0.0.1 with OS-chosen ports:
 *
 * - `startFakeBotApi(token)`: the two Telegram Bot API methods the bot uses, as the real API answers them
 *   (POST /bot<token>/getUpdates with `offset` and `timeout` as a long poll; POST /bot<token>/sendMessage), a wrong
 *   token answered 401 `{ok:false,error_code:401,description:"Unauthorized"}`. `push()` queues a user's message.
 * - `startWebhookSink()`: records every POSTed JSON body; `failNext(n)` answers the next n with a 500.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface SentMessage {
  chat_id: number;
  text: string;
}

export interface FakeBotApi {
  url: string;
  sent: SentMessage[];
  /** getUpdates calls answered */
  polls: number;
  /** requests with a wrong token */
  unauthorized: number;
  push(chatId: number, text: string, dateSec?: number): void;
  close(): Promise<void>;
}

function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      try {
        resolve(JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as Record<string, unknown>);
      } catch {
        resolve({});
      }
    });
  });
}

function answer(res: ServerResponse, status: number, body: unknown): void {
  if (res.destroyed) return;
  const b = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(b) }).end(b);
}

async function listen(server: Server): Promise<string> {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

function closer(server: Server): () => Promise<void> {
  return () =>
    new Promise<void>((r) => {
      server.closeAllConnections();
      server.close(() => r());
    });
}

export async function startFakeBotApi(token: string): Promise<FakeBotApi> {
  const updates: Array<{ update_id: number; message: Record<string, unknown> }> = [];
  let nextId = 1000;
  let messageId = 1;
  const waiters = new Set<() => void>();
  const api: FakeBotApi = {
    url: '',
    sent: [],
    polls: 0,
    unauthorized: 0,
    push(chatId, text, dateSec = Math.floor(Date.now() / 1000)) {
      updates.push({
        update_id: nextId++,
        message: { message_id: messageId++, date: dateSec, text, chat: { id: chatId, type: 'private' }, from: { id: chatId, is_bot: false, first_name: 'op' } },
      });
      for (const w of waiters) w();
    },
    close: async () => undefined,
  };
  const server = createServer((req, res) => {
    void (async () => {
      const m = /^\/bot([^/]+)\/(\w+)$/.exec(req.url ?? '');
      const body = await readJson(req);
      if (!m || m[1] !== token) {
        api.unauthorized++;
        return answer(res, 401, { ok: false, error_code: 401, description: 'Unauthorized' });
      }
      if (m[2] === 'sendMessage') {
        if (typeof body['chat_id'] !== 'number' || typeof body['text'] !== 'string')
          return answer(res, 400, { ok: false, error_code: 400, description: 'Bad Request: chat_id and text required' });
        api.sent.push({ chat_id: body['chat_id'], text: body['text'] });
        return answer(res, 200, { ok: true, result: { message_id: messageId++, chat: { id: body['chat_id'] }, text: body['text'] } });
      }
      if (m[2] === 'getUpdates') {
        const offset = typeof body['offset'] === 'number' ? body['offset'] : 0;
        const timeout = typeof body['timeout'] === 'number' ? body['timeout'] : 0;
        const pending = () => updates.filter((u) => u.update_id >= offset);
        if (pending().length === 0 && timeout > 0) {
          await new Promise<void>((resolve) => {
            const done = (): void => {
              waiters.delete(done);
              clearTimeout(t);
              resolve();
            };
            const t = setTimeout(done, timeout * 1000);
            waiters.add(done);
            req.on('close', done);
          });
        }
        api.polls++;
        return answer(res, 200, { ok: true, result: pending() });
      }
      return answer(res, 404, { ok: false, error_code: 404, description: 'Not Found' });
    })();
  });
  api.url = await listen(server);
  api.close = closer(server);
  return api;
}

export interface WebhookSink {
  url: string;
  bodies: Array<Record<string, unknown>>;
  /** requests answered 500 on purpose */
  failed: number;
  failNext(n: number): void;
  close(): Promise<void>;
}

export async function startWebhookSink(): Promise<WebhookSink> {
  let fail = 0;
  const sink: WebhookSink = {
    url: '',
    bodies: [],
    failed: 0,
    failNext(n) {
      fail = n;
    },
    close: async () => undefined,
  };
  const server = createServer((req, res) => {
    void (async () => {
      const body = await readJson(req);
      if (req.method !== 'POST' || req.headers['content-type'] !== 'application/json') return answer(res, 415, { error: 'POST JSON' });
      if (fail > 0) {
        fail--;
        sink.failed++;
        return answer(res, 500, { error: 'failing on purpose' });
      }
      sink.bodies.push(body);
      answer(res, 200, { ok: true });
    })();
  });
  sink.url = `${await listen(server)}/hook`;
  sink.close = closer(server);
  return sink;
}
