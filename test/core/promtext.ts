/**
 * A strict reader of the Prometheus text exposition format 0.0.4, for tests: throws on the first line a scraper could
 * refuse or misread. Checks: every line is a HELP, a TYPE, another comment, or a sample; a family has at most one
 * HELP and one TYPE, its TYPE comes before its samples, and its lines are contiguous (a family never reappears after
 * another one started); sample names belong to their family's type (histogram: _bucket with `le`, _sum, _count;
 * summary: the name with `quantile`, _sum, _count); label names are valid and unique per sample, values correctly
 * escaped; values are floats (or NaN, +Inf, -Inf); no two samples share name and labels; histogram buckets are
 * cumulative and end at +Inf with the count.
 */
export interface Family {
  type: string;
  help?: string;
  samples: Array<{ name: string; labels: Record<string, string>; value: number }>;
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

function parseValue(v: string, line: string): number {
  if (v === 'NaN') return NaN;
  if (v === '+Inf') return Infinity;
  if (v === '-Inf') return -Infinity;
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(v)) throw new Error(`bad value in: ${line}`);
  return Number(v);
}

function parseLabels(s: string, line: string): Record<string, string> {
  const out: Record<string, string> = {};
  let i = 0;
  while (i < s.length) {
    const eq = s.indexOf('=', i);
    if (eq < 0) throw new Error(`bad labels in: ${line}`);
    const k = s.slice(i, eq);
    if (!LABEL.test(k) || k in out) throw new Error(`bad or repeated label name '${k}' in: ${line}`);
    if (s[eq + 1] !== '"') throw new Error(`unquoted label value in: ${line}`);
    let v = '';
    let j = eq + 2;
    for (; j < s.length && s[j] !== '"'; j++) {
      if (s[j] === '\\') {
        const n = s[++j];
        if (n === 'n') v += '\n';
        else if (n === '\\' || n === '"') v += n;
        else throw new Error(`bad escape in: ${line}`);
      } else if (s[j] === '\n') throw new Error(`newline in label value: ${line}`);
      else v += s[j];
    }
    if (j >= s.length) throw new Error(`unterminated label value in: ${line}`);
    out[k] = v;
    i = j + 1;
    if (s[i] === ',') i++;
    else if (i < s.length) throw new Error(`bad label separator in: ${line}`);
  }
  return out;
}

export function parseExposition(text: string): Map<string, Family> {
  if (!text.endsWith('\n')) throw new Error('exposition must end with a newline');
  const families = new Map<string, Family>();
  const closed = new Set<string>();
  const seen = new Set<string>();
  const typed = new Set<string>();
  let current = '';
  const enter = (fam: string, line: string): void => {
    if (fam === current) return;
    if (closed.has(fam)) throw new Error(`family ${fam} reappears after another family: ${line}`);
    if (current) closed.add(current);
    current = fam;
  };
  const familyOf = (name: string): string => {
    for (const suf of ['_bucket', '_sum', '_count']) {
      if (name.endsWith(suf)) {
        const base = name.slice(0, -suf.length);
        const t = families.get(base)?.type;
        if (t === 'histogram' || (t === 'summary' && suf !== '_bucket')) return base;
      }
    }
    return name;
  };
  for (const line of text.slice(0, -1).split('\n')) {
    if (line === '') continue; // allowed by the format
    if (line.startsWith('#')) {
      const m = /^# (HELP|TYPE) (\S+)(?: (.*))?$/.exec(line);
      if (!m) {
        if (/^# (HELP|TYPE)\b/.test(line)) throw new Error(`bad ${line.slice(2, 6)} line: ${line}`);
        continue; // a plain comment
      }
      const kind = m[1] as string;
      const name = m[2] as string;
      const rest = m[3] ?? '';
      if (!NAME.test(name)) throw new Error(`bad metric name: ${line}`);
      enter(name, line);
      const f = families.get(name) ?? { type: 'untyped', samples: [] };
      if (kind === 'HELP') {
        if (f.help !== undefined) throw new Error(`second HELP for ${name}`);
        f.help = rest;
      } else {
        if (typed.has(name)) throw new Error(`second TYPE for ${name}`);
        if (f.samples.length) throw new Error(`TYPE after samples for ${name}`);
        if (!['counter', 'gauge', 'summary', 'histogram', 'untyped'].includes(rest)) throw new Error(`bad TYPE: ${line}`);
        f.type = rest;
        typed.add(name);
      }
      families.set(name, f);
      continue;
    }
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)(?: (-?\d+))?$/.exec(line);
    if (!m) throw new Error(`not a sample line: ${JSON.stringify(line)}`);
    const name = m[1] as string;
    const lab = m[2] ?? '';
    const val = m[3] as string;
    const labels = parseLabels(lab, line);
    const value = parseValue(val, line);
    const fam = familyOf(name);
    enter(fam, line);
    const f = families.get(fam) ?? { type: 'untyped', samples: [] };
    families.set(fam, f);
    if (f.type === 'histogram' && name === fam) throw new Error(`histogram sample without suffix: ${line}`);
    if (f.type === 'histogram' && name.endsWith('_bucket') !== 'le' in labels) throw new Error(`le label only on _bucket: ${line}`);
    if (f.type === 'summary' && name === fam && !('quantile' in labels)) throw new Error(`summary sample without quantile: ${line}`);
    const key = name + JSON.stringify(Object.entries(labels).sort());
    if (seen.has(key)) throw new Error(`duplicate sample: ${line}`);
    seen.add(key);
    f.samples.push({ name, labels, value });
  }
  for (const [name, f] of families) {
    if (f.type !== 'histogram') continue;
    const series = new Map<string, Array<{ le: number; v: number }>>();
    const counts = new Map<string, number>();
    for (const s of f.samples) {
      const { le, ...rest } = s.labels;
      const k = JSON.stringify(Object.entries(rest).sort());
      if (s.name === `${name}_bucket`) series.set(k, [...(series.get(k) ?? []), { le: parseValue(le as string, name), v: s.value }]);
      if (s.name === `${name}_count`) counts.set(k, s.value);
    }
    for (const [k, b] of series) {
      for (let i = 1; i < b.length; i++)
        if (!(b[i]!.le > b[i - 1]!.le && b[i]!.v >= b[i - 1]!.v)) throw new Error(`histogram ${name}${k}: buckets not cumulative`);
      const last = b[b.length - 1]!;
      if (last.le !== Infinity || last.v !== counts.get(k)) throw new Error(`histogram ${name}${k}: no +Inf bucket equal to _count`);
    }
  }
  return families;
}
