/**
 * Slow signals (funding rate, open interest, an external score): fetched by a background task on its own timer
 * and written into BotState (`F.fundingRate`, `F.openInterest`, `F.signal`). The hot loop only reads the field;
 * it never awaits a fetch. A failed fetch is counted and leaves the last value in place (NaN until the first).
 * The venues' funding and open-interest sources are in src/exchange/signals.ts (the registry's drivers give them).
 */
import type { BotState } from '../model/botstate.js';
import { F } from '../model/botstate.js';
import type { SignalSource } from '../model/signal.js';
import { getJson } from '../net/getjson.js';

export type { SignalSource };

export class SignalTask {
  ok = 0;
  failed = 0;
  lastError = '';
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    private readonly state: BotState,
    private readonly src: SignalSource,
  ) {
    state.set(src.slot, src.field, NaN);
  }

  get name(): string {
    return this.src.name;
  }

  start(): void {
    this.stopped = false;
    void this.run();
  }

  private async run(): Promise<void> {
    if (this.stopped) return;
    try {
      const v = await this.src.fetch();
      if (Number.isFinite(v)) {
        this.state.set(this.src.slot, this.src.field, v);
        this.ok++;
      } else throw new Error(`${this.src.name}: not a number`);
    } catch (e) {
      this.failed++;
      this.lastError = e instanceof Error ? e.message : String(e);
    }
    if (!this.stopped) {
      this.timer = setTimeout(() => void this.run(), this.src.intervalMs);
      this.timer.unref();
    }
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
  }
}

/** Read a number at a dotted path (`a.b.0.c`) of a JSON value. */
export function numberAt(v: unknown, path: string): number {
  let cur: unknown = v;
  for (const k of path === '' ? [] : path.split('.')) {
    if (cur === null || typeof cur !== 'object') return NaN;
    cur = (cur as Record<string, unknown>)[k];
  }
  return typeof cur === 'number' ? cur : typeof cur === 'string' ? Number(cur) : NaN;
}

/** An external score: GET `url`, the number at `path` of its JSON body, into `field` (default F.signal). */
export function externalScore(name: string, url: string, path: string, slot: number, field: number = F.signal, intervalMs = 5_000): SignalSource {
  return { name, slot, field, intervalMs, fetch: async () => numberAt(await getJson(url), path) };
}
