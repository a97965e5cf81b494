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
