import { createHmac, createPublicKey, verify } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  Ed25519Signer,
  HmacSha256,
  binanceEd25519RestSignature,
  binanceRestQuery,
  binanceWsApiPayload,
  bybitRestSignature,
  bybitSignText,
  bybitWsAuthSignature,
} from '../../src/codec/sign.js';
import { BinanceOrderTemplate } from '../../src/exchange/binance/trade/template.js';
import { BybitOrderTemplate } from '../../src/exchange/bybit/trade/template.js';
import { Ed25519RestSigner, HmacHexSigner, blankOrderFields } from '../../src/codec/template.js';
import { AsciiWriter } from '../../src/codec/wire.js';
import { OrderIds, isValidClientOrderId } from '../../src/model/ids.js';
import { idPatterns, parseJsonIds, parseJsonSafe, quoteBigInts } from '../../src/codec/json.js';

// Binance's documented HMAC example key (spot-docs rest-api.md "SIGNED Endpoint Examples"): public test value.
const BN_DOC_SECRET = 'NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j';
const BN_DOC_PAYLOAD = 'symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=0.1&recvWindow=5000&timestamp=1499827319559';
// RFC 8032 section 7.1 TEST 1 key (public test vector), as PKCS#8 PEM.
const RFC8032_PEM = '-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIJ1hsZ3v/VpguoRK9JLsLMREScVpezJpGXA7rAMcrn9g\n-----END PRIVATE KEY-----\n';
const RFC8032_PUB = '-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEA11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=\n-----END PUBLIC KEY-----\n';

