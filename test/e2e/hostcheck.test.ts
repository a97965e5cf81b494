/**
 * Issue 7 "Health": `tickwire run` checks its core pinning and host tuning against `hostCheck` at start.
 * refuse + a mismatch = exit 4 with a message naming each setting; warn = it runs.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runEngine } from '../../src/app/run.js';
import { rmDir, tmpDir } from '../core/helpers.js';

const ROOT = join(import.meta.dirname, '..', '..');
const BIN = join(ROOT, 'bin/tickwire.js');
const dir = tmpDir('e2e-hostcheck');
afterAll(() => rmDir(dir));
const quiet = { log: { level: 'silent', destinations: [{ to: 'stderr', level: 'silent' }] } };
// a CPU set this process can never be pinned to exactly (no machine here has 4096 CPUs)
const IMPOSSIBLE = [4095];

function runCli(config: object, args: string[]): Promise<{ code: number | null; stderr: string }> {
  const file = join(dir, `config-${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(file, JSON.stringify(config));
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [BIN, 'run', '--config', file, ...args], { cwd: ROOT, env: { ...process.env }, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const t = setTimeout(() => p.kill('SIGKILL'), 20_000);
    p.on('error', reject);
    p.on('exit', (code) => {
      clearTimeout(t);
      resolve({ code, stderr });
    });
  });
}

describe('host check at the start of tickwire run', () => {
  it('refuse: a core pinning that differs exits 4 with a message naming the pinning, before anything starts', async () => {
    expect(existsSync(join(ROOT, 'dist/src/cli/tickwire.js'))).toBe(true); // npm run build first
    const data = join(dir, 'refuse');
    const r = await runCli({ ...quiet, persistence: { dir: data }, hostCheck: { mode: 'refuse', cores: IMPOSSIBLE } }, ['--paper', '--duration', '1']);
    expect(r.code).toBe(4);
    expect(r.stderr).toContain('host check refused to start');
    expect(r.stderr).toMatch(/cpu\.affinity: expected 4095, found \d/);
    expect(existsSync(join(data, 'engine.lock'))).toBe(false); // refused before taking the data dir
  });

  it('warn: the same mismatch is logged and the engine runs', async () => {
    const r = await runEngine({
      paper: true,
      durationSec: 1,
      print: false,
      signals: false,
      env: {},
      overrides: { ...quiet, persistence: { dir: join(dir, 'warn') }, hostCheck: { mode: 'warn', cores: IMPOSSIBLE } },
    });
    expect(r.code).toBe(0);
  });

  it('refuse: a run through the API throws the error naming the setting', async () => {
    await expect(
      runEngine({
        paper: true,
        durationSec: 1,
        print: false,
        signals: false,
        env: {},
        overrides: { ...quiet, persistence: { dir: join(dir, 'api') }, hostCheck: { mode: 'refuse', cores: IMPOSSIBLE } },
      }),
    ).rejects.toThrow(/cpu\.affinity/);
  });
});
