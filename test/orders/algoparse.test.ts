/** ALGO_UPDATE from the real USD-M testnet capture (../shared fixtures): JSON path, the byte path's fallback to it,
 * and whole-or-nothing refusal of a broken update. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseUserFrame } from '../../src/exchange/binance/trade/parse.js';
import { BinanceFastUserParser } from '../../src/exchange/binance/trade/fastparse.js';
import { scaleTable } from '../../src/codec/scale.js';
import { blankOrderEvent, type AlgoEvent } from '../../src/model/orders.js';

const FX = new URL('../../../shared/exchange/fixtures/binance/', import.meta.url);
const fx = (p: string): string => readFileSync(new URL(p, FX), 'utf8');
const scale = scaleTable([{ venue: 'binanceUsdm', symbol: 'DOGEUSDT', priceDecimals: 5, qtyDecimals: 0 }]);

function algo(text: string): { kind: string; evs: AlgoEvent[] } {
  const evs: AlgoEvent[] = [];
  const kind = parseUserFrame(text, 'binanceUsdm', scale, blankOrderEvent(), { order: () => undefined, algo: (e) => evs.push({ ...e }) }, 9);
  return { kind, evs };
}

describe('ALGO_UPDATE (live USD-M testnet sequence)', () => {
  it('TRIGGERING -> TRIGGERED -> FINISHED, with the placed order id once known', () => {
    const seq = ['live_usdm_algo_update_1_triggering.json', 'live_usdm_algo_update_2_triggered.json', 'live_usdm_algo_update_3_finished.json'].map((f) =>
      algo(fx(f)),
    );
    expect(seq.map((r) => r.kind)).toEqual(['algo', 'algo', 'algo']);
    expect(seq.map((r) => r.evs[0]!.state)).toEqual(['TRIGGERING', 'TRIGGERED', 'FINISHED']);
    expect(seq[0]!.evs[0]).toMatchObject({
      venue: 'binanceUsdm',
      symbol: 'DOGEUSDT',
      kind: 'ack',
      clientAlgoId: 'O-20251211-053131-TEST-000-1',
      algoId: '1000000033225453',
      orderId: '',
      exchTimeMs: 1765431097019,
      localNs: 9,
      source: 'stream',
    });
    expect(seq[1]!.evs[0]).toMatchObject({ kind: 'trigger', orderId: '88937381063' });
    expect(seq[2]!.evs[0]).toMatchObject({ kind: 'trigger', state: 'FINISHED', orderId: '88937381063' });
  });

  it('the byte path does not read ALGO_UPDATE: it falls back to the JSON path', () => {
    const fast = new BinanceFastUserParser('binanceUsdm', scale);
    const buf = Buffer.from(fx('live_usdm_algo_update_2_triggered.json'));
    expect(fast.parse(buf, blankOrderEvent(), { order: () => undefined, algo: () => undefined }, 1)).toBe('fallback');
  });

  it('a broken update is refused whole (no event): unknown status, missing client algo id, bad time', () => {
    const good = JSON.parse(fx('live_usdm_algo_update_2_triggered.json')) as { data: { T: unknown; o: Record<string, unknown> } };
    const bad = (f: (d: typeof good.data) => void): string => {
      const c = structuredClone(good);
      f(c.data);
      return JSON.stringify(c);
    };
    for (const t of [
      bad((d) => (d.o['X'] = 'SOMETHING')),
      bad((d) => delete d.o['caid']),
      bad((d) => (d.o['aid'] = 1.5)),
      bad((d) => (d.o['ai'] = 12)),
      bad((d) => (d.T = -1)),
    ]) {
      const r = algo(t);
      expect(r.kind).toBe('malformed');
      expect(r.evs).toHaveLength(0);
    }
    // an unknown symbol is not ours: no event either
    expect(algo(bad((d) => (d.o['s'] = 'XRPUSDT'))).kind).toBe('unknownSymbol');
  });
});