describe('Binance HMAC', () => {
  it('matches the documented example signature', () => {
    expect(new HmacSha256(BN_DOC_SECRET).hex(BN_DOC_PAYLOAD)).toBe('c8db56825ae71d6d79447849e617115f4a920fa2acdcab2b053c4b2838bd6b71');
  });

  it('builds the documented REST query and signs it', () => {
    const q = binanceRestQuery([
      ['symbol', 'LTCBTC'],
      ['side', 'BUY'],
      ['type', 'LIMIT'],
      ['timeInForce', 'GTC'],
      ['quantity', 1],
      ['price', '0.1'],
      ['recvWindow', 5000],
      ['timestamp', 1499827319559],
    ]);
    expect(q).toBe(BN_DOC_PAYLOAD);
  });

  it('percent-encodes non-ASCII values before signing (spot REST since 2026-01)', () => {
    const q = binanceRestQuery([
      ['symbol', '１２３４５６'],
      ['side', 'BUY'],
    ]);
    expect(q).toBe('symbol=%EF%BC%91%EF%BC%92%EF%BC%93%EF%BC%94%EF%BC%95%EF%BC%96&side=BUY');
  });

  it('template REST body equals the hand-built query and its signature verifies', () => {
    const h = new HmacSha256(BN_DOC_SECRET);
    const t = new BinanceOrderTemplate('spot', { symbol: 'LTCBTC', priceDecimals: 1, qtyDecimals: 0 }, 5000, 'RESULT');
    const f = blankOrderFields();
    Object.assign(f, { side: 'BUY', type: 'LIMIT', tif: 'GTC', price: 1, qty: 1, clientOrderId: 'abc-1', timestampMs: 1499827319559 });
    const w = new AsciiWriter();
    const body = t.restBody(w, f, new HmacHexSigner(h)).toString();
    const unsigned =
      'symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=0.1&newClientOrderId=abc-1&newOrderRespType=RESULT&recvWindow=5000&timestamp=1499827319559';
    expect(body).toBe(unsigned + '&signature=' + createHmac('sha256', BN_DOC_SECRET).update(unsigned).digest('hex'));
    // the string fast path produces the same bytes, for every side/type/tif/reduceOnly combination
    const hs = new HmacHexSigner(h);
    for (const market of ['spot', 'usdm'] as const) {
      const tm = new BinanceOrderTemplate(market, { symbol: 'BTCUSDT', priceDecimals: 2, qtyDecimals: 3 });
      for (const side of ['BUY', 'SELL'] as const)
        for (const type of ['LIMIT', 'MARKET'] as const)
          for (const tif of ['GTC', 'IOC', 'FOK', 'POST_ONLY'] as const)
            for (const reduceOnly of [false, true]) {
              const ff = Object.assign(blankOrderFields(), {
                side,
                type,
                tif,
                reduceOnly,
                price: 9700012,
                qty: 15,
                clientOrderId: 'tw-x',
                timestampMs: 1763778000000,
              });
              expect(tm.restBodyText(new AsciiWriter(), ff, hs.sign)).toBe(tm.restBody(new AsciiWriter(), ff, hs).toString());
            }
    }
  });

  it('template spells post-only and market per market', () => {
    const h = new HmacHexSigner(new HmacSha256('k'));
    const f = Object.assign(blankOrderFields(), {
      side: 'SELL',
      type: 'LIMIT',
      tif: 'POST_ONLY',
      price: 12345,
      qty: 5,
      clientOrderId: 'x',
      timestampMs: 1,
      reduceOnly: true,
    });
    const spot = new BinanceOrderTemplate('spot', { symbol: 'BTCUSDT', priceDecimals: 2, qtyDecimals: 3 }).restBody(new AsciiWriter(), f, h).toString();
    expect(spot.startsWith('symbol=BTCUSDT&side=SELL&type=LIMIT_MAKER&quantity=0.005&price=123.45&')).toBe(true);
    expect(spot).not.toContain('reduceOnly');
    const usdm = new BinanceOrderTemplate('usdm', { symbol: 'BTCUSDT', priceDecimals: 2, qtyDecimals: 3 }).restBody(new AsciiWriter(), f, h).toString();
    expect(usdm.startsWith('symbol=BTCUSDT&side=SELL&type=LIMIT&timeInForce=GTX&quantity=0.005&price=123.45&')).toBe(true);
    expect(usdm).toContain('&reduceOnly=true&');
    f.type = 'MARKET';
    const mkt = new BinanceOrderTemplate('usdm', { symbol: 'BTCUSDT', priceDecimals: 2, qtyDecimals: 3 }).restBody(new AsciiWriter(), f, h).toString();
    expect(mkt).toContain('type=MARKET&quantity=0.005&newClientOrderId=x');
  });

  it('WS API order.place frame is valid JSON with the template fields', () => {
    const t = new BinanceOrderTemplate('usdm', { symbol: 'BTCUSDT', priceDecimals: 1, qtyDecimals: 3 });
    const f = Object.assign(blankOrderFields(), { side: 'BUY', price: 500001, qty: 2, clientOrderId: 'c1', timestampMs: 1700000000000 });
    const msg = JSON.parse(t.wsPlace(new AsciiWriter(), 'r1', f).toString()) as { id: string; method: string; params: Record<string, unknown> };
    expect(msg).toEqual({
      id: 'r1',
      method: 'order.place',
      params: {
        symbol: 'BTCUSDT',
        side: 'BUY',
        type: 'LIMIT',
        timeInForce: 'GTC',
        quantity: '0.002',
        price: '50000.1',
        newClientOrderId: 'c1',
        newOrderRespType: 'RESULT',
        recvWindow: 5000,
        timestamp: 1700000000000,
      },
    });
  });
});

