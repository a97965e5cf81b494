/**
 * `tickwire host-check [--cores LIST] [--production] [--mode warn|refuse] [--json]`: the engine's start-up host check
 * on demand (the runbook uses it after `linux-optimize.sh --apply`, and before enabling `refuse`). Exit 0 when no
 * setting mismatches, 1 when some do, 2 on misuse. Not yet wired into src/cli/tickwire.ts (owned elsewhere).
 */
import { checkHost, HostCheckError, inspectHost, parseCpuList, productionExpectations, fsReader, type HostExpectations } from './hostcheck.js';

const HELP = `usage: tickwire host-check [--cores LIST] [--production] [--mode warn|refuse] [--root DIR] [--json]
  --cores LIST    CPU list the process must be pinned to (e.g. 2 or 2,3); also the cores whose governor is checked
  --production    check everything deploy/tokyo sets up (isolation, governor, THP, swap, clocksource, limits, TCP)
  --mode MODE     refuse: exit 1 with every mismatch named (default); warn: list them, exit 0
  --root DIR      read /proc and /sys under DIR (a fake tree)
  --json          print the findings as JSON
`;

export async function main(argv: string[]): Promise<number> {
  const args = argv[0] === 'host-check' ? argv.slice(1) : argv;
  let cores: number[] | undefined;
  let production = false;
  let mode: 'warn' | 'refuse' = 'refuse';
  let root = '/';
  let json = false;
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    const next = (): string => {
      const v = args[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    try {
      if (a === '--cores') cores = parseCpuList(next());
      else if (a === '--production') production = true;
      else if (a === '--mode') {
        const m = next();
        if (m !== 'warn' && m !== 'refuse') throw new Error(`--mode must be warn or refuse, not '${m}'`);
        mode = m;
      } else if (a === '--root') root = next();
      else if (a === '--json') json = true;
      else if (a === '--help' || a === '-h') {
        process.stdout.write(HELP);
        return 0;
      } else throw new Error(`unknown argument '${a}'`);
    } catch (e) {
      process.stderr.write(`tickwire host-check: ${(e as Error).message}\n\n${HELP}`);
      return 2;
    }
  }
  if (production && !cores) {
    process.stderr.write('tickwire host-check: --production needs --cores\n');
    return 2;
  }
  const expect: HostExpectations = production && cores ? productionExpectations(cores) : cores ? { cores } : {};
  const read = fsReader(root);
  const findings = inspectHost(expect, read);
  if (json) process.stdout.write(`${JSON.stringify(findings)}\n`);
  else for (const f of findings) process.stdout.write(`${f.status.padEnd(8)} ${f.setting.padEnd(36)} expected=${f.expected}  actual=${f.actual}\n`);
  try {
    checkHost(expect, { mode, read });
  } catch (e) {
    if (e instanceof HostCheckError) {
      process.stderr.write(`${e.message}\n`);
      return 1;
    }
    throw e;
  }
  return 0;
}
