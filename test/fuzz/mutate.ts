/**
 * Seeded frame mutations for the fuzz test: byte flips, digit / sign / exponent / dot changes, type swaps
 * (number <-> string <-> array <-> object <-> null), key corruption, truncation, duplicated members, huge numbers,
 * trailing bytes. Frames are handled as latin1 strings (one char per byte).
 */

/** mulberry32: a tiny seeded PRNG, [0, 1) */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const SWAPS = [
  '1',
  '0',
  '-1',
  '1.5',
  '"x"',
  '"1.5"',
  '"0"',
  '"-1"',
  '""',
  '[]',
  '{}',
  'null',
  'true',
  'false',
  '[["1","2"]]',
  '[["0","1"]]',
  '1e400',
  '"1e400"',
  '"2.5e+2"',
  '12345678901234567890',
  '"99999999999999999999"',
  '{"a":1}',
];
const KEYS = [
  'e',
  'E',
  'T',
  's',
  'U',
  'u',
  'pu',
  'b',
  'a',
  'B',
  'A',
  'p',
  'q',
  'm',
  'x',
  'X',
  'z',
  'l',
  'L',
  'n',
  'N',
  't',
  'i',
  'c',
  'C',
  'data',
  'stream',
  'event',
  'o',
  'topic',
  'type',
  'ts',
  'cts',
  'seq',
  'v',
  'S',
  'execPrice',
  'execQty',
  'execFee',
  'leavesQty',
  'category',
  'symbol',
  'orderLinkId',
  'execId',
  'cumExecQty',
];
const GARBAGE = [' x', ',', '}', ']', '{}', ' 1', '"', '\u0000', '\\'];

/** index after the value starting at i in possibly broken text (best effort) */
function valueEnd(t: string, i: number): number {
  const c = t[i];
  if (c === '"') {
    let j = i + 1;
    while (j < t.length && t[j] !== '"') j += t[j] === '\\' ? 2 : 1;
    return Math.min(t.length, j + 1);
  }
  if (c === '[' || c === '{') {
    let d = 0;
    for (let j = i; j < t.length; j++) {
      const x = t[j];
      if (x === '"') {
        j++;
        while (j < t.length && t[j] !== '"') j += t[j] === '\\' ? 2 : 1;
      } else if (x === '[' || x === '{') d++;
      else if (x === ']' || x === '}') {
        if (--d === 0) return j + 1;
      }
    }
    return t.length;
  }
  let j = i;
  while (j < t.length && !',}] \n'.includes(t[j]!)) j++;
  return j;
}

function positions(t: string, re: RegExp): number[] {
  const out: number[] = [];
  re.lastIndex = 0;
  for (let m = re.exec(t); m; m = re.exec(t)) {
    out.push(m.index);
    if (out.length > 400) break;
  }
  return out;
}

export function mutateOnce(t: string, r: () => number): string {
  const pick = <T>(a: readonly T[]): T => a[Math.floor(r() * a.length)]!;
  const at = () => Math.floor(r() * t.length);
  switch (Math.floor(r() * 13)) {
    case 0: {
      const i = at();
      const v = r() < 0.5 ? t.charCodeAt(i) ^ (1 << Math.floor(r() * 8)) : Math.floor(r() * 256);
      return t.slice(0, i) + String.fromCharCode(v) + t.slice(i + 1);
    }
    case 1: {
      const d = positions(t, /[0-9]/g);
      if (d.length === 0) return t;
      const i = pick(d);
      return t.slice(0, i) + String(Math.floor(r() * 10)) + t.slice(i + 1);
    }
    case 2: {
      const d = positions(t, /[0-9]/g);
      if (d.length === 0) return t;
      const i = pick(d);
      return t.slice(0, i) + '-' + t.slice(i);
    }
    case 3: {
      const d = positions(t, /[0-9](?![0-9])/g);
      if (d.length === 0) return t;
      const i = pick(d) + 1;
      return t.slice(0, i) + pick(['e+3', 'e-2', 'E5', 'e', 'e0', 'e+0']) + t.slice(i);
    }
    case 4:
    case 5: {
      // type swap of a member's value
      const d = positions(t, /":\s*/g);
      if (d.length === 0) return t;
      let i = pick(d) + 2;
      while (t[i] === ' ') i++;
      return t.slice(0, i) + pick(SWAPS) + t.slice(valueEnd(t, i));
    }
    case 6: {
      // key corruption: a char of a key, or another key's name
      const d = positions(t, /"[A-Za-z_]+":/g);
      if (d.length === 0) return t;
      const i = pick(d);
      const e = t.indexOf('"', i + 1);
      if (r() < 0.5) return t.slice(0, i + 1) + pick(KEYS) + t.slice(e);
      const j = i + 1 + Math.floor(r() * (e - i - 1));
      return t.slice(0, j) + String.fromCharCode(t.charCodeAt(j) ^ (1 << Math.floor(r() * 7))) + t.slice(j + 1);
    }
    case 7:
      return t.slice(0, at());
    case 8: {
      // duplicate a member (or an array element)
      const d = positions(t, /[{,]\s*"/g);
      if (d.length === 0) return t;
      const i = pick(d) + 1;
      const ke = t.indexOf(':', i);
      if (ke < 0) return t;
      let vs = ke + 1;
      while (t[vs] === ' ') vs++;
      const ve = valueEnd(t, vs);
      return t.slice(0, ve) + ',' + t.slice(i, ve) + t.slice(ve);
    }
    case 9: {
      const d = positions(t, /[0-9]+/g);
      if (d.length === 0) return t;
      const i = pick(d);
      let e = i;
      while (e < t.length && t[e]! >= '0' && t[e]! <= '9') e++;
      const huge = pick(['9007199254740993', '9007199254740991', '99999999999999999999999999999', '1' + '0'.repeat(Math.floor(r() * 30)), '0'.repeat(5) + '1']);
      return t.slice(0, i) + huge + t.slice(e);
    }
    case 10:
      return r() < 0.5 ? t + pick(GARBAGE) : pick(GARBAGE) + t;
    case 11: {
      const i = at();
      return r() < 0.5 ? t.slice(0, i) + t.slice(i + 1) : t.slice(0, i) + pick(['.', ' ', '0', '"', ',', '\\', '\n']) + t.slice(i);
    }
    default: {
      // a dot: add one to a number, or remove one
      const d = positions(t, r() < 0.5 ? /\./g : /[0-9]/g);
      if (d.length === 0) return t;
      const i = pick(d);
      return t[i] === '.' ? t.slice(0, i) + t.slice(i + 1) : t.slice(0, i) + '.' + t.slice(i);
    }
  }
}

/** 1 to 3 mutations */
export function mutate(t: string, r: () => number): string {
  let out = mutateOnce(t, r);
  const n = r() < 0.6 ? 0 : r() < 0.7 ? 1 : 2;
  for (let k = 0; k < n; k++) out = mutateOnce(out, r);
  return out;
}
