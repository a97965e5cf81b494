import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const SCRIPT = resolve(import.meta.dirname, '../../scripts/linux-optimize.sh');
const tmp = mkdtempSync(join(tmpdir(), 'tickwire-lo-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function run(args: string[], env: Record<string, string> = {}): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync('bash', [SCRIPT, ...args], { encoding: 'utf8', timeout: 20_000, env: { ...process.env, ...env } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const SETTINGS = [
  'fs.file-max',
  'fs.nr_open',
  'net.core.rmem_max',
  'net.core.wmem_max',
  'net.ipv4.tcp_rmem',
  'net.ipv4.tcp_wmem',
  'net.core.netdev_max_backlog',
  'net.core.busy_poll',
  'net.core.busy_read',
  'net.ipv4.tcp_slow_start_after_idle',
  'net.ipv4.tcp_keepalive_time',
  'net.ipv4.tcp_keepalive_intvl',
  'net.ipv4.tcp_keepalive_probes',
  'net.ipv4.tcp_low_latency',
  'net.ipv4.tcp_autocorking',
  'vm.swappiness',
  'kernel.numa_balancing',
  'thp.enabled',
  'thp.defrag',
  'cpu.governor',
  'cpu.cstates',
  'clocksource',
  'swap',
  'limits.nofile',
  'irqbalance',
  'irq.affinity',
  'irq.default_smp_affinity',
  'kernel.cmdline',
];

/** Every tunable file the script reads on this machine, with its content. */
function snapshot(): Map<string, string> {
  const out = new Map<string, string>();
  const files = [
    ...SETTINGS.filter((s) => /^(fs|net|vm|kernel)\./.test(s) && s !== 'kernel.cmdline').map((s) => `/proc/sys/${s.replaceAll('.', '/')}`),
    '/sys/kernel/mm/transparent_hugepage/enabled',
    '/sys/kernel/mm/transparent_hugepage/defrag',
    '/sys/devices/system/clocksource/clocksource0/current_clocksource',
    '/proc/irq/default_smp_affinity',
    '/proc/swaps',
  ];
  for (const d of existsSync('/proc/irq') ? readdirSync('/proc/irq') : []) files.push(`/proc/irq/${d}/smp_affinity_list`);
  for (let c = 0; c < cpus().length; c++) {
    files.push(`/sys/devices/system/cpu/cpu${c}/cpufreq/scaling_governor`);
    for (let s = 0; s < 10; s++) files.push(`/sys/devices/system/cpu/cpu${c}/cpuidle/state${s}/disable`);
  }
  for (const f of files) {
    try {
      out.set(f, readFileSync(f, 'utf8'));
    } catch {
      /* not on this machine */
    }
  }
  return out;
}

const STATUS_LINE = /^(ok|CHANGE|set|n\/a)\s+(\S+)\s+current="[^"]*"\s+recommended="[^"]*"\s+\S/;

describe('scripts/linux-optimize.sh', () => {
  it('--check on this machine prints a line per setting, exits 0 or 1, and changes nothing', () => {
    const core = cpus().length > 1 ? '1' : '0';
    const before = snapshot();
    const r = run(['--check', '--cores', core]);
    const after = snapshot();
    expect([0, 1], r.stderr).toContain(r.status);
    const lines = r.stdout.split('\n').filter((l) => STATUS_LINE.test(l));
    const names = lines.map((l) => (STATUS_LINE.exec(l)?.[2] ?? '').replace(/\[.*\]$/, ''));
    for (const s of SETTINGS) expect(names, `a line for ${s}`).toContain(s);
    expect(lines.length).toBe(SETTINGS.length);
    // exit status agrees with the lines
    expect(r.status).toBe(lines.some((l) => l.startsWith('CHANGE')) ? 1 : 0);
    expect(r.stdout).toMatch(/isolcpus=managed_irq,domain,\d+ nohz_full=\d+ rcu_nocbs=\d+/);
    expect(after).toEqual(before);
    expect(before.size).toBeGreaterThan(0);
  });

  it('is the default mode, and rejects bad arguments with exit 2', () => {
    expect(run(['--cores', '0']).status).not.toBe(2);
    expect(run(['--cores', 'x']).status).toBe(2);
    expect(run(['--frobnicate']).status).toBe(2);
    expect(run(['--cores', '99999']).status).toBe(2);
    const help = run(['--help']);
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(/--apply/);
  });

  it('--apply then --revert on a fake /proc and /sys tree restores every value', () => {
    const root = join(tmp, 'root');
    const files: Record<string, string> = {
      'sys/devices/system/cpu/online': '0-3\n',
      'proc/sys/net/core/busy_poll': '0\n',
      'proc/sys/net/ipv4/tcp_rmem': '4096\t131072\t6291456\n',
      'proc/sys/net/ipv4/tcp_wmem': '4096\t16384\t33554432\n',
      'proc/sys/net/ipv4/tcp_slow_start_after_idle': '1\n',
      'proc/sys/vm/swappiness': '60\n',
      'proc/sys/fs/file-max': '9999999\n',
      'sys/kernel/mm/transparent_hugepage/enabled': '[always] madvise never\n',
      'sys/devices/system/cpu/cpu0/cpufreq/scaling_governor': 'powersave\n',
      'sys/devices/system/cpu/cpu2/cpufreq/scaling_governor': 'powersave\n',
      'sys/devices/system/cpu/cpu2/cpuidle/state0/latency': '0\n',
      'sys/devices/system/cpu/cpu2/cpuidle/state0/disable': '0\n',
      'sys/devices/system/cpu/cpu2/cpuidle/state1/latency': '80\n',
      'sys/devices/system/cpu/cpu2/cpuidle/state1/disable': '0\n',
      'proc/irq/7/smp_affinity_list': '0-3\n',
      'proc/irq/8/smp_affinity_list': '0\n',
      'proc/irq/default_smp_affinity': 'f\n',
      'proc/swaps': 'Filename\tType\tSize\tUsed\tPriority\n',
      'proc/cmdline': 'BOOT_IMAGE=/vmlinuz ro isolcpus=managed_irq,domain,2,3 nohz_full=2-3 rcu_nocbs=2,3\n',
    };
    for (const [p, t] of Object.entries(files)) {
      mkdirSync(dirname(join(root, p)), { recursive: true });
      writeFileSync(join(root, p), t);
    }
    const read = (p: string): string => readFileSync(join(root, p), 'utf8');
    const args = ['--root', root, '--cores', '2', '--isolate', '2,3'];

    const check = run(['--check', ...args]);
    expect(check.status).toBe(1);
    expect(check.stdout).toMatch(/^CHANGE\s+vm\.swappiness\s+current="60"\s+recommended="1"/m);
    expect(check.stdout).toMatch(/^n\/a\s+net\.core\.busy_read\s+current="not available here"/m);
    expect(check.stdout).toMatch(/^CHANGE\s+irq\.affinity\s+current="1 of 2 IRQs may run on \[2,3\]"/m);

    const apply = run(['--apply', ...args]);
    expect(apply.status, apply.stderr).toBe(0);
    expect(read('proc/sys/net/core/busy_poll').trim()).toBe('50');
    expect(read('proc/sys/net/ipv4/tcp_rmem').trim()).toBe('4096 262144 16777216');
    expect(read('proc/sys/net/ipv4/tcp_wmem').trim()).toBe('4096 262144 33554432'); // a higher max is kept
    for (const name of ['vm.swappiness', 'cpu.governor', 'cpu.cstates[2]', 'irq.affinity', 'thp.enabled', 'limits.nofile']) {
      expect(apply.stdout).toMatch(new RegExp(`^set\\s+${name.replace(/[.[\]]/g, '\\$&')}\\s`, 'm'));
    }
    expect(read('proc/sys/net/ipv4/tcp_slow_start_after_idle').trim()).toBe('0');
    expect(read('proc/sys/vm/swappiness').trim()).toBe('1');
    expect(read('proc/sys/fs/file-max').trim()).toBe('9999999'); // already above the minimum: untouched
    expect(read('sys/kernel/mm/transparent_hugepage/enabled').trim()).toBe('madvise');
    expect(read('sys/devices/system/cpu/cpu0/cpufreq/scaling_governor').trim()).toBe('performance');
    expect(read('sys/devices/system/cpu/cpu2/cpuidle/state1/disable').trim()).toBe('1');
    expect(read('sys/devices/system/cpu/cpu2/cpuidle/state0/disable').trim()).toBe('0');
    expect(read('proc/irq/7/smp_affinity_list').trim()).toBe('0,1');
    expect(read('proc/irq/default_smp_affinity').trim()).toBe('3');
    expect(read('etc/sysctl.d/90-tickwire.conf')).toMatch(/^vm\.swappiness = 1$/m);
    expect(existsSync(join(root, 'etc/security/limits.d/90-tickwire.conf'))).toBe(true);

    // a second apply keeps the values from before the first
    expect(run(['--apply', ...args]).status).toBe(0);
    // everything available now matches
    const recheck = run(['--check', ...args]);
    expect(recheck.status, recheck.stdout).toBe(0);

    const revert = run(['--revert', '--root', root]);
    expect(revert.status, revert.stderr).toBe(0);
    for (const [p, t] of Object.entries(files)) {
      if (p.includes('transparent_hugepage')) expect(read(p).trim()).toBe('always');
      else expect(read(p).replace(/\s+/g, ' ').trim(), p).toBe(t.replace(/\s+/g, ' ').trim());
    }
    expect(existsSync(join(root, 'etc/sysctl.d/90-tickwire.conf'))).toBe(false);
    expect(existsSync(join(root, 'etc/security/limits.d/90-tickwire.conf'))).toBe(false);
    expect(existsSync(join(root, 'var/lib/tickwire/linux-optimize.state'))).toBe(false);
    expect(run(['--revert', '--root', root]).stdout).toMatch(/nothing to revert/);
  });
});
