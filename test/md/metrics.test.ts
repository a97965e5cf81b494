import { describe, expect, it } from 'vitest';
import { MdCounters } from '../../src/md/common.js';
import { mdMetricsText } from '../../src/md/metrics.js';

describe('mdMetricsText', () => {
  it('prints every counter per venue and parse errors by reason', () => {
    const a = new MdCounters();
    a.frames = 10;
    a.gaps = 2;
    a.reject(4); // negative
    const t = mdMetricsText({ binanceSpot: a, bybitLinear: new MdCounters() });
    expect(t).toContain('tickwire_md_frames_total{venue="binanceSpot"} 10');
    expect(t).toContain('tickwire_md_gaps_total{venue="binanceSpot"} 2');
    expect(t).toContain('tickwire_md_parse_errors_total{venue="binanceSpot",reason="negative"} 1');
    expect(t).toContain('tickwire_md_frames_total{venue="bybitLinear"} 0');
    expect(t).toContain('# TYPE tickwire_md_resyncs_total counter');
    for (const line of t.trim().split('\n')) expect(line).toMatch(/^(# (HELP|TYPE) \S+ .+|tickwire_md_[a-z_]+\{[^}]+\} \d+)$/);
  });
});