describe('Binance Ed25519', () => {
  it('RFC 8032 TEST 1 (empty message) through our signer', () => {
    const s = new Ed25519Signer(RFC8032_PEM);
    expect(Buffer.from(s.base64(''), 'base64').toString('hex')).toBe(
      'e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b',
    );
  });

  it('WS API payload of the documented example is sorted, raw, and signs deterministically', () => {
    // params from spot-docs web-socket-api.md "SIGNED Request Example (Ed25519)"; the docs do not publish their
    // private key, so the signature below was derived with `openssl pkeyutl -sign -rawin` using the RFC 8032 key.
    const params = {
      symbol: 'BTCUSDT',
      side: 'SELL',
      type: 'LIMIT',
      timeInForce: 'GTC',
      quantity: '0.01000000',
      price: '52000.00',
      recvWindow: 100,
      timestamp: 1645423376532,
      apiKey: '4yNzx3yWC5bS6YTwEkSRaC0nRmSQIIStAUOh1b6kqaBrTLIhjCpI5lJH8q8R8WNO',
      signature: 'ignored',
    };
    const payload = binanceWsApiPayload(params);
    expect(payload).toBe(
      'apiKey=4yNzx3yWC5bS6YTwEkSRaC0nRmSQIIStAUOh1b6kqaBrTLIhjCpI5lJH8q8R8WNO&price=52000.00&quantity=0.01000000&recvWindow=100&side=SELL&symbol=BTCUSDT&timeInForce=GTC&timestamp=1645423376532&type=LIMIT',
    );
    const sig = new Ed25519Signer(RFC8032_PEM).base64(payload);
    expect(sig).toBe('Ws+5m/CMnpkko0uBFxGTZ2+fjqqBXsUjRiaz173fPhXTkhoDBYNZ6wcYNeWItdrGn1pvG7vkwx2fhmJdAZ3KDQ==');
    expect(verify(null, Buffer.from(payload), createPublicKey(RFC8032_PUB), Buffer.from(sig, 'base64'))).toBe(true);
  });

  it('non-ASCII values are signed as UTF-8, unencoded, in the WS API payload', () => {
    const p = binanceWsApiPayload({ symbol: '１２３４５６', apiKey: 'k', timestamp: 1 });
    expect(p).toBe('apiKey=k&symbol=１２３４５６&timestamp=1');
  });

  it('REST Ed25519 signature is URL-encoded base64 and verifies', () => {
    const s = new Ed25519Signer(RFC8032_PEM);
    const enc = binanceEd25519RestSignature(s, BN_DOC_PAYLOAD);
    expect(enc).not.toMatch(/[+/=]/);
    expect(verify(null, Buffer.from(BN_DOC_PAYLOAD), createPublicKey(RFC8032_PUB), Buffer.from(decodeURIComponent(enc), 'base64'))).toBe(true);
    const t = new BinanceOrderTemplate('spot', { symbol: 'LTCBTC', priceDecimals: 1, qtyDecimals: 0 });
    const f = Object.assign(blankOrderFields(), { price: 1, qty: 1, clientOrderId: 'a', timestampMs: 5 });
    const body = t.restBody(new AsciiWriter(), f, new Ed25519RestSigner(s)).toString();
    const [unsigned, sig] = body.split('&signature=') as [string, string];
    expect(verify(null, Buffer.from(unsigned), createPublicKey(RFC8032_PUB), Buffer.from(decodeURIComponent(sig), 'base64'))).toBe(true);
  });
});

