/**
 * Issue 3: BotState "must be readable from a worker thread without copying". The worker maps the very same
 * SharedArrayBuffer (no structured clone of the data) and reads consistent slots through the seqlock while this
 * thread keeps writing.
 */
import { describe, expect, it } from 'vitest';
import { Worker } from 'node:worker_threads';
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { BotState, F, FIELDS_PER_SLOT, FLAG_VALID } from '../../src/model/botstate.js';

const built = fileURLToPath(new URL('../../dist/src/model/botstate.js', import.meta.url));

// The worker runs compiled JavaScript (`npm test` builds before vitest); it reads until told to stop and
// reports how many torn reads it saw (bid/ask written together must always be seen together).
const workerSource = `
const { parentPort, workerData } = require('node:worker_threads');
import(workerData.url).then(({ BotState, FIELDS_PER_SLOT }) => {
  const st = BotState.fromBuffer(workerData.buffer, workerData.slots);
  const out = new Float64Array(FIELDS_PER_SLOT);
  const stop = new Int32Array(workerData.stop);
  let reads = 0, torn = 0, lastSeq = -1, backwards = 0;
  while (Atomics.load(stop, 0) === 0) {
    const flags = st.readSlot(1, out);
    reads++;
    if (out[12] !== 0 && out[2] - out[0] !== 5) torn++; // askPx - bidPx is always 5 once written
    if (out[12] < lastSeq) backwards++;      // seq never goes back
    lastSeq = out[12];
    if (reads % 4096 === 0) Atomics.wait(stop, 0, 0, 0); // let the writer in
    void flags;
  }
  parentPort.postMessage({ reads, torn, backwards, lastSeq, sameBuffer: st.buffer === workerData.buffer });
});
`;

describe('BotState across threads', () => {
  it.skipIf(!existsSync(built))('a worker reads the same memory, consistently, while the adapter thread writes', async () => {
    const st = BotState.create(4);
    st.setFlag(1, FLAG_VALID);
    const stop = new SharedArrayBuffer(4);
    const stopFlag = new Int32Array(stop);
    const worker = new Worker(workerSource, {
      eval: true,
      workerData: { url: pathToFileURL(built).href, buffer: st.buffer, slots: st.slots, stop },
    });
    try {
      await new Promise((r) => setTimeout(r, 50)); // worker starting
      let seq = 0;
      const deadline = Date.now() + 300;
      while (Date.now() < deadline) {
        for (let i = 0; i < 1000; i++) {
          seq++;
          st.writeTop(1, 100_000 + (seq % 50), 7, 100_005 + (seq % 50), 9, seq, 0, 0);
        }
        await new Promise((r) => setImmediate(r));
      }
      Atomics.store(stopFlag, 0, 1);
      const res = await new Promise<{ reads: number; torn: number; backwards: number; lastSeq: number; sameBuffer: boolean }>((resolve, reject) => {
        worker.once('message', resolve);
        worker.once('error', reject);
      });
      expect(res.reads).toBeGreaterThan(0);
      expect(res.torn).toBe(0);
      expect(res.backwards).toBe(0);
      expect(res.lastSeq).toBeGreaterThan(0);
      expect(res.lastSeq).toBeLessThanOrEqual(seq);
      // and the worker saw this thread's memory, not a copy: its last read is the writer's final sequence or earlier
      expect(st.get(1, F.seq)).toBe(seq);
      expect(FIELDS_PER_SLOT).toBeGreaterThan(F.seq);
    } finally {
      Atomics.store(stopFlag, 0, 1);
      await worker.terminate();
    }
  });

  it('a worker write is visible here without any message (shared, not copied)', async () => {
    const st = BotState.create(2);
    const worker = new Worker(
      `const { parentPort, workerData } = require('node:worker_threads');
       const f = new Float64Array(workerData.buffer, 0, workerData.n);
       f[workerData.idx] = 4242.5;
       parentPort.postMessage('done');`,
      { eval: true, workerData: { buffer: st.buffer, n: st.f64.length, idx: 1 * FIELDS_PER_SLOT + F.mid } },
    );
    await new Promise((r) => worker.once('message', r));
    await worker.terminate();
    expect(st.get(1, F.mid)).toBe(4242.5);
  });
});
