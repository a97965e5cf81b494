/**
 * WebSocket client layer against a local uWS server on 127.0.0.1 (port 0): delivery as bytes, app ping,
 * answering server pings, reconnect after a server close, planned rotation without a gap, staleness watchdog,
 * backoff and connect-rate limiter arithmetic, clean close.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uws, type TemplatedApp, type WebSocket as UwsSocket } from '../../src/util/uws.js';
import { listen, closeListen, type Listening } from '../../src/sim/core/http.js';
import { ManagedWs, backoffMs, connectDelay, noteAttempt, wsDegradations } from '../../src/net/ws.js';
import { RawWs } from '../../bench/wsraw.js';

interface Srv {
  app: TemplatedApp;
  l: Listening;
  url: string;
  socks: Set<UwsSocket<unknown>>;
  received: string[];
  pongs: number;
  opens: number;
}

let srv: Srv;
let timer: NodeJS.Timeout | undefined;
let seq = 0;
let paused = false;

async function until(cond: () => boolean, ms = 5000): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (cond()) return true;
    await new Promise((r) => setTimeout(r, 5));
  }
  return cond();
}

beforeAll(async () => {
  const app = uws().App();
  const s: Partial<Srv> = { app, socks: new Set(), received: [], pongs: 0, opens: 0 };
  app.ws('/*', {
    open: (ws) => {
      s.socks!.add(ws);
      s.opens!++;
    },
    message: (_ws, msg) => {
      s.received!.push(Buffer.from(msg).toString());
    },
    pong: () => {
      s.pongs!++;
    },
    close: (ws) => {
      s.socks!.delete(ws);
    },
  });
  const l = await listen(app, '127.0.0.1', 0);
  s.l = l;
  s.url = `ws://127.0.0.1:${l.port}/feed`;
  srv = s as Srv;
  // a numbered frame every 2 ms to every socket
  timer = setInterval(() => {
    if (paused) return;
    seq++;
    for (const ws of srv.socks) ws.send(`{"n":${seq}}`, false);
  }, 2);
});

afterAll(() => {
  if (timer) clearInterval(timer);
  for (const ws of srv?.socks ?? []) ws.close();
  closeListen(srv?.l);
});

describe('ManagedWs', () => {
  it('delivers frames as bytes, sends the app ping, answers server pings, closes cleanly', async () => {
    const seen: number[] = [];
    const c = new ManagedWs({
      name: 't1',
      url: srv.url,
      appPing: '{"op":"ping"}',
      appPingIntervalMs: 30,
      onFrame: (d) => {
        expect(Buffer.isBuffer(d)).toBe(true);
        seen.push(Number(/\d+/.exec(d.toString())![0]));
      },
    });
    await c.start();
    expect(await until(() => seen.length > 10)).toBe(true);
    expect(await until(() => srv.received.includes('{"op":"ping"}'))).toBe(true);
    const p0 = srv.pongs;
    for (const ws of srv.socks) ws.ping('x');
    expect(await until(() => srv.pongs > p0)).toBe(true);
    for (let i = 1; i < seen.length; i++) expect(seen[i]).toBe((seen[i - 1] as number) + 1);
    await c.close();
    expect(c.connected).toBe(false);
  });

  it('reconnects after the server drops it, with onDisconnect and onOpen(reconnect=true)', async () => {
    const events: string[] = [];
    const c = new ManagedWs({
      name: 't2',
      url: srv.url,
      backoffInitialMs: 10,
      backoffMaxMs: 50,
      onFrame: () => {},
      onOpen: (_c, reconnect) => {
        events.push(reconnect ? 'reopen' : 'open');
      },
      onDisconnect: () => events.push('down'),
    });
    await c.start();
    for (const ws of [...srv.socks]) ws.end(1001, 'going away');
    expect(await until(() => events.includes('reopen'))).toBe(true);
    expect(events).toEqual(['open', 'down', 'reopen']);
    expect(c.reconnects).toBe(1);
    // counted for the degradation log / metrics: the close code and reason, and the reconnect
    expect(c.stats.disconnects).toBe(1);
    expect([...c.stats.byCode]).toEqual([[1001, 1]]);
    expect(c.stats.reasonByCode.get(1001)).toBe('going away');
    expect(c.stats.reconnects).toBe(1);
    const lines = wsDegradations()()
      .filter((s) => s.labels['conn'] === 't2' && s.value > 0)
      .map((s) => [s.event, s.labels['code'], s.value, s.detail?.()]);
    expect(lines).toEqual([
      ['ws_disconnect', '1001', 1, { reason: 'going away' }],
      ['ws_reconnect', undefined, 1, undefined],
    ]);
    await c.close();
  });

  it('rotates to a replacement connection without a gap in the sequence', async () => {
    const seen: number[] = [];
    let disconnects = 0;
    const c = new ManagedWs({
      name: 't3',
      url: srv.url,
      rotateOverlapFrames: 5,
      onFrame: (d) => seen.push(Number(/\d+/.exec(d.toString())![0])),
      onDisconnect: () => disconnects++,
    });
    await c.start();
    expect(await until(() => seen.length > 5)).toBe(true);
    const opens = srv.opens;
    c.rotate();
    expect(await until(() => c.rotations === 1)).toBe(true);
    expect(srv.opens).toBe(opens + 1);
    const n = seen.length;
    expect(await until(() => seen.length > n + 10)).toBe(true);
    // both sockets delivered during the overlap: every number is present, duplicates allowed, none missing
    const uniq = [...new Set(seen)].sort((a, b) => a - b);
    for (let i = 1; i < uniq.length; i++) expect(uniq[i]).toBe((uniq[i - 1] as number) + 1);
    expect(disconnects).toBe(0);
    expect(c.stats.rotations).toBe(1);
    expect(c.stats.disconnects).toBe(0);
    await c.close();
  });

  it('sessions (rotateWhenReady): the replacement takes over when its setup resolves, both deliver meanwhile, no gap', async () => {
    const seen: number[] = [];
    let release: () => void = () => {};
    let setups = 0;
    const c = new ManagedWs({
      name: 't3b',
      url: srv.url,
      rotateWhenReady: true,
      onFrame: (d) => seen.push(Number(/\d+/.exec(d.toString())![0])),
      onOpen: (_w, _rc, _send, _conn, rotation) => {
        if (!rotation) return undefined;
        setups++;
        return new Promise<void>((r) => (release = r));
      },
    });
    await c.start();
    const first = c.current;
    expect(await until(() => seen.length > 5)).toBe(true);
    c.rotate();
    expect(await until(() => setups === 1)).toBe(true);
    // not promoted while the setup runs, however many frames the replacement delivers
    const n = seen.length;
    expect(await until(() => seen.length > n + 40)).toBe(true);
    expect([c.rotations, c.current]).toEqual([0, first]);
    const dup = seen.length - new Set(seen).size;
    expect(dup).toBeGreaterThan(0); // both sockets delivered during the overlap
    release();
    expect(await until(() => c.rotations === 1 && c.drainingCount === 0)).toBe(true);
    expect(c.current).not.toBe(first);
    const m = seen.length;
    expect(await until(() => seen.length > m + 10)).toBe(true);
    const uniq = [...new Set(seen)].sort((a, b) => a - b);
    for (let i = 1; i < uniq.length; i++) expect(uniq[i]).toBe((uniq[i - 1] as number) + 1);
    expect([c.stats.disconnects, c.reconnects]).toEqual([0, 0]);
    await c.close();
  });

  it('marks the feed stale when frames stop and fresh when they resume', async () => {
    let stale = 0;
    let fresh = 0;
    const c = new ManagedWs({ name: 't4', url: srv.url, staleAfterMs: 60, deadAfterMs: 0, onFrame: () => {}, onStale: () => stale++, onFresh: () => fresh++ });
    await c.start();
    paused = true;
    try {
      expect(await until(() => stale === 1)).toBe(true);
      expect(c.stale).toBe(true);
    } finally {
      paused = false;
    }
    expect(await until(() => fresh === 1)).toBe(true);
    expect(c.stale).toBe(false);
    expect([c.stats.stale, c.stats.fresh]).toEqual([1, 1]);
    expect(c.stats.lastStaleMs).toBeGreaterThan(0);
    await c.close();
  });

  it('a silent connection (no frame, no ping) is dropped and reconnected', async () => {
    const c = new ManagedWs({ name: 't5', url: srv.url, staleAfterMs: 40, deadAfterMs: 150, backoffInitialMs: 10, onFrame: () => {} });
    await c.start();
    paused = true;
    try {
      expect(await until(() => c.reconnects >= 1)).toBe(true);
    } finally {
      paused = false;
    }
    expect(await until(() => c.connected)).toBe(true);
    expect(c.stats.dead).toBeGreaterThanOrEqual(1);
    expect(c.stats.byCode.get(1006)).toBeGreaterThanOrEqual(1); // terminate(): no close frame
    await c.close();
  });

  it('RawWs (bench candidate): frames in place and in order, sends masked, answers pings, closes', async () => {
    const seen: number[] = [];
    let closed = 0;
    const r = new RawWs({
      url: srv.url,
      onMessage: (b, s, e) => seen.push(Number(/\d+/.exec(b.toString('latin1', s, e))![0])),
      onClose: () => closed++,
    });
    await r.connect();
    expect(await until(() => seen.length > 20)).toBe(true);
    r.send('{"op":"raw-hello"}');
    expect(await until(() => srv.received.includes('{"op":"raw-hello"}'))).toBe(true);
    const p0 = srv.pongs;
    for (const ws of srv.socks) ws.ping('y');
    expect(await until(() => srv.pongs > p0)).toBe(true);
    for (let i = 1; i < seen.length; i++) expect(seen[i]).toBe((seen[i - 1] as number) + 1);
    r.close();
    expect(await until(() => closed === 1)).toBe(true);
  });

  it('start() rejects with the URL when nothing answers, and close() stops the retries', async () => {
    const c = new ManagedWs({ name: 't6', url: 'ws://127.0.0.1:1/none', startTimeoutMs: 200, backoffInitialMs: 20, backoffMaxMs: 40, onFrame: () => {} });
    await expect(c.start()).rejects.toThrow(/ws:\/\/127\.0\.0\.1:1\/none/);
    await c.close();
  });

  it('backoff is jittered exponential and capped; the connect limiter spaces attempts', () => {
    expect(backoffMs(0, 100, 10_000, 0)).toBe(50);
    expect(backoffMs(0, 100, 10_000, 1)).toBe(100);
    expect(backoffMs(3, 100, 10_000, 1)).toBe(800);
    expect(backoffMs(20, 100, 10_000, 1)).toBe(10_000);
    expect(backoffMs(20, 100, 10_000, 0)).toBe(5_000);
    const host = 'limiter.test:1';
    expect(connectDelay(host, 2, 1_000_000)).toBe(0);
    noteAttempt(host, 1_000_000);
    noteAttempt(host, 1_000_500);
    // third attempt within 5 minutes must wait until the first one leaves the window
    expect(connectDelay(host, 2, 1_001_000)).toBe(300_000 - 1_000 + 1);
    expect(connectDelay(host, 2, 1_300_001)).toBe(0);
  });
});