describe('Bybit HMAC', () => {
  // Bybit's docs publish no signature vector; these were derived with `openssl dgst -sha256 -hmac` (see commit).
  const secret = 'YYYYYYYYYYYYYYYYYYYYYYYYYYYYYYYYYYYY';
  it('signs timestamp + apiKey + recvWindow + payload (guide.mdx GET example params)', () => {
    expect(bybitSignText(1658384314791, 'XXXXXXXXXX', 5000, 'category=option&symbol=BTC-29JUL22-25000-C')).toBe(
      '1658384314791XXXXXXXXXX5000category=option&symbol=BTC-29JUL22-25000-C',
    );
    expect(bybitRestSignature(new HmacSha256(secret), 1658384314791, 'XXXXXXXXXX', 5000, 'category=option&symbol=BTC-29JUL22-25000-C')).toBe(
      '49c26b0f76e0bec6b926f119814d66c4bdf59de44adf2a1864b1ea0bfd9c710c',
    );
  });
  it('WS auth signs "GET/realtime" + expires', () => {
    expect(bybitWsAuthSignature(new HmacSha256(secret), 1662350400000)).toBe('9f96338b434359fa6300c2d0040ffe25962cbc700dac649bfc7c59ef64431f89');
  });
  it('template bodies for every side/type/tif/category are the JSON Bybit documents', () => {
    for (const category of ['spot', 'linear'] as const) {
      const t = new BybitOrderTemplate(category, { symbol: 'BTCUSDT', priceDecimals: 2, qtyDecimals: 6 }, 'K');
      for (const side of ['BUY', 'SELL'] as const)
        for (const type of ['LIMIT', 'MARKET'] as const)
          for (const tif of ['GTC', 'IOC', 'FOK', 'POST_ONLY'] as const)
            for (const reduceOnly of [false, true]) {
              const w = new AsciiWriter();
              t.writeArgs(
                w,
                Object.assign(blankOrderFields(), { side, type, tif, reduceOnly, price: 9700012, qty: 1500, clientOrderId: 'tw-y', timestampMs: 1 }),
              );
              const want: Record<string, unknown> = {
                category,
                symbol: 'BTCUSDT',
                side: side === 'BUY' ? 'Buy' : 'Sell',
                orderType: type === 'MARKET' ? 'Market' : 'Limit',
                qty: '0.001500',
              };
              if (type === 'MARKET' && category === 'spot') want['marketUnit'] = 'baseCoin';
              if (type === 'LIMIT') Object.assign(want, { price: '97000.12', timeInForce: tif === 'POST_ONLY' ? 'PostOnly' : tif });
              want['orderLinkId'] = 'tw-y';
              if (reduceOnly && category === 'linear') want['reduceOnly'] = true;
              expect(JSON.parse(w.toString())).toEqual(want);
            }
    }
  });

  it('template body is valid JSON and the header signature covers exactly those bytes', () => {
    const h = new HmacSha256(secret);
    const t = new BybitOrderTemplate('linear', { symbol: 'BTCUSDT', priceDecimals: 1, qtyDecimals: 3 }, 'KEY', 5000);
    const f = Object.assign(blankOrderFields(), {
      side: 'SELL',
      tif: 'POST_ONLY',
      price: 500001,
      qty: 10,
      clientOrderId: 'id-1',
      timestampMs: 1700000000000,
      reduceOnly: true,
    });
    const w = new AsciiWriter();
    const sig = t.restBody(w, f, h);
    const body = w.toString();
    expect(JSON.parse(body)).toEqual({
      category: 'linear',
      symbol: 'BTCUSDT',
      side: 'Sell',
      orderType: 'Limit',
      qty: '0.010',
      price: '50000.1',
      timeInForce: 'PostOnly',
      orderLinkId: 'id-1',
      reduceOnly: true,
    });
    expect(sig).toBe(
      createHmac('sha256', secret)
        .update('1700000000000KEY5000' + body)
        .digest('hex'),
    );
    const out = { body: '', sign: '' };
    t.restBodyText(new AsciiWriter(), f, h, out);
    expect(out).toEqual({ body, sign: sig });
    const ws = JSON.parse(t.wsCreate(new AsciiWriter(), 'q1', f).toString()) as { reqId: string; header: Record<string, string>; op: string; args: unknown[] };
    expect(ws.reqId).toBe('q1');
    expect(ws.op).toBe('order.create');
    expect(ws.header).toEqual({ 'X-BAPI-TIMESTAMP': '1700000000000', 'X-BAPI-RECV-WINDOW': '5000' });
    expect(ws.args[0]).toEqual(JSON.parse(body));
  });
});

