/**
 * The one client order id generator (engine, kill switch, control plane and the order owner all draw from it).
 *
 * Layout: `<prefix><base36 start ms><base36 random 3>-<base36 counter>`, <= 36 chars of [A-Za-z0-9_-] (valid on
 * both venues: Binance USD-M `^[\.A-Z\:/a-z0-9_-]{1,36}$`, Bybit orderLinkId letters, digits, `-`, `_`), unique
 * across restarts. The prefix marks the account's orders as ours during reconciliation; the base (everything up to
 * `-`) is written to the journal once per engine life (`IDS_MARK`) so that recovery can name the one id a kill -9
 * between a send and its intent may have left unjournaled (src/persist/recover.ts probeId).
 */
import { randomInt } from 'node:crypto';

export const DEFAULT_ID_PREFIX = 'tw';

const ID_RE = /^[A-Za-z0-9_-]{1,36}$/;

export function isValidClientOrderId(id: string): boolean {
  return ID_RE.test(id);
}

export class OrderIds {
  readonly base: string;
  private n = 0;
  constructor(
    readonly prefix: string = DEFAULT_ID_PREFIX,
    startMs = Date.now(),
    random: number = randomInt(0, 36 ** 3),
  ) {
    if (!/^[A-Za-z0-9_]{1,8}$/.test(prefix)) throw new Error(`client id prefix must be 1-8 chars of [A-Za-z0-9_]: ${prefix}`);
    this.base = prefix + startMs.toString(36) + random.toString(36).padStart(3, '0') + '-';
  }
  next(): string {
    this.n++;
    return this.base + this.n.toString(36);
  }
  /** the id `next()` will return (snapshots record it: recovery probes the exchange for it) */
  peekNext(): string {
    return this.base + (this.n + 1).toString(36);
  }
  /** made by a generator with our prefix (this or an earlier engine life): reconciliation's "ours" */
  isOurs(id: string): boolean {
    return id.startsWith(this.prefix);
  }
  /** made by this generator (this process) */
  owns(id: string): boolean {
    return id.startsWith(this.base);
  }
}

/** The id generated right after `id` by the same generator (`<base>-<base36 n>` -> `<base>-<base36 n+1>`), or undefined. */
export function successorId(id: string): string | undefined {
  const i = id.lastIndexOf('-');
  if (i < 0 || i === id.length - 1) return undefined;
  const n = parseInt(id.slice(i + 1), 36);
  if (!Number.isSafeInteger(n) || n.toString(36) !== id.slice(i + 1)) return undefined;
  return id.slice(0, i + 1) + (n + 1).toString(36);
}

/** journal mark written once per engine life, before its first order: `ids <base>` */
export const IDS_MARK = 'ids ';
