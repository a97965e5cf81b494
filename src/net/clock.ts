/**
 * Server time sync: offset and round trip measured at start and periodically; order timestamps come from the
 * corrected clock. A -1021 / 10002 asks for a resync, which is debounced (one in flight, at most one per
 * `minGapMs`) so a burst of timestamp rejects cannot become a retry storm.
 */
import { wallNowMs } from '../util/clock.js';

export interface ClockSyncOptions {
  samples?: number;
  intervalMs?: number;
  minGapMs?: number;
}

export class ServerClock {
  /** server - local, ms */
  offsetMs = 0;
  rttMs = 0;
  lastSyncMs = 0;
  syncs = 0;
  failures = 0;
  private inflight: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private readonly samples: number;
  private readonly intervalMs: number;
  private readonly minGapMs: number;

  constructor(
    private readonly fetchServerMs: () => Promise<number>,
    opts: ClockSyncOptions = {},
  ) {
    this.samples = opts.samples ?? 3;
    this.intervalMs = opts.intervalMs ?? 60_000;
    this.minGapMs = opts.minGapMs ?? 1000;
  }

  nowMs(): number {
    return Math.floor(wallNowMs() + this.offsetMs);
  }

  /** Measure now (best-of-N by round trip). Concurrent callers share one measurement. */
  sync(): Promise<void> {
    if (this.inflight) return this.inflight;
    this.inflight = this.measure().finally(() => {
      this.inflight = undefined;
    });
    return this.inflight;
  }

  /**
   * Resync after a timestamp reject. `requestWallMs` = when the rejected request was stamped: if a sync finished
   * after that, the clock is already fresh and nothing is sent; concurrent callers share one measurement; and
   * without a request time, at most one sync per minGapMs. Resolves when the clock is as good as it will get.
   */
  requestResync(requestWallMs?: number): Promise<void> {
    if (this.inflight) return this.inflight;
    if (requestWallMs !== undefined ? this.lastSyncMs > requestWallMs : wallNowMs() - this.lastSyncMs < this.minGapMs) return Promise.resolve();
    return this.sync();
  }

  private async measure(): Promise<void> {
    let bestRtt = Infinity;
    let bestOffset = this.offsetMs;
    for (let i = 0; i < this.samples; i++) {
      const t0 = wallNowMs();
      let server: number;
      try {
        server = await this.fetchServerMs();
      } catch {
        this.failures++;
        continue;
      }
      const t1 = wallNowMs();
      const rtt = t1 - t0;
      if (rtt < bestRtt) {
        bestRtt = rtt;
        bestOffset = server - (t0 + t1) / 2;
      }
    }
    this.lastSyncMs = wallNowMs();
    if (bestRtt === Infinity) throw new Error('server time sync failed');
    this.offsetMs = bestOffset;
    this.rttMs = bestRtt;
    this.syncs++;
  }

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => {
      this.sync().catch(() => undefined);
    }, this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}
