/** Venue endpoints, and a clean stop: Spot announces serverShutdown, every socket closes. */
import { describe, expect, it } from 'vitest';
import { connect, rest, startTestSim } from './helpers.js';

describe('binance sim lifecycle', () => {
  it('endpoints name REST, stream and WS API URLs on 127.0.0.1 plus the keys; close sends serverShutdown and closes sockets', async () => {
    const t = await startTestSim();
    let closed = false;
    try {
      expect(t.spot.restBaseUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(t.spot.wsStreamBaseUrl).toMatch(/^ws:\/\/127\.0\.0\.1:\d+$/);
      expect(t.spot.wsApiUrl).toMatch(/^ws:\/\/127\.0\.0\.1:\d+\/ws-api\/v3$/);
      expect(t.usdm.wsApiUrl).toMatch(/^ws:\/\/127\.0\.0\.1:\d+\/ws-fapi\/v1$/);
      expect(t.spot.ed25519PrivateKeyPem).toContain('PRIVATE KEY');
      expect(t.spot.ed25519PublicKeyPem).toContain('PUBLIC KEY');
      expect(t.spot.ed25519ApiKey).toBeTruthy();
      expect((await rest(t.usdm, 'GET', '/fapi/v1/ping')).json).toEqual({});
      const m = await connect(`${t.spot.wsStreamBaseUrl}/ws/btcusdt@bookTicker`);
      const a = await connect(t.spot.wsApiUrl);
      const u = await connect(`${t.usdm.wsStreamBaseUrl}/public/ws/btcusdt@bookTicker`);
      await t.sim.close();
      closed = true;
      for (const c of [m, a]) {
        const ev = await c.next<{ e: string; E: number }>((j) => j.e === 'serverShutdown');
        expect(typeof ev.E).toBe('number');
      }
      for (let i = 0; i < 100 && !(m.closed && a.closed && u.closed); i++) await new Promise((r) => setTimeout(r, 10));
      expect([m.closed, a.closed, u.closed]).toEqual([true, true, true]);
    } finally {
      if (!closed) await t.sim.close();
    }
  });
});
