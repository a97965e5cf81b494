/**
 * Realistic frames and steady-state drivers for the market-data benchmarks and the allocation proof
 * (bench/suites/md-parse.ts, test/md/alloc.test.ts). Not used on the hot path.
 *
 * Each driver owns a synced adapter with one instrument and cycles through 8 frame variants whose levels
 * update, insert and delete (the book stays bounded); the sequence fields are patched in place with
 * fixed-width digits before every frame so that every frame passes the sync checks and is applied.
 */
import v8 from 'node:v8';
import { BotState } from '../src/model/botstate.js';
import type { Instrument, VenueId } from '../src/model/types.js';
import { BinanceMd } from '../src/exchange/binance/md/adapter.js';
import { BybitMd } from '../src/exchange/bybit/md/adapter.js';

const SEQ0 = 100_000_000_000; // 12 digits, patched in place

function inst(venue: VenueId, pd: number, qd: number): Instrument {
  const step = (d: number) => (d === 0 ? '1' : '0.' + '0'.repeat(d - 1) + '1');
  return {
    venue,
    symbol: 'BTCUSDT',
    base: 'BTC',
    quote: 'USDT',
    tickSize: step(pd),
    stepSize: step(qd),
    minQty: step(qd),
    minNotional: '5',
    priceDecimals: pd,
    qtyDecimals: qd,
    tickUnits: 1,
    lotUnits: 1,
    slot: 0,
  };
}

function px(ticks: number): string {
  return (ticks / 100).toFixed(2);
}

/** 20 bid + 20 ask levels around 97000.00, variant v shifts which levels change; some are deletes. */
function levels(v: number, side: 1 | -1): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (let i = 0; i < 20; i++) {
    const ticks = side === 1 ? 9_700_000 - (v * 3 + i) : 9_700_100 + (v * 3 + i);
    const del = (i + v) % 5 === 0;
    out.push([px(ticks), del ? '0.00000000' : (0.001 * (1 + ((i * 7 + v * 13) % 97))).toFixed(8)]);
  }
  return out;
}

/** Byte offsets of `"key":` number values to patch with a 12-digit sequence. */
function offsets(text: string, keys: string[]): number[] {
  return keys.map((k) => {
    const i = text.indexOf(`"${k}":`);
    if (i < 0) throw new Error(`no ${k}`);
    return i + k.length + 3;
  });
}

/**
 * Sequence counters as 12 ASCII digits, incremented like an odometer (amortised ~1 byte written per step): the
 * harness should cost next to nothing next to the measured frame handler. One counter per driver.
 */
function nextSeq(d: Buffer): void {
  for (let i = 11; i >= 0; i--) {
    const c = d[i] as number;
    if (c === 57) d[i] = 48;
    else {
      d[i] = c + 1;
      return;
    }
  }
}

/** Copy the 12-digit counter into buf at `at`. */
function writeSeq(buf: Buffer, at: number, d: Buffer): void {
  for (let i = 0; i < 12; i++) buf[at + i] = d[i] as number;
}

export interface MdDriver {
  name: string;
  /** one representative frame as text (for JSON.parse / simdjson) */
  text: string;
  bytes: number;
  /** patch the next variant's sequence and feed it through the adapter's frame handler */
  step(): void;
  /** applied frames so far (to check the driver really applies) */
  applied(): number;
  errors(): number;
}

/** Binance spot depth diff, 20+20 levels, combined-stream wrapper (~1.1 KB). */
export function binanceDepthDriver(): MdDriver {
  const state = BotState.create(1);
  const md = new BinanceMd({
    market: 'spot',
    restBaseUrl: 'http://127.0.0.1:1',
    wsBaseUrl: 'ws://127.0.0.1:1',
    instruments: [inst('binanceSpot', 2, 8)],
    state,
    fetchSnapshot: () => new Promise<string>(() => {}),
  });
  md.deliverSnapshot(
    'BTCUSDT',
    JSON.stringify({ lastUpdateId: SEQ0, bids: levels(0, 1).filter((l) => l[1] !== '0.00000000'), asks: levels(0, -1).filter((l) => l[1] !== '0.00000000') }),
  );
  const texts: string[] = [];
  for (let v = 0; v < 8; v++) {
    texts.push(
      JSON.stringify({
        stream: 'btcusdt@depth@100ms',
        data: { e: 'depthUpdate', E: 1763776800123, s: 'BTCUSDT', U: SEQ0, u: SEQ0, b: levels(v, 1), a: levels(v, -1) },
      }),
    );
  }
  const bufs = texts.map((t) => Buffer.from(t));
  const offs = texts.map((t) => offsets(t, ['U', 'u']));
  const seq = Buffer.from(String(SEQ0));
  let k = 0;
  return {
    name: 'binance depth diff 20+20',
    text: texts[0] as string,
    bytes: (bufs[0] as Buffer).length,
    step() {
      const i = k++ & 7;
      const b = bufs[i] as Buffer;
      const o = offs[i] as number[];
      nextSeq(seq);
      writeSeq(b, o[0] as number, seq);
      writeSeq(b, o[1] as number, seq);
      md.onFrame(b, k); // recvNs: a small counter (the socket layer passes nowNs())
    },
    applied: () => md.counters.applied,
    errors: () => md.counters.totalParseErrors() + md.counters.gaps + md.counters.crossed,
  };
}