describe('writer, ids, json', () => {
  it('formats scaled integers', () => {
    const w = new AsciiWriter();
    const cases: Array<[number, number, string]> = [
      [0, 0, '0'],
      [0, 2, '0.00'],
      [5, 3, '0.005'],
      [123456, 2, '1234.56'],
      [100, 2, '1.00'],
      [9007199254740991, 0, '9007199254740991'],
    ];
    for (const [v, d, s] of cases) expect(w.reset().scaled(v, d).toString()).toBe(s);
  });
  it('client ids are valid on both venues and unique', () => {
    const g = new OrderIds('tw', 1763778000000, 36 ** 3 - 1);
    const seen = new Set<string>();
    for (let i = 0; i < 5000; i++) {
      const id = g.next();
      expect(isValidClientOrderId(id)).toBe(true);
      expect(id.length).toBeLessThanOrEqual(36);
      seen.add(id);
    }
    expect(seen.size).toBe(5000);
    expect(new OrderIds('tw', 1763778000001).next()).not.toBe(new OrderIds('tw', 1763778000000).next());
  });
  it('keeps ids > 2^53 exact', () => {
    const raw =
      '{"e":"TRADE_LITE","i":8389765739703625592,"p":"2631.90","t":4467432841,"x":-12345678901234567,"f":1234567890123456.5,"s":"a:12345678901234567"}';
    const o = parseJsonSafe(raw) as Record<string, unknown>;
    expect(o['i']).toBe('8389765739703625592');
    expect(o['t']).toBe(4467432841);
    expect(o['x']).toBe('-12345678901234567');
    expect(o['f']).toBe(1234567890123456.5);
    expect(o['s']).toBe('a:12345678901234567');
    expect(quoteBigInts('{"a":"x\\"1234567890123456789"}')).toBe('{"a":"x\\"1234567890123456789"}');
    const pats = idPatterns(['i', 'orderId']);
    const q = parseJsonIds(
      '{"i": 8389765739703625592,"orderId":-12345678901234567,"x":"\\"i\\":1234567890123456789","t":1234567890123456789,"f":1234567890123456.5,"i2":1}',
      pats,
    ) as Record<string, unknown>;
    expect(q['i']).toBe('8389765739703625592');
    expect(q['orderId']).toBe('-12345678901234567');
    expect(q['x']).toBe('"i":1234567890123456789');
    expect(typeof q['t']).toBe('number'); // not a named key
    expect(parseJsonIds('{"orderId":1234567890123456.5}', pats)).toEqual({ orderId: 1234567890123456.5 });
  });
});

describe('allocation-free HMAC-SHA256 (per-order signing)', () => {
  it('equals node:crypto for every length 0..300, in one piece and split, short and long keys', async () => {
    const { randomBytes } = await import('node:crypto');
    const { Sha256Hmac } = await import('../../src/codec/sign.js');
    for (const key of [Buffer.from(BN_DOC_SECRET), randomBytes(1), randomBytes(64), randomBytes(65), randomBytes(200), Buffer.alloc(0)]) {
      const h = new Sha256Hmac(key);
      const out = new Uint8Array(70);
      for (let n = 0; n <= 300; n++) {
        const m = randomBytes(n);
        const want = createHmac('sha256', key).update(m).digest('hex');
        expect(h.begin().update(m, 0, n).hex()).toBe(want);
        const cut = n >> 1;
        expect(h.begin().update(m, 0, cut).update(m, cut, n).hexInto(out, 3)).toBe(67);
        expect(Buffer.from(out.subarray(3, 67)).toString('latin1')).toBe(want);
        const ascii = m.toString('hex').slice(0, n);
        expect(h.begin().updateLatin1(ascii.slice(0, 7)).updateLatin1(ascii.slice(7)).hex()).toBe(createHmac('sha256', key).update(ascii).digest('hex'));
      }
    }
  });

  it('HmacSha256 hot methods agree with node:crypto, and non-ASCII falls back to UTF-8 as before', () => {
    const h = new HmacSha256(BN_DOC_SECRET);
    expect(h.hexAscii(BN_DOC_PAYLOAD)).toBe('c8db56825ae71d6d79447849e617115f4a920fa2acdcab2b053c4b2838bd6b71');
    expect(h.hexAscii('symbol=１２')).toBe(createHmac('sha256', BN_DOC_SECRET).update('symbol=１２').digest('hex'));
    const w = new AsciiWriter();
    w.str('xx' + BN_DOC_PAYLOAD);
    const end = w.pos;
    h.appendHexOf(w, 2, end);
    expect(w.slice(end, w.pos)).toBe('c8db56825ae71d6d79447849e617115f4a920fa2acdcab2b053c4b2838bd6b71');
    expect(h.hexPrefixed('1700000000000KEY5000', w, 2, end)).toBe(
      createHmac('sha256', BN_DOC_SECRET)
        .update('1700000000000KEY5000' + BN_DOC_PAYLOAD)
        .digest('hex'),
    );
    expect(JSON.stringify({ h })).toBe('{"h":"[redacted]"}');
  });
});
