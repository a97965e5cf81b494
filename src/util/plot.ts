/**
 * Percentile-distribution plot as SVG, drawn the way HdrHistogram's plotter draws it: x is log10(1/(1-p)),
 * labelled 0%, 90%, 99%, 99.9%, ...; y is latency (linear, µs or ms). PNG via rsvg-convert or headless Chromium
 * when one is installed (Debian: librsvg2-bin / chromium).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type * as hdr from 'hdr-histogram-js';

export interface PlotSeries {
  label: string;
  histogram: hdr.Histogram;
}

export interface PlotOptions {
  title?: string;
  width?: number;
  height?: number;
}

const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf'];

export function escapeXml(s: string): string {
  return s.replace(/[<>&'"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[c] ?? c);
}

/** Percentile label of a decade: 0 -> 0%, 1 -> 90%, 2 -> 99%, 3 -> 99.9% ... */
export function decadeLabel(d: number): string {
  if (d === 0) return '0%';
  return `${(100 - 100 / 10 ** d).toFixed(Math.max(0, d - 2))}%`;
}

function niceCeil(v: number): number {
  if (v <= 0) return 1;
  const e = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10]) if (m * e >= v) return m * e;
  return 10 * e;
}

/** Points (x = log10(1/(1-p)), y = ns) of one histogram's percentile curve. */
export function percentileCurve(h: hdr.Histogram, step = 0.025): { x: number; y: number }[] {
  const n = h.totalCount;
  if (n === 0) return [];
  const xMax = Math.max(1, Math.log10(n));
  const pts: { x: number; y: number }[] = [];
  for (let x = 0; x < xMax; x += step) pts.push({ x, y: h.getValueAtPercentile(100 * (1 - 10 ** -x)) });
  pts.push({ x: xMax, y: h.maxValue });
  return pts;
}

export function percentilePlotSvg(series: PlotSeries[], opts: PlotOptions = {}): string {
  const W = opts.width ?? 960;
  const H = opts.height ?? 540;
  const m = { l: 78, r: 44, t: 44, b: 56 };
  const pw = W - m.l - m.r;
  const ph = H - m.t - m.b;
  const curves = series.map((s) => ({ label: s.label, pts: percentileCurve(s.histogram) }));
  const maxNs = Math.max(1, ...curves.flatMap((c) => c.pts.map((p) => p.y)));
  const useMs = maxNs >= 10_000_000;
  const div = useMs ? 1e6 : 1e3;
  const unit = useMs ? 'ms' : 'µs';
  const yMax = niceCeil(maxNs / div);
  const decades = Math.max(2, Math.ceil(Math.max(1, ...curves.flatMap((c) => c.pts.map((p) => p.x)))));
  const X = (x: number): number => m.l + (x / decades) * pw;
  const Y = (v: number): number => m.t + ph - (v / div / yMax) * ph;
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`);
  out.push(`<rect x="0" y="0" width="${W}" height="${H}" fill="#ffffff"/>`);
  out.push(`<text x="${W / 2}" y="24" text-anchor="middle" font-size="16">${escapeXml(opts.title ?? 'Latency by percentile distribution')}</text>`);
  // grid + axes
  for (let d = 0; d <= decades; d++) {
    const x = X(d).toFixed(1);
    out.push(`<line x1="${x}" y1="${m.t}" x2="${x}" y2="${m.t + ph}" stroke="#dddddd"/>`);
    out.push(`<text x="${x}" y="${m.t + ph + 18}" text-anchor="middle">${decadeLabel(d)}</text>`);
  }
  for (let i = 0; i <= 5; i++) {
    const v = (yMax * i) / 5;
    const y = Y(v * div).toFixed(1);
    out.push(`<line x1="${m.l}" y1="${y}" x2="${m.l + pw}" y2="${y}" stroke="#dddddd"/>`);
    out.push(`<text x="${m.l - 8}" y="${(Number(y) + 4).toFixed(1)}" text-anchor="end">${Number(v.toPrecision(4))}</text>`);
  }
  out.push(`<rect x="${m.l}" y="${m.t}" width="${pw}" height="${ph}" fill="none" stroke="#333333"/>`);
  out.push(`<text x="${m.l + pw / 2}" y="${H - 12}" text-anchor="middle">Percentile</text>`);
  out.push(`<text x="18" y="${m.t + ph / 2}" text-anchor="middle" transform="rotate(-90 18 ${m.t + ph / 2})">Latency (${unit})</text>`);
  // curves
  curves.forEach((c, i) => {
    if (c.pts.length === 0) return;
    const color = COLORS[i % COLORS.length] ?? '#000000';
    const d = c.pts.map((p, k) => `${k === 0 ? 'M' : 'L'}${X(p.x).toFixed(1)},${Y(p.y).toFixed(1)}`).join(' ');
    out.push(`<path d="${d}" fill="none" stroke="${color}" stroke-width="2"><title>${escapeXml(c.label)}</title></path>`);
  });
  // legend
  curves.forEach((c, i) => {
    const color = COLORS[i % COLORS.length] ?? '#000000';
    const y = m.t + 16 + i * 18;
    out.push(`<rect x="${m.l + 12}" y="${y - 9}" width="14" height="4" fill="${color}"/>`);
    out.push(`<text x="${m.l + 32}" y="${y - 3}">${escapeXml(c.label)}</text>`);
  });
  out.push('</svg>');
  return out.join('\n') + '\n';
}

export const CHROMIUM_CANDIDATES = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'];

export function findChromium(): string | undefined {
  return CHROMIUM_CANDIDATES.find((p) => existsSync(p));
}

/** Chromium flags for a headless screenshot on a container (no sandbox, no GPU, no network chatter). */
export function chromiumScreenshotArgs(png: string, width: number, height: number, url: string, extra: string[] = []): string[] {
  return [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-dev-shm-usage',
    '--disable-background-networking',
    '--no-first-run',
    '--hide-scrollbars',
    `--window-size=${width},${height}`,
    `--screenshot=${png}`,
    ...extra,
    url,
  ];
}

/**
 * Convert an SVG file to PNG with rsvg-convert, or else headless Chromium. Returns the tool used, or
 * undefined when neither is installed (apt-get install librsvg2-bin or chromium).
 */
export function svgToPng(svgFile: string, pngFile: string, width = 960, height = 540): 'rsvg-convert' | 'chromium' | undefined {
  if (existsSync('/usr/bin/rsvg-convert')) {
    execFileSync('/usr/bin/rsvg-convert', ['-o', pngFile, svgFile], { stdio: 'pipe', timeout: 30_000 });
    return 'rsvg-convert';
  }
  const chromium = findChromium();
  if (!chromium) return undefined;
  const tmp = mkdtempSync(join(tmpdir(), 'tw-png-'));
  try {
    const html = join(tmp, 'plot.html');
    writeFileSync(html, `<!doctype html><html><body style="margin:0">${readFileSync(svgFile, 'utf8')}</body></html>`);
    execFileSync(chromium, chromiumScreenshotArgs(resolve(pngFile), width, height, `file://${html}`, [`--user-data-dir=${join(tmp, 'profile')}`]), {
      stdio: 'pipe',
      timeout: 60_000,
    });
    return 'chromium';
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

