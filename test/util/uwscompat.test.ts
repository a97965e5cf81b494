/**
 * The compat server (node:http + ws) against the uWS behaviour the simulator relies on. Every case runs on the
 * compat server and, where a native build loads (Node 20 here), on native uWS too: the expectations were read off
 * native uWS v20.30, so a row that passes natively and fails on compat is a compat bug.
 */
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { COMPAT_SOURCE, loadNative, uwsMode, type TemplatedApp, type Uws, type WebSocket as UwsWs } from '../../src/util/uws.js';
import { uwsCompat } from '../../src/util/uwscompat.js';
import { closeListen, listen, readBody, send, type Listening } from '../../src/sim/core/http.js';

const native = loadNative();
const servers: Array<[string, Uws]> = [[COMPAT_SOURCE, uwsCompat]];
if (native) servers.push([native.source, native.uws]);

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function until(cond: () => boolean, ms = 5000): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (cond()) return true;
    await sleep(5);
  }
  return cond();
}

/** Send one raw request; resolves with what came back and whether the server closed the connection. */
function rawRequest(port: number, request: string, settleMs = 150): Promise<{ text: string; closed: boolean }> {
  const single = request.indexOf('HTTP/1.1') === request.lastIndexOf('HTTP/1.1');
  return new Promise((resolve) => {
    const c = net.connect(port, '127.0.0.1', () => c.write(request));
    let text = '';
    let done = false;
    const finish = (closed: boolean): void => {
      if (done) return;
      done = true;
      clearTimeout(t);
      c.destroy();
      resolve({ text, closed });
    };
    c.on('data', (d) => {
      text += d.toString('latin1');
      // one complete answer with a Content-Length: no need to wait for more
      const end = text.indexOf('\r\n\r\n');
      const cl = /\r\nContent-Length: (\d+)/i.exec(text);
      if (single && end >= 0 && cl && text.length - end - 4 >= Number(cl[1])) finish(false);
    });
    c.on('error', () => finish(true));
    c.on('close', () => finish(true));
    const t = setTimeout(() => finish(false), settleMs);
  });
}

const body = (text: string): string => text.slice(text.indexOf('\r\n\r\n') + 4);
const statusOf = (text: string): string => text.slice(0, text.indexOf('\r\n'));

