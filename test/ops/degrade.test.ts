/**
 * The degradation reporter: one line per key (event + labels) per flush, carrying the events folded into it since
 * that key's last line; nothing when nothing happened; /metrics samples grouped per counter name.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Degradations, type DegradationSample } from '../../src/util/degrade.js';
import { closeLogs, createLogger, setRootLogger } from '../../src/util/log.js';
import { parseStrict } from './strictjson.js';

const dir = mkdtempSync(join(tmpdir(), 'tickwire-degrade-unit-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('Degradations', () => {
  it('folds a storm into one line per key with the count since the last line', async () => {
    const file = join(dir, 'd.log');
    setRootLogger(createLogger({ destinations: [{ to: file, level: 'info' }] }));
    const c = { gap: 0, crossed: 0, frames: 0 };
    let detailCalls = 0;
    const d = new Degradations().add((): DegradationSample[] => [
      {
        event: 'md_resync',
        metric: 'tickwire_md_resyncs_total',
        help: 'h',
        labels: { venue: 'v', reason: 'gap' },
        value: c.gap,
        msg: 'book resync',
        detail: () => ({ n: ++detailCalls }),
      },
      { event: 'md_resync', metric: 'tickwire_md_resyncs_total', help: 'h', labels: { venue: 'v', reason: 'crossed' }, value: c.crossed, msg: 'book resync' },
      { event: 'frames', metric: 'tickwire_frames_total', help: 'h', labels: { venue: 'v' }, value: c.frames, msg: 'x', quiet: true },
    ]);
    for (let i = 0; i < 1000; i++) c.gap++;
    c.crossed = 2;
    c.frames = 10;
    expect(d.flush()).toBe(2);
    expect(d.flush()).toBe(0); // nothing new: no line
    c.gap += 5;
    expect(d.flush()).toBe(1);
    d.stop();
    await closeLogs();
    const lines = readFileSync(file, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => parseStrict(l) as Record<string, unknown>);
    expect(lines.map((l) => [l['event'], l['reason'], l['count'], l['total']])).toEqual([
      ['md_resync', 'gap', 1000, 1000],
      ['md_resync', 'crossed', 2, 2],
      ['md_resync', 'gap', 5, 1005],
    ]);
    expect(lines[0]!['msg']).toBe('book resync');
    expect(detailCalls).toBe(2); // details are built only for a line
    const m = d.metrics();
    expect(m.map((x) => x.name)).toEqual(['tickwire_md_resyncs_total', 'tickwire_frames_total']);
    expect(m[0]!.samples).toEqual([
      { labels: { venue: 'v', reason: 'gap' }, value: 1005 },
      { labels: { venue: 'v', reason: 'crossed' }, value: 2 },
    ]);
    expect(m[1]!.samples).toEqual([{ labels: { venue: 'v' }, value: 10 }]);
  });
});
