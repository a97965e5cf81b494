import { afterEach, describe, expect, it } from 'vitest';
import { BotState, F } from '../../src/core/botstate.js';
import { SignalTask } from '../../src/strategy/signals.js';
import { HotLoop } from '../../src/core/loop.js';
import { sleep, until } from './helpers.js';

let task: SignalTask | undefined;
let loop: HotLoop | undefined;
afterEach(() => {
  task?.stop();
  loop?.stop();
});

describe('slow signals', () => {
  it('a background task writes BotState; a failing fetch is counted and keeps the last value', async () => {
    const state = BotState.create(2);
    let n = 0;
    task = new SignalTask(state, {
      name: 'test funding',
      slot: 1,
      field: F.fundingRate,
      intervalMs: 5,
      fetch: async () => {
        n++;
        if (n === 2) throw new Error('HTTP 503');
        return 0.0001 * n;
      },
    });
    expect(Number.isNaN(state.get(1, F.fundingRate))).toBe(true);
    task.start();
    await until(() => task!.failed === 1 && task!.ok >= 2, 2000, 'one failure then a success');
    expect(task.lastError).toBe('HTTP 503');
    expect(state.get(1, F.fundingRate)).toBeGreaterThan(0.0002);
  });

  it('a fetch that never answers does not hold up the hot loop', async () => {
    const state = BotState.create(1);
    task = new SignalTask(state, { name: 'stuck', slot: 0, field: F.signal, intervalMs: 5, fetch: () => new Promise<number>(() => {}) });
    task.start();
    let seen = 0;
    loop = new HotLoop({ onTick: () => (seen = state.get(0, F.signal)), onBook: () => {} }, { mode: 'timer', periodMs: 5 });
    loop.start();
    await sleep(60);
    expect(loop.ticks).toBeGreaterThan(1);
    expect(Number.isNaN(seen)).toBe(true);
  });
});
