/**
 * Binance request authentication, exactly as the venues check it.
 *
 * REST (spot-docs "SIGNED endpoint security"): the signed payload is `totalParams` = the raw query string
 * concatenated with the raw request body, minus the `signature` parameter itself. HMAC-SHA256 = lowercase hex
 * (compared case-insensitively); Ed25519 = base64 (URL-encoded in REST, so it arrives decoded in the params).
 * WS API: every `params` key except `signature`, sorted by key, `k=v` joined by `&`, values NOT percent-encoded.
 * Timing: `timestamp < serverTime + 1000 && serverTime - timestamp <= recvWindow` (recvWindow default 5000, max 60000).
 */
import { createHmac, createPublicKey, timingSafeEqual, verify as edVerify, type KeyObject } from 'node:crypto';
import type { SimCredentials } from '../core/types.js';
import { type BnError, E } from './errors.js';

export type KeyKind = 'hmac' | 'ed25519';

export class KeyRing {
  private readonly edKey: KeyObject | undefined;
  constructor(readonly creds: SimCredentials) {
    this.edKey = creds.ed25519PublicKeyPem ? createPublicKey(creds.ed25519PublicKeyPem) : undefined;
  }

  kindOf(apiKey: string): KeyKind | undefined {
    if (apiKey.length === 0) return undefined;
    if (apiKey === this.creds.apiKey) return 'hmac';
    if (this.edKey && apiKey === this.creds.ed25519ApiKey) return 'ed25519';
    return undefined;
  }

  /** true when `signature` signs `payload` for the key `apiKey`. */
  verify(apiKey: string, payload: string, signature: string): boolean {
    const kind = this.kindOf(apiKey);
    if (kind === 'hmac') {
      if (signature.length !== 64) return false;
      const want = createHmac('sha256', this.creds.apiSecret).update(payload).digest();
      let got: Buffer;
      try {
        got = Buffer.from(signature.toLowerCase(), 'hex');
      } catch {
        return false;
      }
      return got.length === want.length && timingSafeEqual(got, want);
    }
    if (kind === 'ed25519' && this.edKey) {
      const sig = Buffer.from(signature, 'base64');
      if (sig.length !== 64) return false;
      try {
        return edVerify(null, Buffer.from(payload), this.edKey, sig);
      } catch {
        return false;
      }
    }
    return false;
  }
}

/** Remove every `signature=...` piece from a raw query/body string (keeps the other pieces byte-exact). */
export function stripSignature(raw: string): string {
  if (raw.indexOf('signature=') < 0) return raw;
  const parts = raw.split('&');
  let out = '';
  for (const p of parts) {
    if (p.startsWith('signature=') || p === 'signature') continue;
    out = out.length === 0 ? p : out + '&' + p;
  }
  return out;
}

/** REST payload Binance signs: query + body, no separator, signature removed. */
export function restPayload(rawQuery: string, rawBody: string): string {
  return stripSignature(rawQuery) + stripSignature(rawBody);
}

/** WS API payload: params minus signature, sorted by key, k=v&..., values as plain text. */
export function wsApiPayload(params: Record<string, unknown>): string {
  const keys = Object.keys(params)
    .filter((k) => k !== 'signature')
    .sort();
  let out = '';
  for (const k of keys) {
    const v = params[k];
    const s = typeof v === 'string' ? v : v === null || v === undefined ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v);
    out += (out.length === 0 ? '' : '&') + k + '=' + s;
  }
  return out;
}

const INT_RE = /^[0-9]{1,20}$/;
const RECV_RE = /^[0-9]{1,6}(\.[0-9]{1,3})?$/;

/**
 * Check `timestamp` / `recvWindow` against the server clock. Returns undefined when fine.
 * `allowMicros`: Spot accepts timestamps in microseconds.
 */
export function checkTimestamp(ts: string | undefined, recvWindow: string | undefined, serverMs: number, allowMicros: boolean): BnError | undefined {
  if (ts === undefined || ts.length === 0) return E.mandatory('timestamp');
  if (!INT_RE.test(ts)) return E.illegalChars('timestamp', '^[0-9]{1,20}$');
  let t = Number(ts);
  if (allowMicros && t > 1e14) t = t / 1000;
  let rw = 5000;
  if (recvWindow !== undefined && recvWindow.length > 0) {
    if (!RECV_RE.test(recvWindow)) return E.illegalChars('recvWindow', '^[0-9]{1,6}(\\.[0-9]{1,3})?$');
    rw = Number(recvWindow);
    if (rw > 60000) return E.badRecvWindow();
  }
  if (!(t < serverMs + 1000)) return E.timestampAhead();
  if (serverMs - t > rw) return E.timestampOutside();
  return undefined;
}
