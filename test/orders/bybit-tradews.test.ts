/**
 * Bybit trade WS specifics against a scripted server (the simulator never answers 20006 to a client that uses
 * fresh reqIds): 20006 -> the same order is re-sent with a NEW reqId, never the same one. REST (queries, clock)
 * goes to the simulator.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { BybitTradeWsGateway } from '../../src/exchange/bybit/trade/tradews.js';
import type { OrderManager } from '../../src/orders/manager.js';
import { instrumentOf, manager, sim, untilState, type SimHandle } from './harness.js';

describe('bybit trade WS: 20006 duplicate reqId', () => {
  let s: SimHandle;
  let server: WebSocketServer;
  let gw: BybitTradeWsGateway;
  let m: OrderManager;
  const seen: Array<{ reqId: string; op: string; link: string }> = [];

  beforeAll(async () => {
    s = await sim(['bybit']);
    server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await new Promise<void>((r) => server.once('listening', () => r()));
    let creates = 0;
    server.on('connection', (ws) =>
      ws.on('message', (d) => {
        const msg = JSON.parse(String(d)) as { reqId?: string; op: string; args?: Array<Record<string, unknown>> };
        if (msg.op === 'ping') return;
        seen.push({ reqId: msg.reqId ?? '', op: msg.op, link: String(msg.args?.[0]?.['orderLinkId'] ?? '') });
        if (msg.op === 'auth') return ws.send(JSON.stringify({ reqId: msg.reqId, retCode: 0, retMsg: 'OK', op: 'auth', connId: 'c' }));
        if (msg.op === 'order.create' && creates++ === 0)
          return ws.send(JSON.stringify({ reqId: msg.reqId, retCode: 20006, retMsg: 'reqId is duplicated', op: msg.op, data: {}, connId: 'c' }));
        ws.send(
          JSON.stringify({
            reqId: msg.reqId,
            retCode: 0,
            retMsg: 'OK',
            op: msg.op,
            data: { orderId: 'ext-1', orderLinkId: msg.args?.[0]?.['orderLinkId'] },
            header: { 'X-Bapi-Limit-Status': '9' },
            connId: 'c',
          }),
        );
      }),
    );
    const ep = s.endpoints.bybit!;
    const i = instrumentOf(s, 'bybitLinear');
    gw = new BybitTradeWsGateway({
      category: 'linear',
      restBaseUrl: ep.restBaseUrl,
      wsApiUrl: `ws://127.0.0.1:${(server.address() as { port: number }).port}/v5/trade`,
      apiKey: ep.apiKey,
      apiSecret: ep.apiSecret,
      instruments: [{ symbol: i.symbol, priceDecimals: i.priceDecimals, qtyDecimals: i.qtyDecimals }],
      transport: 'ws',
      timeoutMs: 1000,
    });
    ({ m } = manager(i, gw));
    await m.start();
  });
  afterAll(async () => {
    await m?.stop();
    for (const c of server?.clients ?? []) c.terminate();
    await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
    await s?.close();
  });

  it('re-sends the same orderLinkId under a new reqId', async () => {
    const id = m.place({ slot: 0, side: 'BUY', type: 'LIMIT', tif: 'GTC', price: 100, qty: 2 })!;
    await untilState(m, id, ['ACKED']);
    const creates = seen.filter((x) => x.op === 'order.create');
    expect(creates).toHaveLength(2);
    expect(creates[0]!.link).toBe(id);
    expect(creates[1]!.link).toBe(id);
    expect(creates[1]!.reqId).not.toBe(creates[0]!.reqId);
    expect(gw.wsCounts.dupReqIds).toBe(1);
    expect(m.order(id)!.exchangeOrderId).toBe('ext-1');
  });
});
