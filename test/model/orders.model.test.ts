/**
 * Model-based property test of the engine's order truth against the simulator (issue 12): random sequences of
 * orders, cancels, cancel rejects, amends, partial and full fills, expiries, rejects, market moves and disconnects,
 * each run on a fresh simulator and a fresh in-process engine; at quiescence, and again after the engine's graceful
 * stop, the engine's open orders, position and booked fills must equal the exchange's (see harness.ts).
 *
 * `npm test` runs fixed seeds: 3 venues x 2 transports x MODEL_RUNS runs of MODEL_STEPS..+10 steps (>= 2,000 steps).
 * `npm run test:model` runs it longer: MODEL_RUNS (runs per venue and transport), MODEL_STEPS (minimum steps per run),
 * MODEL_SEED (fast-check seed; default fixed), MODEL_SHRINK=1 (shrink a failure to a minimal sequence; slow).
 */
import { afterAll, describe, it } from 'vitest';
import fc from 'fast-check';
import { rmDir, tmpDir } from '../core/helpers.js';
import type { ModelTransport, ModelVenue, Tolerate } from './harness.js';
import { ModelFailure, runSequence, stepArb, type Step } from './steps.js';

const RUNS = Math.max(1, Number(process.env['MODEL_RUNS'] ?? '6') || 6);
const STEPS = Math.max(1, Number(process.env['MODEL_STEPS'] ?? '60') || 60);
const SEED = Number(process.env['MODEL_SEED'] ?? '1207') || 1207;
const SHRINK = process.env['MODEL_SHRINK'] === '1';

/**
 * Known bugs of today's engine, tolerated in the random runs so that the rest stays strict. Each is reproduced by
 * a fixed sequence below, marked `it.fails`: when the refactor fixes one, set its flag false and turn that test into
 * a plain `it`.
 */
const TOLERATE: Tolerate = {
  // TODO(issue 12): a cancel reject sets the Ledger's order to ACKED, the OrderStore to its pre-cancel state
  cancelRejectState: process.env['STRICT_CR'] !== '1',
  // TODO(issue 12): the Ledger books one leg of a self-trade (fill dedup by venue:symbol:tradeId)
  selfTradeLegs: true,
};

const root = tmpDir('model');
let runNo = 0;
let totalSteps = 0;
afterAll(() => {
  if (!process.env['KEEP']) rmDir(root);
  process.stdout.write(`model test: ${totalSteps} steps run\n`);
});

describe('model-based property: the engine agrees with the exchange at quiescence', () => {
  for (const venue of ['binanceSpot', 'binanceUsdm', 'bybitLinear'] as const) {
    for (const transport of ['rest', 'wsapi'] as const) {
      it(`${venue} over ${transport}: ${RUNS} random runs of >= ${STEPS} steps`, { timeout: 60_000 + RUNS * STEPS * 400 }, async () => {
        const coverage = new Map<string, number>();
        await fc.assert(
          fc.asyncProperty(fc.integer({ min: 1, max: 1_000_000 }), fc.array(stepArb(venue, transport), { minLength: STEPS, maxLength: STEPS + 10 }), async (simSeed, steps) => {
            totalSteps += await runSequence(`${root}/${venue}-${transport}-${runNo++}`, venue, transport, simSeed, steps, TOLERATE, { coverage });
          }),
          { numRuns: RUNS, seed: SEED + venue.length * 31 + (transport === 'rest' ? 0 : 7), endOnFailure: !SHRINK, verbose: 1 },
        );
        process.stdout.write(`${venue} ${transport}: ${JSON.stringify(Object.fromEntries([...coverage].sort()))}\n`);
      });
    }
  }
});

/**
 * Known bugs of today's engine (issue 12), each as the shortest sequence that shows it, strict (nothing tolerated).
 * `it.fails` passes while the sequence fails with exactly the mismatch the bug causes; when the refactor fixes one,
 * its test fails here (and so does one that fails for another reason): turn it into `it` and set the matching
 * TOLERATE flag above to false.
 */
describe('known order-truth bugs (issue 12): minimal sequences', () => {
  const strict: Tolerate = {};
  const run = (venue: ModelVenue, transport: ModelTransport, steps: Step[]): Promise<number> => runSequence(`${root}/known-${runNo++}`, venue, transport, 1, steps, strict, { settleMs: 2000 });
  /** runs the sequence; rethrows only a ModelFailure whose every problem matches `bug` (any other outcome returns) */
  const failsWith = async (bug: RegExp, p: Promise<number>): Promise<void> => {
    try {
      await p;
    } catch (e) {
      if (e instanceof ModelFailure && e.problems.length > 0 && e.problems.every((m) => bug.test(m))) throw e;
      process.stderr.write(`not the known bug ${bug}: ${String(e)}\n`);
    }
  };

  // TODO(issue 12): on a cancel reject the engine sets its Ledger order to ACKED, the OrderStore restores the
  // pre-cancel state; a partly filled order then reads ACKED in the Ledger, PARTIALLY_FILLED in the store and on
  // the exchange. A 429 answering the cancel of a live order is the reject here.
  const cancelRejectOfPartlyFilled: Step[] = [
    { k: 'place', side: 'BUY', at: 'deep', ticks: 0, tif: 'GTC', lots: 2, thin: false },
    { k: 'settle' },
    { k: 'fill', pick: 0, all: false },
    { k: 'settle' },
    { k: 'cancelRefused', pick: 0 },
    { k: 'settle' },
  ];
  for (const venue of ['binanceSpot', 'binanceUsdm', 'bybitLinear'] as const) {
    it.fails(`${venue}: a rejected cancel of a partly filled order leaves the Ledger at ACKED (exchange: PARTIALLY_FILLED)`, { timeout: 30_000 }, async () => {
      await failsWith(/^order differs: engine's ledger \S+ BUY \S+ filled \d+ ACKED \| exchange \S+ BUY \S+ filled \d+ PARTIALLY_FILLED$/, run(venue, 'rest', cancelRejectOfPartlyFilled));
    });
  }

  // TODO(issue 12): the Ledger dedups fills by venue:symbol:tradeId; Binance reports both legs of a self-trade under
  // one trade id, so the Ledger books one leg (position and fill count off by one leg) while the OrderStore, which
  // dedups per order, books both. Bybit gives each leg its own execId: there the same sequence passes.
  const selfTrade: Step[] = [
    { k: 'place', side: 'SELL', at: 'touch', ticks: 0, tif: 'GTC', lots: 1, thin: false },
    { k: 'settle' },
    // one lot of synthetic liquidity stays ahead of our sell: the buy takes it, then trades with our own sell
    { k: 'place', side: 'BUY', at: 'cross', ticks: 0, tif: 'GTC', lots: 1, thin: true },
    { k: 'settle' },
  ];
  for (const venue of ['binanceSpot', 'binanceUsdm'] as const) {
    it.fails(`${venue}: a self-trade is booked with one leg in the Ledger`, { timeout: 30_000 }, async () => {
      await failsWith(/^(position: engine's status -?\d+, exchange -?\d+ \(quantity units\)|the engine counts 2 fills, the exchange has 3 trades)$/, run(venue, 'rest', selfTrade));
    });
  }
  it('bybitLinear: a self-trade is booked with both legs (each leg has its own execId)', { timeout: 30_000 }, async () => {
    await run('bybitLinear', 'rest', selfTrade);
  });
});
