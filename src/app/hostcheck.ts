/**
 * Host check at engine start: is this process pinned where the config says, and is the host tuned as demanded?
 *
 * Pure logic over a `HostReader` (a function from an absolute path like `/proc/self/status` to its text, or
 * undefined), so tests run it over a fake /proc + /sys tree (`fsReader(dir)`) and production over the real root.
 * Mode `warn` logs each mismatch; `refuse` throws a `HostCheckError` naming every mismatch (the caller exits
 * non-zero); `off` skips. Settings the kernel does not expose here (no cpufreq in a VM) are `unknown`: reported,
 * never a mismatch unless `requireAvailable` is set.
 *
 * The same recommendations as scripts/linux-optimize.sh, which can also set them.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from '../util/log.js';
import type { HostCheckConfig } from '../config/ops.js';

export type HostCheckMode = 'off' | 'warn' | 'refuse';

/** What the config demands; every field is optional (absent = not checked). */
export interface HostExpectations {
  /** the process's allowed CPUs must be exactly these (taskset / CPUAffinity) */
  cores?: number[];
  /** those cores must also be isolated from the scheduler (isolcpus / nohz_full) */
  isolated?: boolean;
  /** scaling governor of the pinned cores (usually 'performance') */
  governor?: string;
  /** accepted transparent huge page modes, e.g. ['madvise', 'never'] */
  thp?: string[];
  /** vm.swappiness at most this */
  maxSwappiness?: number;
  /** no active swap device */
  noSwap?: boolean;
  /** current clock source, usually 'tsc' */
  clocksource?: string;
  /** soft RLIMIT_NOFILE at least this */
  minNofile?: number;
  /** net.core.busy_poll at least this (µs) */
  minBusyPoll?: number;
  /** net.ipv4.tcp_slow_start_after_idle must be 0 */
  noSlowStartAfterIdle?: boolean;
  /** an unreadable setting counts as a mismatch (default false: reported as unknown) */
  requireAvailable?: boolean;
}

export type FindingStatus = 'ok' | 'mismatch' | 'unknown';

export interface HostFinding {
  setting: string;
  expected: string;
  actual: string;
  status: FindingStatus;
}

export type HostReader = (path: string) => string | undefined;

/** Reads files under `root` ('/' in production, a fake tree in tests). */
export function fsReader(root = '/'): HostReader {
  return (path) => {
    try {
      return readFileSync(join(root, path), 'utf8');
    } catch {
      return undefined;
    }
  };
}

/** "0-2,5" -> [0, 1, 2, 5]; throws on anything else. */
export function parseCpuList(list: string): number[] {
  const out = new Set<number>();
  const s = list.trim();
  if (s === '') return [];
  for (const part of s.split(',')) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part.trim());
    if (!m) throw new Error(`not a CPU list: '${list}'`);
    const a = Number(m[1]);
    const b = m[2] === undefined ? a : Number(m[2]);
    if (b < a) throw new Error(`not a CPU list: '${list}'`);
    for (let c = a; c <= b; c++) out.add(c);
  }
  return [...out].sort((x, y) => x - y);
}

/** [0, 1, 2, 5] -> "0-2,5" */
export function formatCpuList(cpus: readonly number[]): string {
  const s = [...new Set(cpus)].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < s.length; ) {
    let j = i;
    while (j + 1 < s.length && s[j + 1] === (s[j] as number) + 1) j++;
    parts.push(i === j ? `${s[i]}` : `${s[i]}-${s[j]}`);
    i = j + 1;
  }
  return parts.join(',');
}

function selectedMode(text: string): string {
  const m = /\[([^\]]+)\]/.exec(text);
  return (m?.[1] ?? text).trim();
}

function statusField(status: string, key: string): string | undefined {
  for (const line of status.split('\n')) {
    if (line.startsWith(`${key}:`)) return line.slice(key.length + 1).trim();
  }
  return undefined;
}

