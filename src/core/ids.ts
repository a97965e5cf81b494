/**
 * Engine client order ids: `<prefix><base36 start ms><base36 random 3>-<base36 counter>`, <= 36 chars of
 * [A-Za-z0-9_-] (valid on both venues), unique across restarts. The prefix marks the account's orders as ours
 * during reconciliation.
 */
import { randomInt } from 'node:crypto';

export const DEFAULT_ID_PREFIX = 'tw';

export class OrderIds {
  readonly base: string;
  private n = 0;
  constructor(readonly prefix: string = DEFAULT_ID_PREFIX, startMs = Date.now()) {
    if (!/^[A-Za-z0-9_]{1,8}$/.test(prefix)) throw new Error(`client id prefix must be 1-8 chars of [A-Za-z0-9_]: ${prefix}`);
    this.base = prefix + startMs.toString(36) + randomInt(0, 36 ** 3).toString(36).padStart(3, '0') + '-';
  }
  next(): string {
    this.n++;
    return this.base + this.n.toString(36);
  }
  isOurs(id: string): boolean {
    return id.startsWith(this.prefix);
  }
}
