/** Signatures, timestamps and bad input: Binance's real error codes, never a crash. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, ed25519, rest, startTestSim, wsSigned, type TestSim } from './helpers.js';

describe('binance sim: documented example signature', () => {
  // The docs' example: this exact query and secret give this signature; the sim's clock is set so that its
  // timestamp (2017-07-12) is valid.
  const TS = 1499827319559;
  const QUERY = 'symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=0.1&recvWindow=5000&timestamp=1499827319559';
  const SIG = 'c8db56825ae71d6d79447849e617115f4a920fa2acdcab2b053c4b2838bd6b71';
  let t: TestSim;
  beforeAll(async () => {
    t = await startTestSim({}, { symbols: ['LTCBTC', 'BTCUSDT'], clockOffsetMs: { binanceSpot: TS + 500 - Date.now() } });
  });
  afterAll(async () => t?.sim.close());

  it('accepts the docs example request and rejects it tampered with -1022', async () => {
    const ok = await fetch(`${t.spot.restBaseUrl}/api/v3/order?${QUERY}&signature=${SIG}`, { method: 'POST', headers: { 'X-MBX-APIKEY': t.spot.apiKey } });
    const okJson = (await ok.json()) as { code?: number; orderId?: number; status?: string };
    // past authentication: either placed, or a business rule of the sim's generic LTCBTC filters
    if (ok.status === 200) expect(okJson.status).toBe('NEW');
    else expect([-1013, -2010]).toContain(okJson.code);
    expect(ok.headers.get('x-mbx-used-weight-1m')).toMatch(/^\d+$/);

    const upper = await fetch(`${t.spot.restBaseUrl}/api/v3/order?${QUERY.replace('GTC', 'IOC')}&signature=${SIG}`, {
      method: 'POST',
      headers: { 'X-MBX-APIKEY': t.spot.apiKey },
    });
    expect(upper.status).toBe(400);
    expect(await upper.json()).toEqual({ code: -1022, msg: 'Signature for this request is not valid.' });

    // hex is case-insensitive; query split between URL and body is signed as query+body
    const body = await fetch(`${t.spot.restBaseUrl}/api/v3/order?symbol=LTCBTC&side=BUY&type=LIMIT`, {
      method: 'POST',
      headers: { 'X-MBX-APIKEY': t.spot.apiKey, 'content-type': 'application/x-www-form-urlencoded' },
      body: `timeInForce=GTC&quantity=1&price=0.1&recvWindow=5000&timestamp=${TS}&signature=${SIG.toUpperCase()}`,
    });
    // payload differs from the docs' (no '&' between query and body), so this signature must fail
    expect(((await body.json()) as { code: number }).code).toBe(-1022);
  });
});

describe('binance sim: authentication and bad input', () => {
  let t: TestSim;
  beforeAll(async () => {
    t = await startTestSim();
  });
  afterAll(async () => t?.sim.close());

  it('Ed25519-signed REST request is accepted; HMAC too', async () => {
    const a = await rest(t.spot, 'GET', '/api/v3/account', {}, { signed: true, ed: true });
    expect(a.status).toBe(200);
    expect((a.json as { accountType: string }).accountType).toBe('SPOT');
    const b = await rest(t.usdm, 'GET', '/fapi/v2/balance', {}, { signed: true });
    expect(b.status).toBe(200);
    expect(Array.isArray(b.json)).toBe(true);
  });

  it('signature over query + body (POST form) is verified', async () => {
    const r = await rest(
      t.spot,
      'POST',
      '/api/v3/order',
      { symbol: 'BTCUSDT', side: 'BUY', type: 'LIMIT', timeInForce: 'GTC', quantity: '0.001', price: '96000.00' },
      { signed: true, body: true },
    );
    expect(r.status).toBe(200);
    expect((r.json as { status: string }).status).toBe('NEW');
  });

  it('bad signature, missing/unknown key, stale/future timestamp, recvWindow, missing params, unknown symbol', async () => {
    const order = { symbol: 'BTCUSDT', side: 'BUY', type: 'LIMIT', timeInForce: 'GTC', quantity: '0.01', price: '96000.00' };
    const cases: Array<[Promise<{ status: number; json: unknown }>, number, number, string?]> = [
      [rest(t.spot, 'POST', '/api/v3/order', order, { signed: true, tamper: true }), 400, -1022, 'Signature for this request is not valid.'],
      [rest(t.usdm, 'POST', '/fapi/v1/order', order, { signed: true, tamper: true }), 400, -1022],
      [rest(t.spot, 'POST', '/api/v3/order', order, { signed: true, ed: true, tamper: true }), 400, -1022],
      [rest(t.spot, 'POST', '/api/v3/order', order, { signed: true, apiKey: null }), 401, -2014, 'API-key format invalid.'],
      [rest(t.spot, 'POST', '/api/v3/order', order, { signed: true, apiKey: 'x'.repeat(64) }), 401, -2015, 'Invalid API-key, IP, or permissions for action.'],
      [
        rest(t.spot, 'POST', '/api/v3/order', order, { signed: true, nowMs: Date.now() - 10_000 }),
        400,
        -1021,
        'Timestamp for this request is outside of the recvWindow.',
      ],
      [
        rest(t.spot, 'POST', '/api/v3/order', order, { signed: true, nowMs: Date.now() + 5_000 }),
        400,
        -1021,
        "Timestamp for this request was 1000ms ahead of the server's time.",
      ],
      [rest(t.usdm, 'POST', '/fapi/v1/order', { ...order, recvWindow: 60001 }, { signed: true }), 400, -1131],
      [
        rest(t.spot, 'POST', '/api/v3/order', { symbol: 'BTCUSDT', type: 'LIMIT' }, { signed: true }),
        400,
        -1102,
        "Mandatory parameter 'side' was not sent, was empty/null, or malformed.",
      ],
      [rest(t.spot, 'POST', '/api/v3/order', order, {}), 400, -1102, "Mandatory parameter 'timestamp' was not sent, was empty/null, or malformed."],
      [rest(t.spot, 'POST', '/api/v3/order', { ...order, symbol: 'NOPEUSDT' }, { signed: true }), 400, -1121, 'Invalid symbol.'],
      [rest(t.spot, 'GET', '/api/v3/depth', { symbol: 'NOPEUSDT' }), 400, -1121, 'Invalid symbol.'],
      [rest(t.spot, 'GET', '/api/v3/depth', {}), 400, -1102, "Mandatory parameter 'symbol' was not sent, was empty/null, or malformed."],
      [rest(t.spot, 'POST', '/api/v3/order', { ...order, quantity: '1e-3' }, { signed: true }), 400, -1100],
      [rest(t.spot, 'POST', '/api/v3/order', { ...order, price: '1000.001' }, { signed: true }), 400, -1013, 'Filter failure: PRICE_FILTER'],
      [
        rest(t.spot, 'POST', '/api/v3/order', { ...order, quantity: '0.000000001' }, { signed: true }),
        400,
        -1111,
        "Parameter 'quantity' has too much precision.",
      ],
      [rest(t.spot, 'POST', '/api/v3/order', { ...order, quantity: '0.000011' }, { signed: true }), 400, -1013, 'Filter failure: LOT_SIZE'],
      [rest(t.spot, 'POST', '/api/v3/order', { ...order, quantity: '0.00001', price: '50000.00' }, { signed: true }), 400, -1013, 'Filter failure: NOTIONAL'],
      [
        rest(t.usdm, 'POST', '/fapi/v1/order', { ...order, price: '10000.01' }, { signed: true }),
        400,
        -1111,
        'Precision is over the maximum defined for this asset.',
      ],
      [rest(t.usdm, 'POST', '/fapi/v1/order', { ...order, quantity: '0.001', price: '1000.0' }, { signed: true }), 400, -4164],
      [
        rest(t.usdm, 'POST', '/fapi/v1/order', { ...order, type: 'STOP_MARKET' }, { signed: true }),
        400,
        -4120,
        'Order type not supported for this endpoint. Please use the Algo Order API endpoints instead.',
      ],
      [
        rest(t.spot, 'DELETE', '/api/v3/order', { symbol: 'BTCUSDT' }, { signed: true }),
        400,
        -1102,
        "Param 'orderId' or 'origClientOrderId' must be sent, but both were empty/null!",
      ],
      [rest(t.spot, 'DELETE', '/api/v3/order', { symbol: 'BTCUSDT', orderId: 42 }, { signed: true }), 400, -2011, 'Unknown order sent.'],
      [rest(t.spot, 'GET', '/api/v3/order', { symbol: 'BTCUSDT', orderId: 42 }, { signed: true }), 400, -2013, 'Order does not exist.'],
      [rest(t.usdm, 'PUT', '/fapi/v1/listenKey', {}, {}), 400, -1125, 'This listenKey does not exist.'],
      [
        rest(t.spot, 'POST', '/api/v3/order', { symbol: 'BTCUSDT', side: 'BUY', type: 'MARKET', quantity: '0.01', price: '96000.00' }, { signed: true }),
        400,
        -1106,
        "Parameter 'price' sent when not required.",
      ],
      [
        rest(t.spot, 'POST', '/api/v3/order', { symbol: 'BTCUSDT', side: 'BUY', type: 'MARKET', timeInForce: 'GTC', quantity: '0.01' }, { signed: true }),
        400,
        -1106,
        "Parameter 'timeInForce' sent when not required.",
      ],
      [rest(t.spot, 'POST', '/api/v3/order', { ...order, side: 'HOLD' }, { signed: true }), 400, -1117, 'Invalid side.'],
      [rest(t.spot, 'POST', '/api/v3/order', { ...order, type: 'ICEBERG' }, { signed: true }), 400, -1116, 'Invalid orderType.'],
      [rest(t.spot, 'POST', '/api/v3/order', { ...order, timeInForce: 'GTX' }, { signed: true }), 400, -1115, 'Invalid timeInForce.'],
    ];
    for (const [p, status, code, msg] of cases) {
      const r = await p;
      expect({ status: r.status, code: (r.json as { code: number }).code }).toEqual({ status, code });
      if (msg) expect((r.json as { msg: string }).msg).toBe(msg);
    }
    // the server is still fine
    expect((await rest(t.spot, 'GET', '/api/v3/ping')).json).toEqual({});
  });

  it('Spot listenKey endpoints are gone (410); unknown USD-M path gets -5000', async () => {
    expect((await rest(t.spot, 'POST', '/api/v3/userDataStream')).status).toBe(410);
    const r = await rest(t.usdm, 'GET', '/fapi/v1/nothing');
    expect(r.status).toBe(404);
    expect((r.json as { code: number }).code).toBe(-5000);
  });

  it('malformed body and garbage never crash the server', async () => {
    const r1 = await fetch(t.spot.restBaseUrl + '/api/v3/order?%zz=%%&&&=', {
      method: 'POST',
      headers: { 'X-MBX-APIKEY': t.spot.apiKey },
      body: '\u0000\u0001%%%',
    });
    expect(r1.status).toBe(400);
    const r2 = await fetch(t.usdm.restBaseUrl + '/fapi/v1/order', {
      method: 'POST',
      headers: { 'X-MBX-APIKEY': t.usdm.apiKey, 'content-type': 'application/json' },
      body: '{"symbol":',
    });
    expect(r2.status).toBe(400);
    expect((await rest(t.usdm, 'GET', '/fapi/v1/time')).status).toBe(200);
  });

  it('WS API: malformed JSON, unknown method, missing params, bad signature, good HMAC and Ed25519 signatures', async () => {
    for (const ep of [t.spot, t.usdm]) {
      const c = await connect(ep.wsApiUrl);
      try {
        c.send('{"id":1,"method":');
        const a = await c.next<{ id: null; status: number; error: { code: number } }>((j) => j.status === 400);
        expect(a.id).toBeNull();
        expect(a.error.code).toBe(-1135);
        c.send({ id: 'x1', method: 'no.such.method', params: {} });
        expect((await c.next<{ error: { code: number } }>((j) => j.id === 'x1')).error.code).toBeLessThan(0);
        c.send({ id: 2, method: 'order.place', params: wsSigned(ep, { symbol: 'BTCUSDT', type: 'LIMIT' }) });
        const m = await c.next<{ status: number; error: { code: number; msg: string } }>((j) => j.id === 2);
        expect(m.error).toEqual({ code: -1102, msg: "Mandatory parameter 'side' was not sent, was empty/null, or malformed." });
        const bad = wsSigned(ep, { symbol: 'BTCUSDT', side: 'BUY', type: 'LIMIT', timeInForce: 'GTC', quantity: '0.01', price: '96000.00' });
        bad['signature'] = String(bad['signature']).replace(/^./, (x) => (x === 'a' ? 'b' : 'a'));
        c.send({ id: 3, method: 'order.place', params: bad });
        expect((await c.next<{ error: { code: number } }>((j) => j.id === 3)).error.code).toBe(-1022);
        c.send({
          id: 4,
          method: 'order.place',
          params: wsSigned(ep, { symbol: 'BTCUSDT', side: 'BUY', type: 'LIMIT', timeInForce: 'GTC', quantity: '0.01', price: '96000.00' }),
        });
        const ok = await c.next<{ status: number; result: { status: string } }>((j) => j.id === 4);
        expect(ok.status).toBe(200);
        expect(ok.result.status).toBe('NEW');
        c.send({
          id: 5,
          method: 'order.place',
          params: wsSigned(ep, { symbol: 'BTCUSDT', side: 'BUY', type: 'LIMIT', timeInForce: 'GTC', quantity: '0.01', price: '96000.00' }, true),
        });
        expect((await c.next<{ status: number }>((j) => j.id === 5)).status).toBe(200);
        c.send({ id: 6, method: 'time', params: [] });
        expect((await c.next<{ error: { code: number } }>((j) => j.id === 6)).error.code).toBe(-1135);
        c.send({ id: 7, method: 'time' });
        expect((await c.next<{ status: number }>((j) => j.id === 7)).status).toBe(200);
      } finally {
        c.close();
      }
    }
  });

  it('session.logon with Ed25519 authenticates later requests without apiKey/signature', async () => {
    const c = await connect(t.spot.wsApiUrl);
    try {
      const ts = Date.now();
      const payload = `apiKey=${t.spot.ed25519ApiKey}&timestamp=${ts}`;
      c.send({
        id: 'l',
        method: 'session.logon',
        params: { apiKey: t.spot.ed25519ApiKey, timestamp: ts, signature: ed25519(t.spot.ed25519PrivateKeyPem!, payload) },
      });
      const l = await c.next<{ status: number; result: { apiKey: string } }>((j) => j.id === 'l');
      expect(l.status).toBe(200);
      expect(l.result.apiKey).toBe(t.spot.ed25519ApiKey);
      c.send({ id: 's', method: 'session.status' });
      expect((await c.next<{ result: { apiKey: string } }>((j) => j.id === 's')).result.apiKey).toBe(t.spot.ed25519ApiKey);
      c.send({
        id: 'o',
        method: 'order.place',
        params: { symbol: 'BTCUSDT', side: 'BUY', type: 'LIMIT', timeInForce: 'GTC', quantity: '0.01', price: '96000.00', timestamp: Date.now() },
      });
      expect((await c.next<{ status: number }>((j) => j.id === 'o')).status).toBe(200);
      c.send({ id: 'old', method: 'order.status', params: { symbol: 'BTCUSDT', orderId: 1, timestamp: Date.now() - 60_000 } });
      expect((await c.next<{ error: { code: number } }>((j) => j.id === 'old')).error.code).toBe(-1021);
      c.send({ id: 'out', method: 'session.logout' });
      expect((await c.next<{ result: { apiKey: null } }>((j) => j.id === 'out')).result.apiKey).toBeNull();
      c.send({
        id: 'o2',
        method: 'order.place',
        params: { symbol: 'BTCUSDT', side: 'BUY', type: 'LIMIT', timeInForce: 'GTC', quantity: '0.01', price: '96000.00', timestamp: Date.now() },
      });
      expect((await c.next<{ error: { code: number; msg: string } }>((j) => j.id === 'o2')).error.code).toBe(-1102);
    } finally {
      c.close();
    }
  });
});
