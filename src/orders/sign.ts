/**
 * Request signing for Binance and Bybit, over exactly the bytes each exchange verifies.
 *
 * - Binance REST: HMAC-SHA256 (lowercase hex) or Ed25519 (base64, then URL-encoded) over `totalParams` = query
 *   string + body as sent, with values percent-encoded before signing (Spot, since 2026-01-15).
 * - Binance WS API: every param except `signature`, sorted by key, `k=v` joined with `&`, raw (not encoded) values.
 * - Bybit REST: HMAC-SHA256 hex over `timestamp + apiKey + recvWindow + payload` (payload = query sent or JSON body).
 * - Bybit WS auth: HMAC-SHA256 hex over `"GET/realtime" + expires`.
 *
 * Secrets are held as KeyObjects and never logged.
 */
import { createHmac, createPrivateKey, createSecretKey, sign as cryptoSign, type KeyObject } from 'node:crypto';
import { percentEncode, type AsciiWriter } from './wire.js';

export class HmacSha256 {
  private readonly key: KeyObject;
  constructor(secret: string) {
    this.key = createSecretKey(Buffer.from(secret, 'utf8'));
  }
  /** Raw 32-byte digest of data. */
  digest(data: string | Uint8Array): Buffer {
    return createHmac('sha256', this.key).update(data).digest();
  }
  /** hex over a latin1 string (each char one byte, also above 0x7F) */
  hexLatin1(data: string): string {
    return createHmac('sha256', this.key).update(data, 'latin1').digest('hex');
  }
  /**
   * hex over an ASCII string (what the order templates produce: percent-encoded forms, JSON of ASCII symbols and
   * client ids). Hashes the same bytes as hexLatin1 for ASCII, but Node's default (UTF-8) string path is the fast
   * one: latin1 costs ~0.3-0.4 µs more per 200-byte payload (measured in bench/suites/orders-sign.ts).
   */
  hexAscii(data: string): string {
    return createHmac('sha256', this.key).update(data).digest('hex');
  }
  hex(data: string | Uint8Array): string {
    return createHmac('sha256', this.key).update(data).digest('hex');
  }
  /** Digest over several parts (no separator) without concatenating them. */
  digestParts(a: string | Uint8Array, b: string | Uint8Array): Buffer {
    return createHmac('sha256', this.key).update(a).update(b).digest();
  }
  /** Sign the writer's bytes [0, pos) and append the lowercase hex signature to it. */
  appendHexOf(w: AsciiWriter, from: number, to: number): void {
    // hashing a latin1 string and taking a hex string is measurably cheaper in Node than Buffer in/out
    w.str(createHmac('sha256', this.key).update(w.slice(from, to)).digest('hex')); // ASCII: default encoding is the fast path
  }
  /** hex over an ASCII string prefix + the writer's (ASCII) bytes [from, to) */
  hexPrefixed(prefix: string, w: AsciiWriter, from: number, to: number): string {
    return createHmac('sha256', this.key).update(prefix).update(w.slice(from, to)).digest('hex');
  }
  toJSON(): string {
    return '[redacted]';
  }
}

export class Ed25519Signer {
  private readonly key: KeyObject;
  constructor(privateKeyPem: string) {
    this.key = createPrivateKey(privateKeyPem);
    if (this.key.asymmetricKeyType !== 'ed25519') throw new Error(`expected an Ed25519 private key, got ${this.key.asymmetricKeyType}`);
  }
  base64(data: string | Uint8Array): string {
    return cryptoSign(null, typeof data === 'string' ? Buffer.from(data, 'utf8') : data, this.key).toString('base64');
  }
  toJSON(): string {
    return '[redacted]';
  }
}

/** Binance WS API payload: params except `signature`, sorted by key, `k=v&...`, values raw. */
export function binanceWsApiPayload(params: Record<string, string | number | boolean>): string {
  const keys = Object.keys(params).filter((k) => k !== 'signature').sort();
  let out = '';
  for (const k of keys) out += (out.length === 0 ? '' : '&') + k + '=' + String(params[k]);
  return out;
}

/** Binance REST query/body from ordered params, values percent-encoded (what is signed is what is sent). */
export function binanceRestQuery(params: ReadonlyArray<readonly [string, string | number | boolean]>): string {
  let out = '';
  for (const [k, v] of params) out += (out.length === 0 ? '' : '&') + k + '=' + percentEncode(String(v));
  return out;
}

/** Binance REST signature (HMAC hex). `totalParams` = query string + body. */
export function binanceHmacSignature(h: HmacSha256, totalParams: string): string {
  return h.hex(totalParams);
}

/** Binance REST Ed25519 signature, already URL-encoded for the query/body. */
export function binanceEd25519RestSignature(s: Ed25519Signer, totalParams: string): string {
  return encodeURIComponent(s.base64(totalParams));
}

/** Bybit REST string to sign. */
export function bybitSignText(timestampMs: number | string, apiKey: string, recvWindow: number | string, payload: string): string {
  return String(timestampMs) + apiKey + String(recvWindow) + payload;
}

export function bybitRestSignature(h: HmacSha256, timestampMs: number | string, apiKey: string, recvWindow: number | string, payload: string): string {
  return h.hex(bybitSignText(timestampMs, apiKey, recvWindow, payload));
}

/** Bybit WebSocket auth signature over "GET/realtime" + expires. */
export function bybitWsAuthSignature(h: HmacSha256, expiresMs: number): string {
  return h.hex('GET/realtime' + String(expiresMs));
}
