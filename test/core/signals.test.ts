import { afterEach, describe, expect, it } from 'vitest';
import { BotState, F } from '../../src/model/botstate.js';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { externalScore, numberAt, SignalTask } from '../../src/strategy/signals.js';
import { HotLoop } from '../../src/engine/loop.js';
import { sleep, until } from './helpers.js';

let task: SignalTask | undefined;
let loop: HotLoop | undefined;
let server: Server | undefined;
afterEach(() => {
  task?.stop();
  loop?.stop();
  server?.close();
  server = undefined;
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

  it('an external score over HTTP lands in BotState (number at a JSON path)', async () => {
    server = createServer((_req, res) => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ data: { scores: [{ v: '0.75' }] } }));
    });
    await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    const state = BotState.create(1);
    task = new SignalTask(state, externalScore('score', `http://127.0.0.1:${port}/score`, 'data.scores.0.v', 0, F.signal, 20));
    task.start();
    await until(() => task!.ok > 0, 3000, 'a score');
    expect(state.get(0, F.signal)).toBe(0.75);
    expect(numberAt({ a: [1, { b: 2 }] }, 'a.1.b')).toBe(2);
    expect(Number.isNaN(numberAt({ a: 1 }, 'a.b'))).toBe(true);
  });
});
