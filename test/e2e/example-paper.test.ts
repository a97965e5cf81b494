/**
 * The example strategy through paper trading on live data (issue 15: the example runs in CI through backtest and
 * paper): the built CLI, `tickwire run --paper --strategy examples/mean-reversion.js` on the embedded simulator's
 * public streams (real sockets), orders matched locally. It trades, stops with nothing open, and no order reaches
 * the venue (the simulator's own order count stays 0: paper never builds an order gateway).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { rmDir, tmpDir } from '../core/helpers.js';
import type { RunSummary } from '../../src/app/summary.js';

const ROOT = resolve(import.meta.dirname, '../..');
const dir = tmpDir('e2e-example-paper');
afterAll(() => rmDir(dir));

describe('examples/mean-reversion.js on paper', () => {
  it('tickwire run --paper --strategy examples/mean-reversion.js: paper fills on live public data, nothing open, exit 0', { timeout: 60_000 }, async () => {
    expect(existsSync(join(ROOT, 'dist/src/cli/tickwire.js')), 'run `npm run build` first').toBe(true);
    const out = join(dir, 'summary.json');
    const r = await new Promise<{ code: number | null; stderr: string }>((res) => {
      let stderr = '';
      const p = spawn(
        process.execPath,
        [join(ROOT, 'bin/tickwire.js'), 'run', '--paper', '--strategy', 'examples/mean-reversion.js', '--duration', '10', '--summary-json', out],
        {
          cwd: ROOT,
          env: { ...process.env, TICKWIRE__PERSISTENCE__DIR: join(dir, 'data'), TICKWIRE__LOG__LEVEL: 'warn' },
          stdio: ['ignore', 'ignore', 'pipe'],
        },
      );
      p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const kill = setTimeout(() => p.kill('SIGKILL'), 50_000);
      p.on('exit', (code) => {
        clearTimeout(kill);
        res({ code, stderr });
      });
    });
    expect(r.code, r.stderr).toBe(0);
    const s = JSON.parse(readFileSync(out, 'utf8')) as RunSummary;
    expect(s.strategy).toBe('meanReversion');
    expect(s.strategyErrors).toBe(0);
    expect(s.orders.sent).toBeGreaterThan(0);
    expect(s.orders.openAtEnd).toBe(0);
    expect(JSON.stringify(s)).toMatch(/paper on live public data/);
  });
});
