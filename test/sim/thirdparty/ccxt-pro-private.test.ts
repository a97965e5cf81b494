/**
 * ccxt.pro private flows against the simulator, hosts swapped only: orders over the exchanges' WebSocket order
 * APIs (Binance `order.place`/`order.cancel` on /ws-api/v3 and /ws-fapi/v1 with HMAC per request; Bybit
 * `order.create`/`order.cancel` on /v5/trade) and their echo on the private streams ccxt subscribes to (Binance
 * Spot `userDataStream.subscribe.signature`, USD-M listenKey on /private/ws; Bybit /v5/private `order`).
 */
import ccxt from 'ccxt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SimVenueEndpoints } from '../../../src/sim/core/types.js';
import { startSim, type SimHandle } from '../../../src/sim/index.js';
import { rebase } from './helpers.js';

interface WsOrder {
  id?: string;
  status?: string;
  filled?: number;
  amount?: number;
  symbol?: string;
}
interface ProEx {
  urls: Record<string, unknown>;
  has: Record<string, unknown>;
  loadMarkets(): Promise<unknown>;
  loadHttpProxyAgent(): Promise<unknown>;
  watchOrders(symbol?: string): Promise<WsOrder[]>;
  createOrderWs(symbol: string, type: string, side: string, amount: number, price?: number, params?: Record<string, unknown>): Promise<WsOrder>;
  cancelOrderWs(id: string, symbol: string): Promise<WsOrder>;
  close(): Promise<unknown>;
}

/** Every order update ccxt delivers, in arrival order (ccxt resolves each watch with the updates since the last one,
 * so a single background loop must hold the watch for the whole test). */
class Updates {
  readonly all: WsOrder[] = [];
  private stopped = false;
  constructor(ex: ProEx, symbol: string | undefined) {
    void (async () => {
      while (!this.stopped) {
        try {
          for (const o of await ex.watchOrders(symbol)) this.all.push({ ...o }); // a snapshot: ccxt updates its cached order objects in place
        } catch {
          return; // closed
        }
      }
    })();
  }
  stop(): void {
    this.stopped = true;
  }
  async seen(pred: (o: WsOrder) => boolean, ms = 4000): Promise<WsOrder> {
    const end = Date.now() + ms;
    for (;;) {
      const hit = this.all.find(pred);
      if (hit) return hit;
      if (Date.now() > end) throw new Error('order update never seen on the private stream: ' + JSON.stringify(this.all));
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}

describe('ccxt.pro private streams and WebSocket order APIs against the simulator', () => {
  let sim: SimHandle;
  const open: ProEx[] = [];
  beforeAll(async () => {
    sim = await startSim({ venues: ['binanceSpot', 'binanceUsdm', 'bybit'], seed: 9, generatorMode: 'manual', symbols: ['BTCUSDT'], depthIntervalMs: 0 });
  });
  afterAll(async () => {
    for (const e of open) await e.close().catch(() => undefined);
    await sim?.close();
  });

  async function setup(ex: ProEx, ep: SimVenueEndpoints): Promise<ProEx> {
    open.push(ex);
    const api = ex.urls['api'] as Record<string, unknown>;
    rebase(api, ep.restBaseUrl, (k) => k !== 'ws');
    rebase(api['ws'] as Record<string, unknown>, ep.wsStreamBaseUrl);
    await ex.loadHttpProxyAgent();
    await ex.loadMarkets();
    return ex;
  }

  for (const kind of ['spot', 'usdm'] as const) {
    it(`binance ${kind}: createOrderWs / cancelOrderWs, watchOrders sees new, canceled and filled`, async () => {
      const ep = kind === 'spot' ? sim.endpoints.binanceSpot! : sim.endpoints.binanceUsdm!;
      const book = sim.books.get(kind === 'spot' ? 'binanceSpot' : 'binanceUsdm')!.get('BTCUSDT')!;
      const pd = 10 ** book.instrument.priceDecimals;
      const opts = { fetchMarkets: { types: [kind === 'spot' ? 'spot' : 'linear'] }, fetchCurrencies: false };
      const cfg = { apiKey: ep.apiKey, secret: ep.apiSecret, options: opts };
      const ex = await setup((kind === 'spot' ? new ccxt.pro.binance(cfg) : new ccxt.pro.binanceusdm(cfg)) as unknown as ProEx, ep);
      const S = kind === 'spot' ? 'BTC/USDT' : 'BTC/USDT:USDT';
      const up = new Updates(ex, S); // subscribes (spot: WS API userDataStream.subscribe.signature; usdm: listenKey)
      await new Promise((r) => setTimeout(r, 300));

      const px = (book.bestBidPrice() - 1000 * pd) / pd;
      const o = await ex.createOrderWs(S, 'limit', 'buy', 0.002, px);
      expect(o.id).toMatch(/^[0-9]+$/);
      expect(o.status).toBe('open');
      expect((await up.seen((x) => x.id === o.id && x.status === 'open')).amount).toBe(0.002);
      const c = await ex.cancelOrderWs(o.id!, S);
      expect(c).toMatchObject({ id: o.id, status: 'canceled' });
      await up.seen((x) => x.id === o.id && x.status === 'canceled');

      const m = await ex.createOrderWs(S, 'market', 'buy', 0.002);
      expect(m).toMatchObject({ status: 'closed', filled: 0.002 });
      expect((await up.seen((x) => x.id === m.id && x.status === 'closed')).filled).toBe(0.002);
      up.stop();
    });
  }

  it('bybit spot + linear: createOrderWs / cancelOrderWs on /v5/trade, watchOrders on /v5/private', async () => {
    const ep = sim.endpoints.bybit!;
    const ex = new ccxt.pro.bybit({
      apiKey: ep.apiKey,
      secret: ep.apiSecret,
      options: { fetchMarkets: { types: ['spot', 'linear'] }, enableUnifiedAccount: true, enableUnifiedMargin: false },
    }) as unknown as ProEx;
    ex.has['fetchCurrencies'] = false; // see ccxt-bybit.test.ts: the simulator lacks /v5/asset/coin/query-info
    await setup(ex, ep);
    // ccxt infers spot vs contract of a pushed order from the presence of `tpslMode`, which Bybit's order push has
    // in every category, so it files spot pushes under the linear symbol: watch all symbols and match by id.
    const up = new Updates(ex, undefined);
    await new Promise((r) => setTimeout(r, 300));
    for (const [S, book] of [
      ['BTC/USDT', sim.books.get('bybitSpot')!.get('BTCUSDT')!],
      ['BTC/USDT:USDT', sim.books.get('bybitLinear')!.get('BTCUSDT')!],
    ] as const) {
      const pd = 10 ** book.instrument.priceDecimals;
      const o = await ex.createOrderWs(S, 'limit', 'buy', 0.002, (book.bestBidPrice() - 1000 * pd) / pd);
      expect(o.id).toBeTruthy(); // the trade WS answers ids only, as the real one does
      await up.seen((x) => x.id === o.id && x.status === 'open');
      expect((await ex.cancelOrderWs(o.id!, S)).id).toBe(o.id);
      await up.seen((x) => x.id === o.id && x.status === 'canceled');
      const m = await ex.createOrderWs(S, 'market', 'buy', 0.002);
      expect((await up.seen((x) => x.id === m.id && x.status === 'closed')).filled).toBe(0.002);
    }
    up.stop();
  });
});
