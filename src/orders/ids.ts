/**
 * Client order ids unique across restarts and valid on both venues (<= 36 chars of [A-Za-z0-9_-]; Binance USD-M
 * allows `^[\.A-Z\:/a-z0-9_-]{1,36}$`, Bybit orderLinkId letters, digits, `-`, `_`).
 *
 * Layout: `<prefix>` + base36(process start ms) + base36(random 0..36^4) + `-` + base36(counter).
 * e.g. `twmhx3k2a01z9q-1`. Start time + 4 random base36 chars make two processes collide only if they start in the
 * same millisecond and draw the same 1-in-1.7M random; the counter makes ids unique within a process.
 */
import { randomInt } from 'node:crypto';

const ID_RE = /^[A-Za-z0-9_-]{1,36}$/;

export function isValidClientOrderId(id: string): boolean {
  return ID_RE.test(id);
}

export class ClientIdGenerator {
  readonly base: string;
  private n = 0;

  constructor(prefix = 'tw', startMs: number = Date.now(), random: number = randomInt(0, 36 ** 4)) {
    if (!/^[A-Za-z0-9_]{0,8}$/.test(prefix)) throw new Error(`client id prefix must be <= 8 chars of [A-Za-z0-9_]: ${prefix}`);
    this.base = prefix + startMs.toString(36) + random.toString(36).padStart(4, '0') + '-';
  }

  next(): string {
    this.n++;
    return this.base + this.n.toString(36);
  }

  /** true when the id was made by this generator's process (same base) */
  owns(id: string): boolean {
    return id.startsWith(this.base);
  }
}