export interface LineSeries {
  label: string;
  /** [x, y] points, x ascending */
  points: ReadonlyArray<readonly [number, number]>;
  /** draw as steps (the value holds until the next point), e.g. a position; default false */
  step?: boolean;
}

export interface LineChartOptions extends PlotOptions {
  xLabel?: string;
  yLabel?: string;
  /** x values are epoch ms: ticks are labelled as UTC clock times (default: numbers) */
  timeX?: boolean;
  /** shade between the curve and y = 0 (a drawdown); default false */
  fill?: boolean;
}

/** Tick values for [lo, hi]: about `n` round steps (1, 2, 2.5, 5 x 10^k). */
export function niceTicks(lo: number, hi: number, n = 5): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / n;
  const e = 10 ** Math.floor(Math.log10(raw));
  const step = ([1, 2, 2.5, 5, 10].map((m) => m * e).find((s) => s >= raw) ?? 10 * e) || 1;
  const out: number[] = [];
  // from integer multiples of the step (no accumulated float error: 0 is 0, not 5.55e-17)
  for (let k = Math.ceil(lo / step - 1e-9); k * step <= hi + step * 1e-9; k++) out.push(k === 0 ? 0 : Number((k * step).toPrecision(12)));
  return out;
}

function fmtNum(v: number): string {
  const a = Math.abs(v);
  if (a !== 0 && (a < 1e-3 || a >= 1e7)) return v.toExponential(2);
  return String(Number(v.toPrecision(6)));
}

function fmtTime(ms: number, spanMs: number): string {
  const iso = new Date(ms).toISOString();
  return spanMs >= 2 * 86_400_000 ? iso.slice(5, 16).replace('T', ' ') : spanMs >= 120_000 ? iso.slice(11, 16) : iso.slice(11, 19);
}

/**
 * Line chart as SVG (PnL over time, drawdown, positions): linear axes with round ticks, one path per series, a
 * legend. Deterministic for the same input (no clock, no random ids), self-contained (no fonts or scripts to load).
 */
