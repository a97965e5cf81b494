/**
 * Issue 13: a client written for the 2026 USD-M stream URLs (shared/exchange/binance.md section 1), as a plain `ws`
 * client would use them: connect to `/public`, `/market` and `/private` with no streams listed, then JSON SUBSCRIBE.
 * Book streams arrive on `/public`, trades on `/market`; on `/private` a listenKey item (`<listenKey>` or
 * `<listenKey>@<EVENT>`) starts that key's user data on the socket.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { rest, startTestSim, type TestSim } from '../binance/helpers.js';

/** the smallest third-party client: every frame parsed into `frames`, `until` waits for one matching (bounded) */
class Plain {
  readonly frames: Array<Record<string, unknown>> = [];
  private waiters: Array<() => void> = [];
  private constructor(readonly ws: WebSocket) {
    ws.on('message', (b) => {
      this.frames.push(JSON.parse(b.toString()) as Record<string, unknown>);
      for (const w of this.waiters.splice(0)) w();
    });
  }
  static open(url: string): Promise<Plain> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url);
      ws.once('open', () => resolve(new Plain(ws)));
      ws.once('error', reject);
      ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
    });
  }
  send(o: unknown): void {
    this.ws.send(JSON.stringify(o));
  }
  /** the first frame (from `from` on) matching `pred`; its index is `at` */
  async until(pred: (j: Record<string, unknown>) => boolean, from = 0, ms = 3000): Promise<{ j: Record<string, unknown>; at: number }> {
    const end = Date.now() + ms;
    for (;;) {
      for (let i = from; i < this.frames.length; i++) if (pred(this.frames[i]!)) return { j: this.frames[i]!, at: i };
      const left = end - Date.now();
      if (left <= 0) throw new Error('no matching frame; got ' + JSON.stringify(this.frames.slice(from)).slice(0, 600));
      await new Promise<void>((r) => {
        const t = setTimeout(r, left);
        this.waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
  }
  /** send a request and wait for the answer with its id */
  async call(method: string, params: unknown[] | undefined, id: number): Promise<Record<string, unknown>> {
    const from = this.frames.length;
    this.send(params === undefined ? { method, id } : { method, params, id });
    return (await this.until((j) => j['id'] === id, from)).j;
  }
  close(): void {
    this.ws.close();
  }
}

const data = (j: Record<string, unknown>): Record<string, unknown> => (j['data'] ?? j) as Record<string, unknown>;

describe('USD-M 2026 stream URLs, driven as a third-party client', () => {
  let t: TestSim;
  beforeAll(async () => {
    t = await startTestSim();
  });
  afterAll(async () => t?.sim.close());

  const marketSell = async (cid: string): Promise<void> => {
    const r = await rest(
      t.usdm,
      'POST',
      '/fapi/v1/order',
      { symbol: 'BTCUSDT', side: 'SELL', type: 'MARKET', quantity: '0.01', newClientOrderId: cid },
      { signed: true },
    );
    expect(r.status).toBe(200);
  };
  const listenKey = async (): Promise<string> => ((await rest(t.usdm, 'POST', '/fapi/v1/listenKey')).json as { listenKey: string }).listenKey;

  it('/public and /market with an empty or absent streams=: SUBSCRIBE, LIST_SUBSCRIPTIONS, book data on /public, trades on /market', async () => {
    const base = t.usdm.wsStreamBaseUrl;
    const pub = await Plain.open(`${base}/public/stream?streams=`);
    const mkt = await Plain.open(`${base}/market/stream?streams=`);
    const bare = await Plain.open(`${base}/public/stream`);
    try {
      expect(await pub.call('SUBSCRIBE', ['btcusdt@bookTicker', 'btcusdt@depth@100ms'], 1)).toEqual({ result: null, id: 1 });
      expect(await mkt.call('SUBSCRIBE', ['btcusdt@aggTrade'], 2)).toEqual({ result: null, id: 2 });
      expect(await bare.call('SUBSCRIBE', ['btcusdt@bookTicker'], 3)).toEqual({ result: null, id: 3 });
      expect(await pub.call('LIST_SUBSCRIPTIONS', undefined, 4)).toEqual({ result: ['btcusdt@bookTicker', 'btcusdt@depth@100ms'], id: 4 });
      t.sim.generator.produce(300);
      await marketSell('pub-1');
      const bt = await pub.until((j) => j['stream'] === 'btcusdt@bookTicker');
      expect(data(bt.j)).toMatchObject({ e: 'bookTicker', s: 'BTCUSDT' });
      const dp = await pub.until((j) => j['stream'] === 'btcusdt@depth@100ms');
      expect(data(dp.j)).toMatchObject({ e: 'depthUpdate', s: 'BTCUSDT' });
      expect(typeof data(dp.j)['pu']).toBe('number');
      const at = await mkt.until((j) => j['stream'] === 'btcusdt@aggTrade');
      expect(data(at.j)).toMatchObject({ e: 'aggTrade', s: 'BTCUSDT' });
      await bare.until((j) => j['stream'] === 'btcusdt@bookTicker');
      // UNSUBSCRIBE answers null and the list shrinks
      expect(await pub.call('UNSUBSCRIBE', ['btcusdt@depth@100ms'], 5)).toEqual({ result: null, id: 5 });
      expect(await pub.call('LIST_SUBSCRIPTIONS', undefined, 6)).toEqual({ result: ['btcusdt@bookTicker'], id: 6 });
    } finally {
      pub.close();
      mkt.close();
      bare.close();
    }
  });

  it('/private/stream?streams= then SUBSCRIBE <listenKey>@ORDER_TRADE_UPDATE: ORDER_TRADE_UPDATE only, wrapped by key', async () => {
    const lk = await listenKey();
    const priv = await Plain.open(`${t.usdm.wsStreamBaseUrl}/private/stream?streams=`);
    try {
      expect(await priv.call('SUBSCRIBE', [`${lk}@ORDER_TRADE_UPDATE`], 1)).toEqual({ result: null, id: 1 });
      expect(await priv.call('LIST_SUBSCRIPTIONS', undefined, 2)).toEqual({ result: [`${lk}@ORDER_TRADE_UPDATE`], id: 2 });
      const from = priv.frames.length;
      t.sim.generator.produce(300);
      await marketSell('priv-1');
      const ev = await priv.until((j) => data(j)['e'] === 'ORDER_TRADE_UPDATE' && (data(j)['o'] as { X: string }).X === 'FILLED', from);
      expect(ev.j['stream']).toBe(lk);
      expect(data(ev.j)['o']).toMatchObject({ s: 'BTCUSDT', c: 'priv-1', S: 'SELL', X: 'FILLED' });
      // the filter holds: the fill's TRADE_LITE and ACCOUNT_UPDATE (pushed before the REST answer) never came
      await priv.call('LIST_SUBSCRIPTIONS', undefined, 3);
      const types = priv.frames.slice(from).map((j) => data(j)['e'] ?? 'reply');
      expect(types.filter((e) => e !== 'ORDER_TRADE_UPDATE' && e !== 'reply')).toEqual([]);
      // UNSUBSCRIBE stops the key's data on this socket
      expect(await priv.call('UNSUBSCRIBE', [`${lk}@ORDER_TRADE_UPDATE`], 4)).toEqual({ result: null, id: 4 });
      const after = priv.frames.length;
      await marketSell('priv-2');
      await priv.call('LIST_SUBSCRIPTIONS', undefined, 5);
      expect(priv.frames.slice(after)).toEqual([{ result: [], id: 5 }]);
    } finally {
      priv.close();
    }
  });

  it('/private/ws with no query then SUBSCRIBE <listenKey>: every event, raw frames', async () => {
    const lk = await listenKey();
    const priv = await Plain.open(`${t.usdm.wsStreamBaseUrl}/private/ws`);
    try {
      expect(await priv.call('SUBSCRIBE', [lk], 7)).toEqual({ result: null, id: 7 });
      const from = priv.frames.length;
      t.sim.generator.produce(300);
      await marketSell('priv-3');
      const ev = await priv.until((j) => j['e'] === 'ORDER_TRADE_UPDATE' && (j['o'] as { X: string }).X === 'FILLED', from);
      expect(ev.j['o']).toMatchObject({ c: 'priv-3' });
      await priv.until((j) => j['e'] === 'TRADE_LITE' && j['c'] === 'priv-3', from);
      await priv.until((j) => j['e'] === 'ACCOUNT_UPDATE', from);
    } finally {
      priv.close();
    }
  });

  it('/private SUBSCRIBE refuses a listenKey that does not exist (-1125) and an unknown event type, whole', async () => {
    const lk = await listenKey();
    const priv = await Plain.open(`${t.usdm.wsStreamBaseUrl}/private/stream`);
    try {
      const bogus = 'Q'.repeat(64);
      expect(await priv.call('SUBSCRIBE', [`${bogus}@ORDER_TRADE_UPDATE`], 1)).toEqual({
        error: { code: -1125, msg: 'This listenKey does not exist.' },
        id: 1,
      });
      // a valid item next to an invalid one: nothing is applied
      expect(await priv.call('SUBSCRIBE', [lk, `${lk}@NO_SUCH_EVENT`], 2)).toMatchObject({ error: { code: 2 }, id: 2 });
      expect(await priv.call('LIST_SUBSCRIPTIONS', undefined, 3)).toEqual({ result: [], id: 3 });
      // a deleted key is gone too
      const del = await rest(t.usdm, 'DELETE', '/fapi/v1/listenKey');
      expect(del.status).toBe(200);
      expect(await priv.call('SUBSCRIBE', [lk], 4)).toEqual({ error: { code: -1125, msg: 'This listenKey does not exist.' }, id: 4 });
    } finally {
      priv.close();
    }
  });
});