/** Binance spot bookTicker in the combined wrapper (~150 B). */
export function binanceBookTickerDriver(): MdDriver {
  const state = BotState.create(1);
  const md = new BinanceMd({
    market: 'spot',
    restBaseUrl: 'http://127.0.0.1:1',
    wsBaseUrl: 'ws://127.0.0.1:1',
    instruments: [inst('binanceSpot', 2, 8)],
    state,
    fetchSnapshot: () => new Promise<string>(() => {}),
  });
  const texts: string[] = [];
  for (let v = 0; v < 8; v++) {
    texts.push(
      `{"stream":"btcusdt@bookTicker","data":{"u":${SEQ0},"s":"BTCUSDT","b":"${px(9_700_000 - v)}","B":"${(0.5 + v).toFixed(8)}","a":"${px(9_700_001 + v)}","A":"${(1.25 + v).toFixed(8)}"}}`,
    );
  }
  const bufs = texts.map((t) => Buffer.from(t));
  const offs = texts.map((t) => offsets(t, ['u']));
  const seq = Buffer.from(String(SEQ0));
  let k = 0;
  return {
    name: 'binance bookTicker',
    text: texts[0] as string,
    bytes: (bufs[0] as Buffer).length,
    step() {
      const i = k++ & 7;
      const b = bufs[i] as Buffer;
      nextSeq(seq);
      writeSeq(b, (offs[i] as number[])[0] as number, seq);
      md.onFrame(b, k);
    },
    applied: () => md.counters.applied,
    errors: () => md.counters.totalParseErrors(),
  };
}

/** Bybit linear orderbook.200 delta, 20+20 levels (~1 KB). */
export function bybitDeltaDriver(): MdDriver {
  const state = BotState.create(1);
  const md = new BybitMd({ category: 'linear', wsBaseUrl: 'ws://127.0.0.1:1', instruments: [inst('bybitLinear', 2, 3)], state });
  const lv = (v: number, side: 1 | -1) => levels(v, side).map(([p, q]) => [p, Number(q) === 0 ? '0' : (Number(q) * 10).toFixed(3)] as [string, string]);
  const snap = `{"topic":"orderbook.200.BTCUSDT","type":"snapshot","ts":1786310818129,"data":{"s":"BTCUSDT","b":${JSON.stringify(lv(0, 1).filter((l) => l[1] !== '0'))},"a":${JSON.stringify(lv(0, -1).filter((l) => l[1] !== '0'))},"u":${SEQ0},"seq":753843954913},"cts":1786310818126}`;
  md.onFrame(Buffer.from(snap), 0);
  const texts: string[] = [];
  for (let v = 0; v < 8; v++) {
    texts.push(
      `{"topic":"orderbook.200.BTCUSDT","type":"delta","ts":1786310818229,"data":{"s":"BTCUSDT","b":${JSON.stringify(lv(v, 1))},"a":${JSON.stringify(lv(v, -1))},"u":${SEQ0},"seq":753843954999},"cts":1786310818226}`,
    );
  }
  const bufs = texts.map((t) => Buffer.from(t));
  const offs = texts.map((t) => offsets(t, ['u']));
  const seq = Buffer.from(String(SEQ0));
  let k = 0;
  return {
    name: 'bybit delta 20+20',
    text: texts[0] as string,
    bytes: (bufs[0] as Buffer).length,
    step() {
      const i = k++ & 7;
      const b = bufs[i] as Buffer;
      nextSeq(seq);
      writeSeq(b, (offs[i] as number[])[0] as number, seq);
      md.onFrame(b, k);
    },
    applied: () => md.counters.applied,
    errors: () => md.counters.totalParseErrors() + md.counters.gaps + md.counters.crossed,
  };
}

export const DRIVERS = [binanceDepthDriver, binanceBookTickerDriver, bybitDeltaDriver];

export interface AllocResult {
  name: string;
  frames: number;
  heapDeltaBytes: number;
  bytesPerFrame: number;
  /** collections that ran during the measured loop (v8.GCProfiler gcType names) */
  gcDuring: string[];
}

/**
 * Heap bytes allocated across `frames` steady-state frames: warm up, force GC, read heapUsed, run, read heapUsed
 * again without collecting. A per-frame allocation shows as growth proportional to `frames` and as scavenges
 * during the loop (counted with v8.GCProfiler, which only observes).
 */
export function measureAlloc(d: MdDriver, frames: number, gc: () => void): AllocResult {
  for (let i = 0; i < 200_000; i++) d.step();
  gc();
  gc();
  const prof = new v8.GCProfiler();
  const h0 = process.memoryUsage().heapUsed;
  prof.start();
  for (let i = 0; i < frames; i++) d.step();
  const stats = prof.stop();
  const h1 = process.memoryUsage().heapUsed;
  const delta = h1 - h0;
  return { name: d.name, frames, heapDeltaBytes: delta, bytesPerFrame: delta / frames, gcDuring: stats.statistics.map((x) => x.gcType) };
}
