/**
 * The one place that decides which uWebSockets.js build to load.
 *
 * uWebSockets.js is not published on npm under its own name. Two repackagings ship prebuilt binaries:
 *  - @btc-vision/uwebsockets.js (uWS v20.57, Node 20/22/24/25, needs glibc >= 2.38)
 *  - @trufflesuite/uws-js-unofficial (uWS v20.30, Node 16-20 only, older glibc is fine)
 * We try the newer one first and load the trufflesuite binary directly (its own entry point silently
 * falls back to a slow pure-JS implementation, which we refuse: a benchmark on it would be a lie).
 */
import { createRequire } from 'node:module';
import type * as UwsTypes from '@trufflesuite/uws-js-unofficial';

export type Uws = typeof UwsTypes;
export type TemplatedApp = UwsTypes.TemplatedApp;
export type HttpRequest = UwsTypes.HttpRequest;
export type HttpResponse = UwsTypes.HttpResponse;
export type WebSocket<T> = UwsTypes.WebSocket<T>;
export type WebSocketBehavior<T> = UwsTypes.WebSocketBehavior<T>;
export type ListenSocket = UwsTypes.us_listen_socket;

const require = createRequire(import.meta.url);

export interface UwsLoadResult {
  uws: Uws;
  /** npm package the binary came from */
  source: string;
}

let cached: UwsLoadResult | undefined;

export function loadUws(): UwsLoadResult {
  if (cached) return cached;
  const errors: string[] = [];
  try {
    // Its loader prints a banner to stderr on success; nothing to silence.
    const uws = require('@btc-vision/uwebsockets.js') as Uws;
    cached = { uws, source: '@btc-vision/uwebsockets.js' };
    return cached;
  } catch (e) {
    errors.push(`@btc-vision/uwebsockets.js: ${firstLine(e)}`);
  }
  try {
    const file = `@trufflesuite/uws-js-unofficial/binaries/uws_${process.platform}_${process.arch}_${process.versions.modules}.node`;
    const uws = require(file) as Uws;
    cached = { uws, source: '@trufflesuite/uws-js-unofficial' };
    return cached;
  } catch (e) {
    errors.push(`@trufflesuite/uws-js-unofficial: ${firstLine(e)}`);
  }
  throw new Error(
    `No uWebSockets.js build loads on Node ${process.version} (${process.platform}/${process.arch}, ABI ${process.versions.modules}).\n` +
      errors.map((l) => `  - ${l}`).join('\n') +
      '\nFix: on Node 20 with glibc < 2.38 `npm ci` installs @trufflesuite/uws-js-unofficial, which loads; ' +
      'on Node 22/24 use a system with glibc >= 2.38 (Debian 13, Ubuntu 24.04) so @btc-vision/uwebsockets.js loads.',
  );
}

/** Shorthand used by servers: the loaded module. */
export function uws(): Uws {
  return loadUws().uws;
}

function firstLine(e: unknown): string {
  const s = e instanceof Error ? e.message : String(e);
  return s.split('\n')[0] ?? s;
}
