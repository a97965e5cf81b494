import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uws } from '../../../src/util/uws.js';
import { closeListen, listen, parseQuery, readBody, requestInfo, send, sendAfter, type Listening } from '../../../src/sim/core/http.js';
import { FixedWindow, RateLimiter, SlidingWindow } from '../../../src/sim/core/ratelimit.js';

describe('sim core http helpers', () => {
  let l: Listening;
  let base = '';
  beforeAll(async () => {
    const app = uws().App();
    app.post('/echo', (res, req) => {
      const info = requestInfo(req);
      readBody(res).then(
        (b) => send(res, 201, JSON.stringify({ q: info.rawQuery, body: b.toString(), h: info.headers.get('x-test') ?? null }), { 'X-Extra': '1' }),
        () => undefined,
      );
    });
    app.get('/slow', (res) => sendAfter(res, 20, 429, '{"code":-1003}', [['Retry-After', '1']]));
    l = await listen(app, '127.0.0.1', 0);
    base = `http://127.0.0.1:${l.port}`;
  });
  afterAll(() => closeListen(l));

  it('reads the body, keeps the raw query, writes status and headers', async () => {
    const r = await fetch(`${base}/echo?a=1&b=x%20y`, { method: 'POST', body: 'k=v&z=%2B', headers: { 'x-test': 'hi' } });
    expect(l.port).toBeGreaterThan(0);
    expect(r.status).toBe(201);
    expect(r.headers.get('x-extra')).toBe('1');
    expect(r.headers.get('content-type')).toContain('application/json');
    expect(await r.json()).toEqual({ q: 'a=1&b=x%20y', body: 'k=v&z=%2B', h: 'hi' });
  });

  it('answers after a delay', async () => {
    const r = await fetch(`${base}/slow`);
    expect(r.status).toBe(429);
    expect(r.headers.get('retry-after')).toBe('1');
  });

  it('parses queries and keeps the raw text', () => {
    const q = parseQuery('?symbol=BTCUSDT&price=1%2E5&x=a+b&x=2&flag&bad=%E0%A4%A');
    expect(q.raw).toBe('symbol=BTCUSDT&price=1%2E5&x=a+b&x=2&flag&bad=%E0%A4%A');
    expect(q.params.get('symbol')).toBe('BTCUSDT');
    expect(q.params.get('price')).toBe('1.5');
    expect(q.params.get('x')).toBe('2');
    expect(q.all.filter(([k]) => k === 'x').map(([, v]) => v)).toEqual(['a b', '2']);
    expect(q.params.get('flag')).toBe('');
    expect(q.malformed).toBe(true);
  });
});

describe('rate limit counters', () => {
  it('fixed window resets on the boundary', () => {
    const w = new FixedWindow(60_000);
    expect(w.add(5, 120_000)).toBe(5);
    expect(w.add(5, 179_999)).toBe(10);
    expect(w.used(180_000)).toBe(0);
    expect(w.resetAtMs(170_000)).toBe(180_000);
  });
  it('sliding window forgets old buckets', () => {
    const w = new SlidingWindow(1000, 10);
    w.add(3, 10_000);
    w.add(4, 10_500);
    expect(w.used(10_900)).toBe(7);
    expect(w.used(11_050)).toBe(4);
    expect(w.used(11_600)).toBe(0);
  });
  it('limits with 429, then bans with 418', () => {
    const rl = new RateLimiter({ limit: 10, intervalMs: 1000, banAfter: 2, banMs: 5000 });
    expect(rl.hit('k', 6, 0).verdict).toBe('ok');
    const c = rl.hit('k', 6, 1);
    expect(c.verdict).toBe('limited');
    expect(c.used).toBe(6);
    expect(rl.hit('other', 6, 1).verdict).toBe('ok');
    expect(rl.hit('k', 6, 2).verdict).toBe('banned');
    expect(rl.hit('k', 1, 2000).verdict).toBe('banned');
    expect(rl.hit('k', 1, 5002).verdict).toBe('ok');
  });
});
