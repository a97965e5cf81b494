/**
 * Algo (conditional) orders through every surface of a running engine (`runEngine` against the embedded simulator,
 * real sockets): the strategy API (Engine.placeAlgo, the strategy's OrderApi), the control plane (POST /algo, strict:
 * 400 naming the field) and the CLI (`tickwire sell ... --stop TRIGGER`, `tickwire cancel-algo`). A stop is
 * triggered by moving the simulator's book: the order it places is booked and filled, the position moves once. The
 * kill switch then leaves no algo order on the venue, asked of the simulator itself.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { request } from 'undici';
import { runEngine } from '../../src/app/run.js';
import { main as cli } from '../../src/app/controlcli.js';
import type { KillReport } from '../../src/engine/killswitch.js';
import type { Engine } from '../../src/engine/engine.js';
import type { SimHandle } from '../../src/sim/index.js';
import type { VenueId } from '../../src/model/types.js';
import { rmDir, tmpDir, until } from '../core/helpers.js';

const dir = tmpDir('e2e-algo');
afterAll(() => rmDir(dir));
const TOKEN = 'e2e-algo-token-0123456789';

async function runCli(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const orig = process.stdout.write.bind(process.stdout);
  const origErr = process.stderr.write.bind(process.stderr);
  let out = '';
  let err = '';
  process.stdout.write = ((s: string) => ((out += s), true)) as typeof process.stdout.write;
  process.stderr.write = ((s: string) => ((err += s), true)) as typeof process.stderr.write;
  try {
    return { code: await cli(argv), out, err };
  } finally {
    process.stdout.write = orig;
    process.stderr.write = origErr;
  }
}

async function post(url: string, path: string, body?: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await request(url + path, {
    method: 'POST',
    headers: { authorization: `Bearer ${TOKEN}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  return { status: res.statusCode, json: (await res.body.json()) as Record<string, unknown> };
}

const px = (units: number, decimals: number): string => (units / 10 ** decimals).toFixed(decimals);

describe('algo orders through the strategy API, the control plane and the CLI; the kill switch leaves none', () => {
  for (const venue of ['binanceUsdm', 'bybitLinear', 'bybitSpot'] as VenueId[]) {
    it(`${venue}`, async () => {
      let failure: unknown;
      let done = false;
      let report: KillReport | undefined;
      let venueOpenAfter = -1;
      await runEngine({
        durationSec: 30,
        print: false,
        signals: false,
        simRate: 200,
        transport: 'rest',
        env: { TICKWIRE_CONTROL_TOKEN: TOKEN },
        overrides: {
          log: { level: 'silent', destinations: [{ to: 'stderr', level: 'silent' }] },
          persistence: { dir: `${dir}/${venue}` },
          strategy: { name: 'none' },
          killSwitch: { onTrigger: 'halt' },
          instruments: [{ venue, symbol: 'BTCUSDT' }],
        },
        stopWhen: () => done,
        onReady: ({ engine, control, wiring }) => {
          void (async () => {
            try {
              await scenario(engine as Engine, control!.url, wiring.sim!, venue, (r, n) => {
                report = r;
                venueOpenAfter = n;
              });
            } catch (e) {
              failure = e;
            } finally {
              done = true;
            }
          })();
        },
      });
      if (failure) throw failure;
      expect(report?.verified).toBe(true);
      expect(venueOpenAfter).toBe(0);
    }, 40_000);
  }
});

async function scenario(e: Engine, url: string, sim: SimHandle, venue: VenueId, done: (r: KillReport, venueOpen: number) => void): Promise<void> {
  const ins = e.instruments[0]!;
  const slot = ins.slot;
  await until(() => e.state.tradable(slot), 10_000, 'book synced');
  sim.generator.stop(); // the market stays where the test moves it
  const book = sim.books.get(venue === 'bybitLinear' ? 'bybitLinear' : venue === 'bybitSpot' ? 'bybitSpot' : venue)!.get('BTCUSDT')!;
  const bid = book.bestBid()!.priceTicks;
  const ask = book.bestAsk()!.priceTicks;
  const qty = 2 * 10 ** Math.max(0, ins.qtyDecimals - 3); // 0.002
  const qtyText = px(qty, ins.qtyDecimals);
  const d = ins.priceDecimals;
  /** the venue's own list of open algo orders, through the order owner's gateway (the simulator answers) */
  const venueOpen = async (): Promise<string[]> => (await e.orders.openAlgos(venue)).map((a) => a.clientAlgoId);

  // control plane: strict, whole or nothing, 400 naming the field
  const base = { venue, symbol: 'BTCUSDT', side: 'SELL', kind: 'STOP', qty: qtyText, trigger: px(bid - 2000, d) };
  for (const [body, field] of [
    [{ ...base, kind: 'STOP_LOSS' }, 'kind'],
    [{ ...base, trigger: '-1' }, 'trigger'],
    [{ ...base, trigger: 95000 }, 'trigger'],
    [{ ...base, qty: '1e-3' }, 'qty'],
    [{ ...base, reduceOnly: 'yes' }, 'reduceOnly'],
    [{ ...base, stopPrice: '1' }, 'stopPrice'],
    [{ ...base, symbol: 'ETHUSDT' }, 'symbol'],
    [{ ...base, trigger: px(bid - 2000, d) + '00001' }, 'trigger'],
  ] as const) {
    const r = await post(url, '/algo', body);
    expect(r.status, JSON.stringify(body)).toBe(400);
    expect(r.json['field'], JSON.stringify(r.json)).toBe(field);
  }
  expect(e.orders.algos.open()).toHaveLength(0);

  // control plane: a far stop (stays open until the kill switch)
  const viaControl = await post(url, '/algo', { ...base, reduceOnly: false });
  expect(viaControl.status, JSON.stringify(viaControl.json)).toBe(200);
  const controlId = String(viaControl.json['clientAlgoId']);

  // CLI: a far take-profit limit (cancelled by the CLI), and a far stop left for the kill switch
  const cliArgs = ['--url', url, '--token', TOKEN];
  const tp = await runCli(['sell', venue, 'BTCUSDT', qtyText, px(ask + 2500, d), '--take-profit', px(ask + 2000, d), ...cliArgs]);
  expect(tp.code, tp.err + tp.out).toBe(0);
  const tpId = (JSON.parse(tp.out) as { clientAlgoId: string }).clientAlgoId;
  const stopCli = await runCli(['buy', venue, 'BTCUSDT', qtyText, '--stop', px(ask + 2000, d), ...cliArgs]);
  expect(stopCli.code, stopCli.err + stopCli.out).toBe(0);
  const cliStopId = (JSON.parse(stopCli.out) as { clientAlgoId: string }).clientAlgoId;
  expect((await runCli(['sell', venue, 'BTCUSDT', qtyText, '--stop', '1', '--take-profit', '2', ...cliArgs])).code).toBe(2);
  await until(() => [controlId, tpId, cliStopId].every((id) => e.algo(id)?.state === 'OPEN'), 5000, 'control and CLI algo orders acked');
  expect(await venueOpen()).toEqual(expect.arrayContaining([controlId, tpId, cliStopId]));
  const cancel = await runCli(['cancel-algo', tpId, ...cliArgs]);
  expect(cancel.code, cancel.err + cancel.out).toBe(0);
  await until(() => e.algo(tpId)?.state === 'CANCELED', 5000, 'CLI cancel');
  expect(await venueOpen()).not.toContain(tpId);
  expect((await runCli(['cancel-algo', tpId, ...cliArgs])).code).toBe(1); // no longer open: 404

  // strategy API: a stop just above the market, triggered by moving the book
  const pos0 = e.portfolio.position[slot]!;
  const trigger = ask + 20;
  const id = e.placeAlgo({ slot, side: 'BUY', kind: 'STOP', triggerPrice: trigger, price: 0, qty });
  expect(id, `refused ${e.lastRefusal}`).not.toBeNull();
  await until(() => e.algo(id!)?.state === 'OPEN', 5000, 'strategy algo acked');
  book.setSynthetic('BUY', trigger, 1_000_000); // the market moves up through the trigger
  await until(() => e.algo(id!)?.childId !== '' && e.order(e.algo(id!)!.childId)?.state === 'FILLED', 5000, 'triggered order filled');
  const child = e.order(e.algo(id!)!.childId)!;
  expect(child.side).toBe('BUY');
  expect(child.filledQty).toBe(qty);
  // a spot buy's fee is paid in the base asset: the position received is smaller by it (booked once)
  const received = venue === 'bybitSpot' || venue === 'binanceSpot' ? qty - child.fees * 10 ** e.instruments[slot]!.qtyDecimals : qty;
  await until(() => Math.abs(e.portfolio.position[slot]! - (pos0 + received)) < 1e-9, 5000, `position moved by ${received}`);
  expect(e.store.hasTrade(venue, 'BTCUSDT', '0')).toBe(false);
  const status = e.status() as { orders: { openAlgo: number } };
  expect(status.orders.openAlgo).toBe(2);

  // the kill switch: cancels the algo orders and re-queries until none is left
  const k = await post(url, '/kill?wait=1');
  expect(k.status).toBe(200);
  const rep = k.json as unknown as KillReport;
  expect(rep.remainingOpen).toEqual([]);
  const left = await venueOpen();
  await until(() => e.orders.algos.open().length === 0, 5000, 'algo records closed');
  expect(e.algo(controlId)!.state).toBe('CANCELED');
  expect(e.algo(cliStopId)!.state).toBe('CANCELED');
  // the strategy's algo API is refused once killed
  expect(e.placeAlgo({ slot, side: 'SELL', kind: 'STOP', triggerPrice: bid - 3000, price: 0, qty })).toBeNull();
  done(rep, left.length);
}
