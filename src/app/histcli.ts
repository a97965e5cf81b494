/**
 * `tickwire hist merge|print|plot <files or dirs>`: read latency dumps (dump.json, lossless; or .hgrm text),
 * merge them by hop/venue/transport, print a percentile table, write merged files or a percentile plot.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { DUMP_FORMAT, encodeHistogram, mergeInputs, percentileTable, summarize, toHgrm, type DumpFile, type Series } from '../util/histio.js';
import { percentilePlotSvg, svgToPng } from '../util/plot.js';

const HELP = `usage: tickwire hist <print|merge|plot> <file|dir>... [options]

  print  PATHS                     merge the dumps and print a percentile table (µs)
  merge  PATHS --out DIR           merge the dumps into DIR (dump.json + one .hgrm per series) and print the table
  plot   PATHS --out FILE.svg      percentile-distribution plot (x: 1/(1-p) log scale, as HdrHistogram plots)
         [--png FILE.png]          also a PNG (rsvg-convert or headless chromium, if installed)
         [--title TEXT]

  PATHS: dump folders or files; folders are searched recursively for dump.json (lossless) and .hgrm files
  (a .hgrm is read only when its folder has no dump.json). .hgrm values are µs.
  filters: --hop a,b  --venue a,b  --transport any|ws|rest
`;

interface Args {
  cmd: string | undefined;
  paths: string[];
  opts: Map<string, string>;
}

function parseArgs(argv: string[]): Args {
  const [cmd, ...rest] = argv;
  const paths: string[] = [];
  const opts = new Map<string, string>();
  for (let i = 0; i < rest.length; i++) {
    const a = rest[i] ?? '';
    if (a.startsWith('--')) {
      const v = rest[i + 1];
      if (v === undefined || v.startsWith('--')) opts.set(a.slice(2), 'true');
      else {
        opts.set(a.slice(2), v);
        i++;
      }
    } else paths.push(a);
  }
  return { cmd, paths, opts };
}

function filterSeries(series: Series[], opts: Map<string, string>): Series[] {
  const pick = (name: string): Set<string> | undefined => {
    const v = opts.get(name);
    return v ? new Set(v.split(',')) : undefined;
  };
  const hops = pick('hop');
  const venues = pick('venue');
  const transports = pick('transport');
  return series.filter((s) => (!hops || hops.has(s.key.hop)) && (!venues || venues.has(s.key.venue)) && (!transports || transports.has(s.key.transport)));
}

export async function main(argv: string[]): Promise<number> {
  const { cmd, paths, opts } = parseArgs(argv);
  if (!cmd || cmd === '--help' || cmd === 'help' || opts.has('help')) {
    process.stdout.write(HELP);
    return cmd ? 0 : 2;
  }
  if (!['print', 'merge', 'plot'].includes(cmd)) {
    process.stderr.write(`tickwire hist: unknown subcommand '${cmd}'\n\n${HELP}`);
    return 2;
  }
  if (paths.length === 0) {
    process.stderr.write(`tickwire hist ${cmd}: give at least one dump file or folder\n`);
    return 2;
  }
  let merger: ReturnType<typeof mergeInputs>;
  try {
    merger = mergeInputs(paths);
  } catch (e) {
    process.stderr.write(`tickwire hist: ${e instanceof Error ? e.message : String(e)}\n`);
    return 1;
  }
  const series = filterSeries(merger.sorted(), opts);
  if (series.length === 0) {
    process.stderr.write(`tickwire hist: no histograms found in ${paths.join(', ')}\n`);
    return 1;
  }
  const span = merger.endMs > 0 ? ` from ${new Date(merger.startMs).toISOString()} to ${new Date(merger.endMs).toISOString()}` : '';
  process.stdout.write(`${merger.files} file(s), ${series.length} series${span}\n`);
  process.stdout.write(percentileTable(series));

  if (cmd === 'merge') {
    const out = opts.get('out');
    if (!out) {
      process.stderr.write('tickwire hist merge: --out DIR is required\n');
      return 2;
    }
    mkdirSync(out, { recursive: true });
    const dump: DumpFile = {
      format: DUMP_FORMAT,
      reason: 'merge',
      pid: process.pid,
      seq: 0,
      startMs: Number.isFinite(merger.startMs) ? merger.startMs : 0,
      endMs: merger.endMs,
      unit: 'ns',
      hgrmUnit: 'us',
      histograms: series.map((s) => ({
        ...s.key,
        ...summarize(s.histogram),
        clampedLow: s.clampedLow,
        clampedHigh: s.clampedHigh,
        encoded: encodeHistogram(s.histogram),
      })),
    };
    writeFileSync(join(out, 'dump.json'), JSON.stringify(dump, null, 1) + '\n');
    for (const s of series) writeFileSync(join(out, `${s.key.hop}.${s.key.venue}.${s.key.transport}.hgrm`), toHgrm(s.histogram));
    process.stdout.write(`wrote ${resolve(out)}/dump.json and ${series.length} .hgrm file(s)\n`);
  }

  if (cmd === 'plot') {
    const out = opts.get('out') ?? 'latency.svg';
    const svg = percentilePlotSvg(
      series.map((s) => ({
        label: `${s.key.hop} ${s.key.venue}${s.key.transport === 'any' ? '' : ' ' + s.key.transport} (n=${s.histogram.totalCount})`,
        histogram: s.histogram,
      })),
      { title: opts.get('title') ?? 'Latency by percentile distribution' },
    );
    writeFileSync(out, svg);
    process.stdout.write(`wrote ${resolve(out)}\n`);
    const png = opts.get('png');
    if (png) {
      const tool = svgToPng(out, png);
      if (tool) process.stdout.write(`wrote ${resolve(png)} (${tool})\n`);
      else process.stderr.write('no PNG: neither rsvg-convert (apt-get install librsvg2-bin) nor chromium is installed\n');
    }
  }
  return 0;
}
