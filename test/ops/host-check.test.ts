import { mkdtempSync, mkdirSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { checkHost, formatCpuList, fsReader, HostCheckError, inspectHost, parseCpuList, productionExpectations } from '../../src/app/hostcheck.js';

const roots: string[] = [];
afterEach(() => {
  for (const r of roots.splice(0)) rmSync(r, { recursive: true, force: true });
});

/** A fake /proc + /sys tree: only the files given exist. */
function fakeRoot(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'tickwire-host-'));
  roots.push(root);
  for (const [p, text] of Object.entries(files)) {
    mkdirSync(join(root, dirname(p)), { recursive: true });
    writeFileSync(join(root, p), text);
  }
  return root;
}

const status = (cpus: string): string => `Name:\tnode\nState:\tR (running)\nCpus_allowed:\t2\nCpus_allowed_list:\t${cpus}\nVoluntary_ctxt_switches:\t1\n`;
const limits = (soft: string): string =>
  'Limit                     Soft Limit           Hard Limit           Units     \n' +
  `Max open files            ${soft}              1048576              files     \n`;

const tunedHost = {
  '/proc/self/status': status('1'),
  '/proc/self/limits': limits('1048576'),
  '/sys/devices/system/cpu/isolated': '1\n',
  '/sys/devices/system/cpu/cpu1/cpufreq/scaling_governor': 'performance\n',
  '/sys/kernel/mm/transparent_hugepage/enabled': 'always [madvise] never\n',
  '/proc/sys/vm/swappiness': '1\n',
  '/proc/swaps': 'Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n',
  '/sys/devices/system/clocksource/clocksource0/current_clocksource': 'tsc\n',
  '/proc/sys/net/core/busy_poll': '50\n',
  '/proc/sys/net/ipv4/tcp_slow_start_after_idle': '0\n',
};

describe('cpu lists', () => {
  it('parses and formats ranges', () => {
    expect(parseCpuList('0-2,5')).toEqual([0, 1, 2, 5]);
    expect(parseCpuList('3\n')).toEqual([3]);
    expect(formatCpuList([5, 0, 1, 2])).toBe('0-2,5');
    expect(() => parseCpuList('a-b')).toThrow(/not a CPU list/);
  });
});

describe('host check on fake /proc trees', () => {
  it('a tuned, pinned host passes every check in refuse mode', () => {
    const read = fsReader(fakeRoot(tunedHost));
    const findings = checkHost(productionExpectations([1]), { mode: 'refuse', read });
    expect(findings.length).toBe(10);
    expect(findings.filter((f) => f.status !== 'ok')).toEqual([]);
  });

  it('refuse mode names every mismatch', () => {
    const read = fsReader(
      fakeRoot({
        ...tunedHost,
        '/proc/self/status': status('0-1'),
        '/sys/devices/system/cpu/cpu1/cpufreq/scaling_governor': 'powersave\n',
        '/sys/kernel/mm/transparent_hugepage/enabled': '[always] madvise never\n',
        '/proc/sys/vm/swappiness': '60\n',
        '/proc/swaps': 'Filename Type Size Used Priority\n/swapfile file 1024 0 -2\n',
      }),
    );
    let err: unknown;
    try {
      checkHost(productionExpectations([1]), { mode: 'refuse', read });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(HostCheckError);
    const e = err as HostCheckError;
    expect(e.mismatches.map((m) => m.setting)).toEqual(['cpu.affinity', 'cpu.governor', 'thp.enabled', 'vm.swappiness', 'swap']);
    expect(e.message).toMatch(/cpu\.affinity: expected 1, found 0-1/);
    expect(e.message).toMatch(/cpu\.governor: expected performance, found cpu1=powersave/);
    expect(e.message).toMatch(/thp\.enabled: expected madvise\|never, found always/);
    expect(e.message).toMatch(/vm\.swappiness: expected <= 10, found 60/);
    expect(e.message).toMatch(/swap: expected none, found \/swapfile/);
  });

  it('warn mode logs mismatches at warn and returns instead of throwing', () => {
    const read = fsReader(fakeRoot({ ...tunedHost, '/proc/self/status': status('0') }));
    const warned: string[] = [];
    const logger = { warn: (_o: unknown, msg: string) => void warned.push(msg), info: () => undefined };
    const findings = checkHost({ cores: [1] }, { mode: 'warn', read, logger: logger as never });
    expect(findings).toEqual([{ setting: 'cpu.affinity', expected: '1', actual: '0', status: 'mismatch' }]);
    expect(warned).toEqual(['host check: cpu.affinity expected 1, found 0']);
  });

  it('a setting the kernel does not expose is unknown, a mismatch only with requireAvailable', () => {
    const files: Record<string, string> = { ...tunedHost };
    delete files['/sys/devices/system/cpu/cpu1/cpufreq/scaling_governor'];
    const read = fsReader(fakeRoot(files));
    const lax = checkHost({ cores: [1], governor: 'performance' }, { mode: 'refuse', read });
    expect(lax.find((f) => f.setting === 'cpu.governor')?.status).toBe('unknown');
    expect(() => checkHost({ cores: [1], governor: 'performance', requireAvailable: true }, { mode: 'refuse', read })).toThrow(
      /cpu\.governor: expected performance, found not available here \(no cpufreq\)/,
    );
  });

  it('nofile limit and isolation', () => {
    const read = fsReader(fakeRoot({ ...tunedHost, '/proc/self/limits': limits('1024'), '/sys/devices/system/cpu/isolated': '\n' }));
    const f = inspectHost({ cores: [1], isolated: true, minNofile: 65536 }, read);
    expect(f.map((x) => [x.setting, x.status, x.actual])).toEqual([
      ['cpu.affinity', 'ok', '1'],
      ['cpu.isolated', 'mismatch', '(none)'],
      ['limits.nofile', 'mismatch', '1024'],
    ]);
  });

  it('off mode checks nothing', () => {
    expect(checkHost({ cores: [7] }, { mode: 'off', read: () => undefined })).toEqual([]);
  });

  it('reads this process on the real /proc', () => {
    const f = inspectHost({ cores: [0] }, fsReader('/'));
    expect(f[0]?.setting).toBe('cpu.affinity');
    expect(f[0]?.actual).toMatch(/^[\d,-]+$/);
  });
});
