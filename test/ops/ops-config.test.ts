import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { hostCheckConfigSchema, logConfigSchema } from '../../src/config/ops.js';
import { hostCheckFromConfig } from '../../src/app/hostcheck.js';
import { main } from '../../src/app/hostcheckcli.js';

const root = mkdtempSync(join(tmpdir(), 'tickwire-hc-cli-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
afterEach(() => vi.restoreAllMocks());

function put(p: string, t: string): void {
  mkdirSync(join(root, dirname(p)), { recursive: true });
  writeFileSync(join(root, p), t);
}

describe('ops config schemas', () => {
  it('hostCheck: production expectations plus explicit overrides', () => {
    const c = hostCheckConfigSchema.parse({ mode: 'refuse', production: true, cores: [2], maxSwappiness: 0 });
    const { mode, expect: e } = hostCheckFromConfig(c);
    expect(mode).toBe('refuse');
    expect(e.cores).toEqual([2]);
    expect(e.governor).toBe('performance');
    expect(e.maxSwappiness).toBe(0);
    expect(hostCheckFromConfig(hostCheckConfigSchema.parse({})).mode).toBe('warn');
  });

  it('hostCheck: errors name the field', () => {
    const r = hostCheckConfigSchema.safeParse({ mode: 'maybe' });
    expect(r.success).toBe(false);
    expect(r.error?.issues[0]?.path).toEqual(['mode']);
    const p = hostCheckConfigSchema.safeParse({ production: true });
    expect(p.error?.issues[0]?.path).toEqual(['cores']);
    expect(hostCheckConfigSchema.safeParse({ cpus: [1] }).success).toBe(false);
  });

  it('log: per-destination levels and rotation', () => {
    const ok = logConfigSchema.parse({
      destinations: [
        { to: 'stdout', level: 'info' },
        { to: '/var/log/t/alert', level: 'warn', rotate: { frequency: 'daily', count: 30 } },
      ],
    });
    expect(ok.destinations[1]?.rotate?.count).toBe(30);
    expect(logConfigSchema.safeParse({ destinations: [{ to: 'stdout', level: 'info', rotate: { frequency: 'daily' } }] }).success).toBe(false);
    const bad = logConfigSchema.safeParse({ destinations: [{ to: 'x', level: 'loud' }] });
    expect(bad.error?.issues[0]?.path).toEqual(['destinations', 0, 'level']);
  });
});

describe('tickwire host-check', () => {
  it('exits 0 when pinned as asked, 1 naming the mismatch, 2 on misuse', async () => {
    put('proc/self/status', 'Name:\tnode\nCpus_allowed_list:\t3\n');
    const out: string[] = [];
    vi.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => (out.push(String(s)), true));
    const err: string[] = [];
    vi.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => (err.push(String(s)), true));
    expect(await main(['host-check', '--cores', '3', '--root', root, '--json'])).toBe(0);
    expect(JSON.parse(out.join(''))).toEqual([{ setting: 'cpu.affinity', expected: '3', actual: '3', status: 'ok' }]);
    expect(await main(['--cores', '2', '--root', root])).toBe(1);
    expect(err.join('')).toMatch(/cpu\.affinity: expected 2, found 3/);
    expect(await main(['--cores', '2', '--root', root, '--mode', 'warn'])).toBe(0);
    expect(await main(['--production'])).toBe(2);
    expect(await main(['--cores', 'x'])).toBe(2);
  });
});