describe.each(servers)('uWS API on %s', (_name, u) => {
  let app: TemplatedApp;
  let l: Listening;
  let port = 0;
  const log: string[] = [];
  const socks = new Set<UwsWs<{ id: string }>>();
  let kept: ArrayBuffer | undefined;
  let keptReq: { getUrl(): string } | undefined;
  let keptRes: { end(s: string): unknown } | undefined;

  beforeAll(async () => {
    app = u.App();
    app.get('/a/*', (res, req) => {
      res.end(`wild ${req.getUrl()} q=${String(req.getQuery())} x=${String(req.getQuery('x'))}`);
    });
    app.get('/a/b', (res) => {
      res.end('static');
    });
    app.any('/a/b', (res, req) => {
      res.end(`any ${req.getMethod()}`);
    });
    app.get('/p/:id/x', (res, req) => {
      res.end(`param ${req.getParameter(0)}`);
    });
    app.get('/ws', (res) => {
      res.end('http /ws');
    });
    app.get('/h', (res, req) => {
      const h: string[] = [];
      req.forEach((k, v) => {
        h.push(`${k}=${v}`);
      });
      res
        .writeStatus('201 Created')
        .writeHeader('X-B', '1')
        .writeHeader('x-a', '2')
        .writeHeader('X-B', '3')
        .end(`ip=${Buffer.from(res.getRemoteAddressAsText()).toString()} first=${req.getHeader('x-foo')} ${h.join(',')}`);
    });
    app.post('/echo', (res, req) => {
      const q = req.getQuery() ?? '';
      readBody(res).then(
        (b) => send(res, 200, `${q}|${b.toString()}`),
        () => undefined,
      );
    });
    app.post('/chunks', (res, req) => {
      keptReq = req;
      const parts: string[] = [];
      res.onAborted(() => log.push('aborted /chunks'));
      res.onData((chunk, isLast) => {
        kept = chunk; // neutered after the callback
        parts.push(`${chunk.byteLength}${isLast ? '!' : ''}`);
        if (isLast) setTimeout(() => res.cork(() => res.end(`${parts.join(',')} kept=${kept!.byteLength}`)), 5);
      });
    });
    app.get('/nobody', (res) => {
      res.onAborted(() => undefined);
      res.onData((chunk, isLast) => {
        res.end(`${chunk.byteLength} ${isLast}`);
      });
    });
    app.get('/hang', (res) => {
      keptRes = res;
      res.onAborted(() => {
        log.push('aborted /hang');
      });
    });
    app.ws<{ id: string }>('/ws', {
      maxPayloadLength: 1024,
      idleTimeout: 0,
      upgrade: (res, req, ctx) => {
        const id = req.getQuery('id') ?? '?';
        if (id === 'no') {
          res.writeStatus('400 Bad Request').end();
          return;
        }
        res.upgrade({ id }, req.getHeader('sec-websocket-key'), req.getHeader('sec-websocket-protocol'), req.getHeader('sec-websocket-extensions'), ctx);
      },
      open: (ws) => {
        socks.add(ws);
        ws.subscribe('all');
        ws.subscribe(`me.${ws.getUserData().id}`);
      },
      message: (ws, msg, isBinary) => {
        const d = ws.getUserData();
        const text = Buffer.from(msg).toString();
        kept = msg;
        log.push(`${d.id} msg ${text} ${isBinary} ${msg instanceof ArrayBuffer}`);
        if (text === 'end') {
          ws.end(4001, 'bye');
          try {
            ws.send('late');
          } catch (e) {
            log.push(`${d.id} send after end: ${(e as Error).message}`);
          }
        } else if (text === 'close') ws.close();
        else if (text === 'pub') ws.publish('all', `from ${d.id}`);
        else if (text === 'kept') setTimeout(() => log.push(`${d.id} kept ${kept!.byteLength}`), 1);
        else ws.send(`echo ${text}`, isBinary);
      },
      close: (ws, code, msg) => {
        socks.delete(ws);
        log.push(`${ws.getUserData().id} close ${code} ${Buffer.from(msg).toString()} subs=${app.numSubscribers('all')}`);
      },
    });
    l = await listen(app, '127.0.0.1', 0);
    port = l.port;
  });
  afterAll(() => {
    for (const ws of socks) ws.close();
    closeListen(l);
  });

  it('routes by path: static over param over wildcard, method over any; no route closes without an answer', async () => {
    const get = async (path: string, method = 'GET') => {
      const r = await rawRequest(port, `${method} ${path} HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n`);
      return r.text === '' ? (r.closed ? 'CLOSED' : 'SILENT') : body(r.text);
    };
    expect(await get('/a/b')).toBe('static');
    expect(await get('/a/b', 'POST')).toBe('any post');
    expect(await get('/a/c?x=1%202&y')).toBe('wild /a/c q=x=1%202&y x=1 2');
    expect(await get('/a/')).toBe('wild /a/ q=undefined x=undefined');
    expect(await get('/a/b/')).toBe('wild /a/b/ q=undefined x=undefined');
    expect(await get('/a')).toBe('CLOSED');
    expect(await get('/p/7/x')).toBe('param 7');
    expect(await get('/nothing')).toBe('CLOSED');
    expect(await get('/a/c', 'DELETE')).toBe('CLOSED');
    expect(await get('/ws')).toBe('http /ws'); // a ws route yields a plain GET to the next route
    expect(await get('/ws/')).toBe('CLOSED');
  });

  it('writes status and headers in order with duplicates, then Date and Content-Length; reads headers lower case', async () => {
    const r = await rawRequest(port, 'GET /h HTTP/1.1\r\nHost: x\r\nX-Foo: Bar\r\nx-foo: baz\r\n\r\n');
    expect(statusOf(r.text)).toBe('HTTP/1.1 201 Created');
    const names = r.text
      .slice(0, r.text.indexOf('\r\n\r\n'))
      .split('\r\n')
      .slice(1)
      .map((h) => h.slice(0, h.indexOf(':')));
    expect(names.slice(0, 4)).toEqual(['X-B', 'x-a', 'X-B', 'Date']);
    expect(names).toContain('Content-Length');
    expect(names.indexOf('Content-Length')).toBeGreaterThan(names.indexOf('Date'));
    expect(body(r.text)).toBe('ip=127.0.0.1 first=Bar host=x,x-foo=Bar,x-foo=baz');
  });

  it('keeps an HTTP/1.1 connection alive across requests', async () => {
    const r = await rawRequest(port, 'GET /a/b HTTP/1.1\r\nHost: x\r\n\r\nGET /p/1/x HTTP/1.1\r\nHost: x\r\n\r\n');
    expect(r.closed).toBe(false);
    expect(r.text.match(/HTTP\/1.1 200 OK/g)?.length).toBe(2);
    expect(r.text).toContain('static');
    expect(r.text).toContain('param 1');
  });

  it('delivers the body in chunks, the last one flagged, each neutered after its callback; the request dies with its handler', async () => {
    const stream = new ReadableStream<Uint8Array>({
      async start(c) {
        c.enqueue(new TextEncoder().encode('abc'));
        await sleep(30);
        c.enqueue(new TextEncoder().encode('defg'));
        c.close();
      },
    });
    const chunked = await fetch(`http://127.0.0.1:${port}/chunks`, { method: 'POST', body: stream, duplex: 'half' } as RequestInit);
    expect(await chunked.text()).toBe('3,4,0! kept=0');
    const whole = await fetch(`http://127.0.0.1:${port}/chunks`, { method: 'POST', body: 'hello' });
    expect(await whole.text()).toBe('5! kept=0');
    expect(() => keptReq!.getUrl()).toThrow(/must not be accessed/);
    const echo = await fetch(`http://127.0.0.1:${port}/echo?a=1`, { method: 'POST', body: 'k=v' });
    expect(await echo.text()).toBe('a=1|k=v');
    const none = await fetch(`http://127.0.0.1:${port}/nobody`);
    expect(await none.text()).toBe('0 true');
  });

  it('runs onAborted when the client goes away before the answer; the response is dead afterwards', async () => {
    const ac = new AbortController();
    const p = fetch(`http://127.0.0.1:${port}/hang`, { signal: ac.signal }).catch(() => 'aborted');
    expect(await until(() => keptRes !== undefined)).toBe(true);
    ac.abort();
    expect(await p).toBe('aborted');
    expect(await until(() => log.includes('aborted /hang'))).toBe(true);
    expect(() => keptRes!.end('late')).toThrow(/must not be accessed/);
  });

  it('WebSocket: ArrayBuffer messages with the binary flag, echo, pub/sub, end and close codes', async () => {
    const got = new Map<string, string[]>();
    const closes = new Map<string, string>();
    const open = (id: string): Promise<WebSocket> =>
      new Promise((resolve, reject) => {
        const w = new WebSocket(`ws://127.0.0.1:${port}/ws?id=${id}`);
        got.set(id, []);
        w.on('open', () => resolve(w));
        w.on('message', (d, isBinary) => got.get(id)!.push(`${d.toString()}${isBinary ? ' (bin)' : ''}`));
        w.on('close', (code, reason) => closes.set(id, `${code} ${reason.toString()}`));
        w.on('error', reject);
      });
    const a = await open('A');
    const b = await open('B');
    const c = await open('C');
    expect(app.numSubscribers('all')).toBe(3);
    a.send('hi');
    a.send(Buffer.from('raw'), { binary: true });
    await until(() => got.get('A')!.length === 2);
    expect(got.get('A')).toEqual(['echo hi', 'echo raw (bin)']);
    expect(log).toContain('A msg hi false true');
    expect(log).toContain('A msg raw true true');
    a.send('kept');
    expect(await until(() => log.includes('A kept 0'))).toBe(true);
    app.publish('all', 'to all');
    b.send('pub');
    expect(await until(() => got.get('C')!.includes('from B') && got.get('C')!.includes('to all'))).toBe(true);
    expect(got.get('B')).toEqual(['to all']); // ws.publish skips the sender
    a.send('end');
    expect(await until(() => closes.has('A'))).toBe(true);
    expect(closes.get('A')).toBe('4001 bye');
    expect(log).toContain('A close 4001 bye subs=2'); // the topics are left before the close handler
    expect(log).toContain('A send after end: Invalid access of closed uWS.WebSocket/SSLWebSocket.');
    b.send('close');
    expect(await until(() => closes.has('B'))).toBe(true);
    expect(closes.get('B')).toBe('1006 ');
    expect(log).toContain('B close 1006  subs=1');
    c.send('x'.repeat(2000)); // above maxPayloadLength: dropped without a close frame
    expect(await until(() => closes.has('C'))).toBe(true);
    expect(closes.get('C')).toBe('1006 ');
    expect(log).toContain('C close 1006 Received too big message subs=0');
    expect(app.numSubscribers('all')).toBe(0);
  });

  it('an upgrade handler can refuse with a status; an upgrade to no route is closed', async () => {
    const refused = await new Promise<string>((resolve) => {
      const w = new WebSocket(`ws://127.0.0.1:${port}/ws?id=no`);
      w.on('unexpected-response', (_req, res) => resolve(String(res.statusCode)));
      w.on('error', (e) => resolve(`error ${e.message}`));
    });
    expect(refused).toBe('400');
    const nowhere = await new Promise<string>((resolve) => {
      const w = new WebSocket(`ws://127.0.0.1:${port}/nowhere`);
      w.on('open', () => resolve('open'));
      w.on('error', (e) => resolve(`error ${e.message}`));
    });
    expect(nowhere).toMatch(/^error (socket hang up|read ECONNRESET)/);
  });
});