export function lineChartSvg(series: readonly LineSeries[], opts: LineChartOptions = {}): string {
  const W = opts.width ?? 960;
  const H = opts.height ?? 360;
  const m = { l: 84, r: 24, t: 40, b: 52 };
  const pw = W - m.l - m.r;
  const ph = H - m.t - m.b;
  const all = series.flatMap((s) => s.points);
  let x0 = Math.min(...all.map((p) => p[0]));
  let x1 = Math.max(...all.map((p) => p[0]));
  let y0 = Math.min(0, ...all.map((p) => p[1]));
  let y1 = Math.max(0, ...all.map((p) => p[1]));
  if (!Number.isFinite(x0) || !Number.isFinite(x1)) [x0, x1] = [0, 1];
  if (x1 === x0) x1 = x0 + 1;
  if (y1 === y0) [y0, y1] = [y0 - 1, y1 + 1];
  const pad = (y1 - y0) * 0.05;
  y0 -= y0 < 0 ? pad : 0;
  y1 += y1 > 0 ? pad : 0;
  const X = (x: number): number => m.l + ((x - x0) / (x1 - x0)) * pw;
  const Y = (y: number): number => m.t + ph - ((y - y0) / (y1 - y0)) * ph;
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`);
  out.push(`<rect x="0" y="0" width="${W}" height="${H}" fill="#ffffff"/>`);
  if (opts.title) out.push(`<text x="${W / 2}" y="22" text-anchor="middle" font-size="15">${escapeXml(opts.title)}</text>`);
  for (const v of niceTicks(x0, x1, 6)) {
    const x = X(v).toFixed(1);
    out.push(`<line x1="${x}" y1="${m.t}" x2="${x}" y2="${m.t + ph}" stroke="#e5e5e5"/>`);
    out.push(`<text x="${x}" y="${m.t + ph + 16}" text-anchor="middle">${escapeXml(opts.timeX ? fmtTime(v, x1 - x0) : fmtNum(v))}</text>`);
  }
  for (const v of niceTicks(y0, y1, 5)) {
    const y = Y(v).toFixed(1);
    out.push(`<line x1="${m.l}" y1="${y}" x2="${m.l + pw}" y2="${y}" stroke="${v === 0 ? '#999999' : '#e5e5e5'}"/>`);
    out.push(`<text x="${m.l - 6}" y="${(Number(y) + 4).toFixed(1)}" text-anchor="end">${escapeXml(fmtNum(v))}</text>`);
  }
  out.push(`<rect x="${m.l}" y="${m.t}" width="${pw}" height="${ph}" fill="none" stroke="#333333"/>`);
  if (opts.xLabel) out.push(`<text x="${m.l + pw / 2}" y="${H - 10}" text-anchor="middle">${escapeXml(opts.xLabel)}</text>`);
  if (opts.yLabel)
    out.push(`<text x="16" y="${m.t + ph / 2}" text-anchor="middle" transform="rotate(-90 16 ${m.t + ph / 2})">${escapeXml(opts.yLabel)}</text>`);
  series.forEach((s, i) => {
    if (s.points.length === 0) return;
    const color = COLORS[i % COLORS.length] ?? '#000000';
    const parts: string[] = [];
    s.points.forEach((p, k) => {
      const x = X(p[0]).toFixed(1);
      const y = Y(p[1]).toFixed(1);
      if (k === 0) parts.push(`M${x},${y}`);
      else {
        if (s.step) parts.push(`H${x}`);
        parts.push(`${s.step ? 'V' + y : 'L' + x + ',' + y}`);
      }
    });
    const d = parts.join(' ');
    if (opts.fill) {
      const first = s.points[0]!;
      const last = s.points[s.points.length - 1]!;
      out.push(
        `<path d="${d} L${X(last[0]).toFixed(1)},${Y(0).toFixed(1)} L${X(first[0]).toFixed(1)},${Y(0).toFixed(1)} Z" fill="${color}" fill-opacity="0.15" stroke="none"/>`,
      );
    }
    out.push(`<path d="${d}" fill="none" stroke="${color}" stroke-width="1.6"><title>${escapeXml(s.label)}</title></path>`);
    const y = m.t + 14 + i * 16;
    out.push(`<rect x="${m.l + 10}" y="${y - 7}" width="14" height="3" fill="${color}"/>`);
    out.push(`<text x="${m.l + 30}" y="${y - 2}">${escapeXml(s.label)}</text>`);
  });
  out.push('</svg>');
  return out.join('\n') + '\n';
}
