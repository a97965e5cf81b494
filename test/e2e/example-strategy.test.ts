/**
 * The example strategy (examples/mean-reversion.js) as a trader runs it: the built CLI, `tickwire run --strategy
 * examples/mean-reversion.js` against the embedded simulator (a child process, real sockets), and the same through
 * its config (examples/mean-reversion.json: `strategy.module` relative to the config file, `strategy.params`).
 * And the package's public API as a project that installs tickwire sees it: `import type { Strategy } from 'tickwire'`
 * type-checks (and a wrong strategy does not), and the runtime entry resolves to dist/.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { rmDir, tmpDir } from '../core/helpers.js';
import type { RunSummary } from '../../src/app/summary.js';

const ROOT = resolve(import.meta.dirname, '../..');
const dir = tmpDir('e2e-example');
afterAll(() => rmDir(dir));

function cli(args: string[], cwd: string, env: Record<string, string>): Promise<{ code: number | null; stderr: string }> {
  return new Promise((res) => {
    let stderr = '';
    const p = spawn(process.execPath, [join(ROOT, 'bin/tickwire.js'), ...args], { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const kill = setTimeout(() => p.kill('SIGKILL'), 60_000);
    p.on('exit', (code) => {
      clearTimeout(kill);
      res({ code, stderr });
    });
  });
}

describe('examples/mean-reversion.js', () => {
  it('tickwire run --strategy examples/mean-reversion.js trades against the embedded simulator and stops clean', async () => {
    expect(existsSync(join(ROOT, 'dist/src/cli/tickwire.js')), 'run `npm run build` first').toBe(true);
    const out = join(dir, 'flag.json');
    const r = await cli(['run', '--strategy', 'examples/mean-reversion.js', '--duration', '8', '--summary-json', out], ROOT, {
      TICKWIRE__PERSISTENCE__DIR: join(dir, 'data-flag'),
      TICKWIRE__LOG__LEVEL: 'warn',
    });
    expect(r.code, r.stderr).toBe(0);
    const s = JSON.parse(readFileSync(out, 'utf8')) as RunSummary;
    expect(s.strategy).toBe('meanReversion');
    expect(s.strategyErrors).toBe(0);
    expect(s.orders.sent).toBeGreaterThan(0);
    expect(s.orders.acked).toBeGreaterThan(0);
    expect(s.orders.openAtEnd).toBe(0);
  });

  it('runs from its config: strategy.module relative to the config file, strategy.params its parameters', async () => {
    const out = join(dir, 'config.json');
    const r = await cli(['run', '--config', join(ROOT, 'examples/mean-reversion.json'), '--duration', '8', '--summary-json', out], dir, {
      TICKWIRE__PERSISTENCE__DIR: join(dir, 'data-config'),
      TICKWIRE__LOG__LEVEL: 'info',
    });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/"entryTicks":2.*mean reversion started/);
    const s = JSON.parse(readFileSync(out, 'utf8')) as RunSummary;
    expect(s.strategy).toBe('meanReversion');
    expect(s.orders.sent).toBeGreaterThan(0);
    expect(s.orders.openAtEnd).toBe(0);
    // inside the risk limits of its config (0.005 BTC per symbol)
    for (const q of Object.values(s.positions)) expect(Math.abs(q)).toBeLessThanOrEqual(0.005);
  });
});

describe("the package's public API", () => {
  const proj = join(dir, 'project');
  const tsc = join(ROOT, 'node_modules/typescript/bin/tsc');
  const setup = (): void => {
    if (existsSync(proj)) return;
    mkdirSync(join(proj, 'node_modules'), { recursive: true });
    symlinkSync(ROOT, join(proj, 'node_modules/tickwire'), 'dir'); // as `npm install` of a local path makes it
    writeFileSync(join(proj, 'package.json'), JSON.stringify({ name: 'my-strategies', type: 'module', private: true }));
    writeFileSync(
      join(proj, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: { target: 'ES2023', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, noEmit: true, skipLibCheck: false, types: [] },
        include: ['*.ts'],
      }),
    );
  };
  const check = (code: string) => {
    setup();
    writeFileSync(join(proj, 'good.ts'), code);
    return spawnSync(process.execPath, [tsc, '-p', proj], { encoding: 'utf8', timeout: 60_000 });
  };

  it("import type { Strategy } from 'tickwire' type-checks a strategy, and rejects a wrong one", () => {
    expect(existsSync(join(ROOT, 'dist/src/api/index.d.ts')), 'run `npm run build` first').toBe(true);
    const ok = check(`
import type { Strategy, StrategyContext, OrderEvent, OrderRequest, StrategyFactory } from 'tickwire';
import { defineStrategy, toUnits } from 'tickwire';
interface Params { symbol: string; size: number }
class Mine implements Strategy {
  readonly name = 'mine';
  private ctx!: StrategyContext;
  private readonly req: OrderRequest = { slot: 0, side: 'BUY', type: 'LIMIT', tif: 'POST_ONLY', price: 0, qty: 0 };
  constructor(private readonly p: Params) {}
  start(ctx: StrategyContext): void { this.ctx = ctx; this.req.slot = ctx.slotOf('binanceSpot', this.p.symbol); }
  onBook(slot: number): void {
    const t = this.ctx.market.top(slot);
    const room: number = this.ctx.risk.headroom(slot, 'BUY');
    this.req.price = t.bidPx;
    this.req.qty = Math.min(room, toUnits(this.p.size, this.ctx.instruments[slot]!.qtyDecimals));
    const id: string | null = this.ctx.orders.place(this.req);
    if (id !== null) this.ctx.log.info('placed', { id });
  }
  onFill(ev: OrderEvent): void { this.ctx.log.info('fill', { qty: ev.fillQty }); }
}
const factory: StrategyFactory<Params> = (p) => new Mine(p);
export default defineStrategy(factory);
`);
    expect(ok.status, ok.stdout + ok.stderr).toBe(0);
    const bad = check(`
import type { Strategy } from 'tickwire';
export const s: Strategy = { name: 'bad', onBook(slot: string) { return slot; } };
`);
    expect(bad.status).not.toBe(0);
    expect(bad.stdout).toMatch(/good\.ts\(3,\d+\): error TS2322: Type '\(slot: string\) => string' is not assignable/);
  });

  it("import { ... } from 'tickwire' loads the built entry (package exports -> dist/src/api/index.js)", () => {
    setup();
    const r = spawnSync(
      process.execPath,
      ['--input-type=module', '-e', "import * as t from 'tickwire'; console.log(Object.keys(t).sort().join(','), t.toUnits(27123.45, 2));"],
      { cwd: proj, encoding: 'utf8', timeout: 30_000 },
    );
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe('BOOK_FIELDS,TERMINAL_STATES,defineStrategy,formatUnits,fromUnits,strategyContext,toUnits 2712345');
  });
});
