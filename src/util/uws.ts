/**
 * The one place that decides which uWebSockets.js server runs: a native build where one loads, else the compat
 * server (`uwscompat.ts`: the same API subset on node:http + ws).
 *
 * uWebSockets.js is not published on npm under its own name. Two repackagings ship prebuilt binaries:
 *  - @btc-vision/uwebsockets.js (uWS v20.57, Node 20/22/24/25, needs glibc >= 2.38)
 *  - @trufflesuite/uws-js-unofficial (uWS v20.30, Node 16-20 only, older glibc is fine)
 * We try the newer one first and load the trufflesuite binary directly (its own entry point silently falls back to
 * its own pure-JS implementation; ours is the compat server, chosen openly and named in `source`).
 *
 * `TICKWIRE_UWS` picks: `auto` (default: native if a build loads, else compat), `native` (an error naming the fix
 * where none loads), `compat` (always node:http + ws). Any other value is an error. Child processes (the simulator
 * child of `tickwire run`) inherit the environment and so the choice.
 */
import { createRequire } from 'node:module';
import type * as UwsTypes from '@trufflesuite/uws-js-unofficial';
import { isCompatListenSocket, uwsCompat } from './uwscompat.js';

export type Uws = typeof UwsTypes;
export type TemplatedApp = UwsTypes.TemplatedApp;
export type HttpRequest = UwsTypes.HttpRequest;
export type HttpResponse = UwsTypes.HttpResponse;
export type WebSocket<T> = UwsTypes.WebSocket<T>;
export type WebSocketBehavior<T> = UwsTypes.WebSocketBehavior<T>;
export type ListenSocket = UwsTypes.us_listen_socket;

const require = createRequire(import.meta.url);

export type UwsMode = 'auto' | 'native' | 'compat';
export const UWS_ENV = 'TICKWIRE_UWS';
export const COMPAT_SOURCE = 'compat (node:http + ws)';

export interface UwsLoadResult {
  uws: Uws;
  /** npm package the native binary came from, or COMPAT_SOURCE */
  source: string;
  native: boolean;
  /** why each native build did not load (empty when one did, or when compat was asked for) */
  nativeErrors: string[];
}

/** The mode `TICKWIRE_UWS` asks for; throws on a value that is not one of the three. */
export function uwsMode(env: NodeJS.ProcessEnv = process.env): UwsMode {
  const v = (env[UWS_ENV] ?? '').trim();
  if (v === '' || v === 'auto') return 'auto';
  if (v === 'native' || v === 'compat') return v;
  throw new Error(`${UWS_ENV}=${JSON.stringify(v)}: expected auto, native or compat`);
}

let cached: UwsLoadResult | undefined;

/** Load the server the mode asks for (cached for the process). */
export function loadUws(): UwsLoadResult {
  if (cached) return cached;
  const mode = uwsMode();
  if (mode === 'compat') return (cached = { uws: uwsCompat, source: COMPAT_SOURCE, native: false, nativeErrors: [] });
  const errors: string[] = [];
  const native = loadNative(errors);
  if (native) return (cached = { ...native, native: true, nativeErrors: [] });
  if (mode === 'native') {
    throw new Error(
      `${UWS_ENV}=native, but no uWebSockets.js build loads on Node ${process.version} (${process.platform}/${process.arch}, ABI ${process.versions.modules}).\n` +
        errors.map((l) => `  - ${l}`).join('\n') +
        '\nFix: unset TICKWIRE_UWS (or set it to compat) to run on node:http + ws; or, for native uWS, use Node 20 ' +
        '(@trufflesuite/uws-js-unofficial loads with any glibc) or a system with glibc >= 2.38 (Debian 13, Ubuntu 24.04) ' +
        'so @btc-vision/uwebsockets.js loads on Node 20-25.',
    );
  }
  return (cached = { uws: uwsCompat, source: COMPAT_SOURCE, native: false, nativeErrors: errors });
}

/** The first native build that loads (errors collects why the others did not), without caching. */
export function loadNative(errors: string[] = []): { uws: Uws; source: string } | undefined {
  try {
    // Its loader prints a banner to stderr on success; nothing to silence.
    return { uws: require('@btc-vision/uwebsockets.js') as Uws, source: '@btc-vision/uwebsockets.js' };
  } catch (e) {
    errors.push(`@btc-vision/uwebsockets.js: ${firstLine(e)}`);
  }
  try {
    const file = `@trufflesuite/uws-js-unofficial/binaries/uws_${process.platform}_${process.arch}_${process.versions.modules}.node`;
    return { uws: require(file) as Uws, source: '@trufflesuite/uws-js-unofficial' };
  } catch (e) {
    errors.push(`@trufflesuite/uws-js-unofficial: ${firstLine(e)}`);
  }
  return undefined;
}

/** The port a listen socket is bound to, on whichever server made it (tests run both in one process). */
export function listenPort(s: ListenSocket): number {
  if (isCompatListenSocket(s)) return uwsCompat.us_socket_local_port(s as unknown as UwsTypes.us_socket);
  return nativeFor().us_socket_local_port(s as unknown as UwsTypes.us_socket);
}

/** Stop a listen socket, on whichever server made it. */
export function closeListenSocket(s: ListenSocket): void {
  if (isCompatListenSocket(s)) uwsCompat.us_listen_socket_close(s);
  else nativeFor().us_listen_socket_close(s);
}

/** the native module behind a native listen socket */
function nativeFor(): Uws {
  if (cached?.native) return cached.uws;
  const n = loadNative();
  if (!n) throw new Error('a native uWS listen socket, but no native build loads');
  return n.uws;
}

/** Shorthand used by servers: the loaded module. */
export function uws(): Uws {
  return loadUws().uws;
}

function firstLine(e: unknown): string {
  const s = e instanceof Error ? e.message : String(e);
  return s.split('\n')[0] ?? s;
}