/** Compare the host with the expectations; one finding per expected setting, in a stable order. */
export function inspectHost(expect: HostExpectations, read: HostReader, pid: number | 'self' = 'self'): HostFinding[] {
  const out: HostFinding[] = [];
  const unknown = (setting: string, expected: string, why: string): void => {
    out.push({ setting, expected, actual: `not available here (${why})`, status: expect.requireAvailable ? 'mismatch' : 'unknown' });
  };
  const cmp = (setting: string, expected: string, actual: string, ok: boolean): void => {
    out.push({ setting, expected, actual, status: ok ? 'ok' : 'mismatch' });
  };
  const num = (path: string): number | undefined => {
    const t = read(path)?.trim();
    return t !== undefined && /^-?\d+$/.test(t) ? Number(t) : undefined;
  };

  const cores = expect.cores ? [...new Set(expect.cores)].sort((a, b) => a - b) : undefined;
  if (cores) {
    const want = formatCpuList(cores);
    const list = statusField(read(`/proc/${pid}/status`) ?? '', 'Cpus_allowed_list');
    if (list === undefined) unknown('cpu.affinity', want, `no Cpus_allowed_list in /proc/${pid}/status`);
    else {
      let got: number[] | undefined;
      try {
        got = parseCpuList(list);
      } catch {
        got = undefined;
      }
      cmp('cpu.affinity', want, list, got !== undefined && formatCpuList(got) === want);
    }
    if (expect.isolated) {
      const iso = read('/sys/devices/system/cpu/isolated');
      if (iso === undefined) unknown('cpu.isolated', want, 'no /sys/devices/system/cpu/isolated');
      else {
        const set = new Set(parseCpuList(iso));
        cmp(
          'cpu.isolated',
          `includes ${want}`,
          iso.trim() || '(none)',
          cores.every((c) => set.has(c)),
        );
      }
    }
  }

  if (expect.governor !== undefined) {
    const targets = cores ?? [0];
    const bad: string[] = [];
    let seen = 0;
    for (const c of targets) {
      const g = read(`/sys/devices/system/cpu/cpu${c}/cpufreq/scaling_governor`)?.trim();
      if (g === undefined) continue;
      seen++;
      if (g !== expect.governor) bad.push(`cpu${c}=${g}`);
    }
    if (seen === 0) unknown('cpu.governor', expect.governor, 'no cpufreq');
    else cmp('cpu.governor', expect.governor, bad.length ? bad.join(' ') : expect.governor, bad.length === 0);
  }

  if (expect.thp !== undefined) {
    const t = read('/sys/kernel/mm/transparent_hugepage/enabled');
    const want = expect.thp.join('|');
    if (t === undefined) unknown('thp.enabled', want, 'no transparent_hugepage in /sys');
    else {
      const mode = selectedMode(t);
      cmp('thp.enabled', want, mode, expect.thp.includes(mode));
    }
  }

  if (expect.maxSwappiness !== undefined) {
    const v = num('/proc/sys/vm/swappiness');
    if (v === undefined) unknown('vm.swappiness', `<= ${expect.maxSwappiness}`, 'no /proc/sys/vm/swappiness');
    else cmp('vm.swappiness', `<= ${expect.maxSwappiness}`, String(v), v <= expect.maxSwappiness);
  }

  if (expect.noSwap) {
    const s = read('/proc/swaps');
    if (s === undefined) unknown('swap', 'none', 'no /proc/swaps');
    else {
      const devices = s
        .split('\n')
        .slice(1)
        .filter((l) => l.trim() !== '')
        .map((l) => l.split(/\s+/)[0]);
      cmp('swap', 'none', devices.length ? devices.join(' ') : 'none', devices.length === 0);
    }
  }

  if (expect.clocksource !== undefined) {
    const c = read('/sys/devices/system/clocksource/clocksource0/current_clocksource')?.trim();
    if (c === undefined) unknown('clocksource', expect.clocksource, 'no clocksource in /sys');
    else cmp('clocksource', expect.clocksource, c, c === expect.clocksource);
  }

  if (expect.minNofile !== undefined) {
    const limits = read(`/proc/${pid}/limits`);
    const line = limits?.split('\n').find((l) => l.startsWith('Max open files'));
    const soft = line?.slice('Max open files'.length).trim().split(/\s+/)[0];
    if (soft === undefined) unknown('limits.nofile', `>= ${expect.minNofile}`, `no Max open files in /proc/${pid}/limits`);
    else cmp('limits.nofile', `>= ${expect.minNofile}`, soft, soft === 'unlimited' || Number(soft) >= expect.minNofile);
  }

  if (expect.minBusyPoll !== undefined) {
    const v = num('/proc/sys/net/core/busy_poll');
    if (v === undefined) unknown('net.core.busy_poll', `>= ${expect.minBusyPoll}`, 'no net.core.busy_poll');
    else cmp('net.core.busy_poll', `>= ${expect.minBusyPoll}`, String(v), v >= expect.minBusyPoll);
  }

  if (expect.noSlowStartAfterIdle) {
    const v = num('/proc/sys/net/ipv4/tcp_slow_start_after_idle');
    if (v === undefined) unknown('net.ipv4.tcp_slow_start_after_idle', '0', 'no such sysctl');
    else cmp('net.ipv4.tcp_slow_start_after_idle', '0', String(v), v === 0);
  }

  return out;
}