describe('WebSocket idle timeout (every server at once: the shortest uWS allows is 8 s)', () => {
  it('pings a margin before the timeout, keeps a client that answers, closes one that does not (1006)', async () => {
    const runs = servers.map(async ([, u]) => {
      const app = u.App();
      const closes: string[] = [];
      const behavior = (name: string) => ({
        close: (_ws: unknown, code: number, msg: ArrayBuffer) => closes.push(`${name} ${code} ${Buffer.from(msg).toString()}`),
      });
      app.ws('/pings', { idleTimeout: 8, ...behavior('pings') });
      app.ws('/quiet', { idleTimeout: 8, sendPingsAutomatically: false, ...behavior('quiet') });
      const l = await listen(app, '127.0.0.1', 0);
      const events: string[] = [];
      const client = (path: string, autoPong: boolean): WebSocket => {
        const w = new WebSocket(`ws://127.0.0.1:${l.port}${path}`, { autoPong });
        w.on('ping', () => events.push(`${path} ${autoPong} ping`));
        w.on('close', (code) => events.push(`${path} ${autoPong} close ${code}`));
        return w;
      };
      const answering = client('/pings', true);
      client('/pings', false);
      client('/quiet', true);
      const ok = await until(() => events.includes('/pings false close 1006') && events.includes('/quiet true close 1006'), 20_000);
      const answeringOpen = answering.readyState === WebSocket.OPEN;
      answering.terminate();
      closeListen(l);
      return { ok, answeringOpen, events, closes };
    });
    for (const r of await Promise.all(runs)) {
      expect(r.ok).toBe(true);
      expect(r.answeringOpen).toBe(true);
      expect(r.events.indexOf('/pings false ping')).toBeGreaterThanOrEqual(0);
      expect(r.events.indexOf('/pings false ping')).toBeLessThan(r.events.indexOf('/pings false close 1006'));
      expect(r.events).toContain('/pings true ping');
      expect(r.events.some((e) => e.startsWith('/quiet true ping'))).toBe(false);
      expect(r.closes).toContain('pings 1006 WebSocket timed out from inactivity');
      expect(r.closes).toContain('quiet 1006 WebSocket timed out from inactivity');
    }
  }, 30_000);
});

describe('uWS loader', () => {
  it('reads TICKWIRE_UWS whole: auto, native, compat, or an error naming the values', () => {
    expect(uwsMode({})).toBe('auto');
    expect(uwsMode({ TICKWIRE_UWS: 'compat' })).toBe('compat');
    expect(uwsMode({ TICKWIRE_UWS: 'native' })).toBe('native');
    expect(() => uwsMode({ TICKWIRE_UWS: 'uws' })).toThrow(/expected auto, native or compat/);
  });
});
