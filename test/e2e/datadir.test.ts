/**
 * A short engine run against the inline simulator (both exchanges), with a kill report and latency dumps, logging to
 * a file in the data dir under umask 022: every directory under the data dir is 0700 and every file 0600, and every
 * log line it wrote parses strictly (no key twice: one line used to carry two "msg" keys).
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runEngine } from '../../src/app/run.js';
import { closeLogs } from '../../src/util/log.js';
import { JOURNAL_FILE } from '../../src/persist/journal.js';
import { rmDir, tmpDir } from '../core/helpers.js';
import { parseStrict } from '../ops/strictjson.js';

const root = tmpDir('datadir');
afterAll(() => rmDir(root));

function walk(p: string, out: Array<{ path: string; dir: boolean; mode: number }>): void {
  const st = statSync(p);
  out.push({ path: p, dir: st.isDirectory(), mode: st.mode & 0o777 });
  if (st.isDirectory()) for (const f of readdirSync(p)) walk(join(p, f), out);
}

describe('tickwire run: the data dir is owner-only and every log line is well-formed', () => {
  it('after a run with a kill report and latency dumps', async () => {
    const dir = join(root, 'data');
    const logFile = join(dir, 'logs', 'engine.log');
    const old = process.umask(0o022);
    let r: Awaited<ReturnType<typeof runEngine>>;
    try {
      r = await runEngine({
        durationSec: 3,
        simRate: 1000,
        simProcess: 'inline',
        print: false,
        signals: false,
        env: {},
        overrides: {
          log: { level: 'debug', destinations: [{ to: logFile, level: 'debug' }] },
          control: { enabled: false },
          persistence: { dir },
          instruments: [
            { venue: 'binanceSpot', symbol: 'BTCUSDT' },
            { venue: 'bybitLinear', symbol: 'BTCUSDT' },
          ],
        },
        onReady: ({ killSwitch }) => {
          setTimeout(() => void killSwitch.trigger('manual'), 1200);
        },
      });
    } finally {
      process.umask(old);
      await closeLogs();
    }
    expect(r.summary.orders.sent).toBeGreaterThan(0);
    const entries: Array<{ path: string; dir: boolean; mode: number }> = [];
    walk(dir, entries);
    const names = entries.map((e) => e.path.slice(dir.length));
    expect(names).toContain(`/${JOURNAL_FILE}`);
    expect(
      names.some((n) => /kill-report-.*\.json$/.test(n)),
      names.join(' '),
    ).toBe(true);
    expect(
      names.some((n) => n.endsWith('.hgrm')),
      'latency dump',
    ).toBe(true);
    expect(names).toContain('/logs/engine.log');
    expect(names).toContain('/snapshot.json');
    for (const e of entries) expect(e.mode.toString(8), e.path).toBe(e.dir ? '700' : '600');

    const lines = readFileSync(logFile, 'utf8').split('\n').filter(Boolean);
    expect(lines.length).toBeGreaterThan(2); // KILL SWITCH, kill switch done, ...
    for (const l of lines) expect(() => parseStrict(l), l).not.toThrow();
  }, 60_000);
});