export class HostCheckError extends Error {
  readonly mismatches: HostFinding[];
  constructor(mismatches: HostFinding[]) {
    super(
      `host check refused to start: ${mismatches.length} setting(s) differ from the config ` +
        `(fix them with scripts/linux-optimize.sh --apply and the launcher's pinning, or set hostCheck to 'warn'):\n` +
        mismatches.map((m) => `  - ${m.setting}: expected ${m.expected}, found ${m.actual}`).join('\n'),
    );
    this.name = 'HostCheckError';
    this.mismatches = mismatches;
  }
}

export interface HostCheckOptions {
  mode: HostCheckMode;
  read?: HostReader;
  logger?: Pick<Logger, 'warn' | 'info'>;
  pid?: number | 'self';
}

/**
 * Run at engine start. Returns the findings; in `refuse` mode throws `HostCheckError` if any setting is a mismatch.
 * In `warn` mode each mismatch is logged at warn (it reaches the alert stream), unknowns at info.
 */
export function checkHost(expect: HostExpectations, opts: HostCheckOptions): HostFinding[] {
  if (opts.mode === 'off') return [];
  const findings = inspectHost(expect, opts.read ?? fsReader('/'), opts.pid ?? 'self');
  const mismatches = findings.filter((f) => f.status === 'mismatch');
  for (const f of findings) {
    if (f.status === 'unknown') opts.logger?.info({ hostCheck: f }, `host check: ${f.setting} ${f.actual}`);
  }
  if (mismatches.length > 0 && opts.mode === 'refuse') throw new HostCheckError(mismatches);
  for (const f of mismatches) {
    opts.logger?.warn({ hostCheck: f }, `host check: ${f.setting} expected ${f.expected}, found ${f.actual}`);
  }
  return findings;
}

/** The expectations a production host in deploy/tokyo is built to meet, for the given trading cores. */
export function productionExpectations(cores: number[]): HostExpectations {
  return {
    cores,
    isolated: true,
    governor: 'performance',
    thp: ['madvise', 'never'],
    maxSwappiness: 10,
    noSwap: true,
    clocksource: 'tsc',
    minNofile: 65536,
    minBusyPoll: 1,
    noSlowStartAfterIdle: true,
  };
}

/** The expectations and mode a parsed `hostCheck` block asks for. */
export function hostCheckFromConfig(c: HostCheckConfig): { mode: HostCheckMode; expect: HostExpectations } {
  const { mode, production, ...explicit } = c;
  const base: HostExpectations = production && c.cores ? productionExpectations(c.cores) : {};
  const expect: HostExpectations = { ...base };
  for (const [k, v] of Object.entries(explicit)) if (v !== undefined) (expect as Record<string, unknown>)[k] = v;
  return { mode, expect };
}
