/**
 * `tickwire run --record DIR`: the market data the engine receives, written as it arrived (the raw frames and REST
 * snapshots, `src/md/recorder.ts`) in the capture format `tickwire sim --replay` reads. One file per venue and part:
 * `<dir>/<venue>_capture_<session>_<part>.ndjson`, 0600 in a 0700 directory, rotated by size and/or time
 * (`--record-rotate size=100m,every=1h`). Each new part starts with a snapshot of every synced book (a REST depth
 * body for Binance, an orderbook snapshot frame for Bybit), so a part replays alone; the parts and venues of one run
 * share a session, so `sim --replay` plays them together on the recorded timeline.
 *
 * The hot path pays a memcpy per frame (FrameRecorder.record); formatting and writing run on a timer.
 */
import { join } from 'node:path';
import { ASK, BID } from '../book/l2book.js';
import { FrameRecorder, type ResyncLine } from '../md/recorder.js';
import { BinanceMd } from '../exchange/binance/md/adapter.js';
import type { MdAdapter } from '../exchange/registry.js';
import { formatScaled } from '../util/fixed.js';
import { mkdirPrivate } from '../util/private.js';
import type { VenueId } from '../model/types.js';

export interface RecordOptions {
  dir: string;
  /** new part after this many bytes (0: none) */
  maxBytes: number;
  /** new part after this long, ms (0: none) */
  maxMs: number;
}

const SIZE = { k: 1024, m: 1024 ** 2, g: 1024 ** 3 } as const;
const TIME = { s: 1000, m: 60_000, h: 3_600_000 } as const;

/** `size=100m`, `every=1h`, or both (`size=100m,every=1h`); throws naming what is wrong. Units: k/m/g bytes, s/m/h. */
export function parseRotate(spec: string): { maxBytes: number; maxMs: number } {
  let maxBytes = 0;
  let maxMs = 0;
  for (const part of spec.split(',').map((p) => p.trim())) {
    const size = /^size=(\d+(?:\.\d+)?)([kmg])?$/i.exec(part);
    const every = /^every=(\d+(?:\.\d+)?)([smh])$/i.exec(part);
    if (size) maxBytes = Math.round(Number(size[1]) * (size[2] ? SIZE[size[2].toLowerCase() as keyof typeof SIZE] : 1));
    else if (every) maxMs = Math.round(Number(every[1]) * TIME[every[2]!.toLowerCase() as keyof typeof TIME]);
    else throw new Error(`'${part}': expected size=N[k|m|g] or every=N(s|m|h), e.g. size=100m,every=1h`);
  }
  if (maxBytes > 0 && maxBytes < 4096) throw new Error(`size=${maxBytes}: at least 4k`);
  if (maxMs > 0 && maxMs < 1000) throw new Error(`every=${maxMs}ms: at least 1s`);
  return { maxBytes, maxMs };
}

/** The recording's directory, created 0700 (throws what failed; the caller names the flag). */
export function prepareRecordDir(dir: string): void {
  mkdirPrivate(dir);
}

function levels(book: NonNullable<ReturnType<MdAdapter['book']>>, side: typeof BID | typeof ASK, pd: number, qd: number): Array<[string, string]> {
  return book.levels(side).map(([p, q]) => [formatScaled(p, pd), formatScaled(q, qd)]);
}

/** A snapshot of every synced book of `md`, as the venue would have sent it (cold: at a rotation). */
export function resyncLines(md: MdAdapter): ResyncLine[] {
  const out: ResyncLine[] = [];
  for (const f of md.feeds) {
    if (!f?.valid) continue;
    const ins = f.inst;
    const book = md.book(ins.symbol);
    if (!book) continue;
    const bids = levels(book, BID, ins.priceDecimals, ins.qtyDecimals);
    const asks = levels(book, ASK, ins.priceDecimals, ins.qtyDecimals);
    if (md instanceof BinanceMd) {
      const sync = md.sync(ins.symbol);
      if (!sync || !(sync.lastU > 0)) continue;
      const path = md.opts.market === 'usdm' ? '/fapi/v1/depth' : '/api/v3/depth';
      const url = `${md.opts.restBaseUrl.replace(/\/+$/, '')}${path}?symbol=${ins.symbol}&limit=1000`;
      out.push({ t: 'http', conn: 'rest', url, data: JSON.stringify({ lastUpdateId: sync.lastU, bids, asks }) });
    } else {
      const sync = md.sync(ins.symbol);
      if (!sync?.hasSnapshot) continue;
      const data = { s: ins.symbol, b: bids, a: asks, u: sync.lastU, seq: sync.lastSeq };
      out.push({ t: 'recv', data: JSON.stringify({ topic: `orderbook.${bids.length}.${ins.symbol}`, type: 'snapshot', ts: Date.now(), data }) });
    }
  }
  return out;
}

/** Starts one venue's recorder; `md()` gives its adapter once created (the snapshot lines at a rotation read it). */
export function venueRecorder(o: RecordOptions, session: string, venue: VenueId, md: () => MdAdapter | undefined): FrameRecorder {
  let part = 0;
  const name = (): string => join(o.dir, `${venue}_capture_${session}_${String(part++).padStart(3, '0')}.ndjson`);
  return new FrameRecorder(name(), venue, 4 * 1024 * 1024, 100, {
    session,
    rotation: {
      maxBytes: o.maxBytes,
      maxMs: o.maxMs,
      nextFile: name,
      resync: () => {
        const m = md();
        return m ? resyncLines(m) : [];
      },
    },
  });
}
