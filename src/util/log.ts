/**
 * pino, configured once for the whole process.
 *
 * - Asynchronous: every destination is a SonicBoom with `sync: false`; a log call on the hot path costs a
 *   string build and a buffer append, never a write(2). (The hot path should not log at all: count instead.)
 * - Levels per destination (pino.multistream), e.g. info to stdout, warn+ to an alert file.
 * - Secrets redacted by key name wherever they appear in a logged object, and by value anywhere in a line: the
 *   configured API keys and secrets (`registerSecret`, at start from the secrets), listenKeys as they are issued,
 *   and signatures (`signature=...`), also inside echoed exchange text such as Bybit's
 *   `error sign! origin_string[<ts><key>...]` (`scrubLine`, pino's streamWrite hook: the whole serialized line).
 * - One of each key per line: a logged object's own `msg`, `pid`, `time`, `level` or `name` (or a child binding of
 *   that name) is renamed `<key>Field`, so pino never writes a key twice.
 * - Files and the directories created for them are owner-only (0600 / 0700, src/util/private.ts).
 * - Production: a destination with `rotate` goes through the pino-roll transport (a worker thread writes and rolls the
 *   files by time and/or size, keeping `count` old ones); `productionLogOptions()` builds the usual layout: an engine
 *   log, a separate alert stream (warn+), optionally stdout for journald. `parseLogDestinations()` reads the same from
 *   one string (the `TICKWIRE_LOG_DESTINATIONS` environment variable or a config field).
 */
import { accessSync, constants } from 'node:fs';
import { dirname } from 'node:path';
import { mkdirPrivate, PRIVATE_FILE_MODE } from './private.js';
import pino, { type Logger, type LevelWithSilent, type StreamEntry, type DestinationStream } from 'pino';

export type { Logger };

export interface LogRotation {
  /** roll every day, every hour, or every N milliseconds */
  frequency?: 'daily' | 'hourly' | number | undefined;
  /** roll when a file reaches this size: '100m', '1g', '512k' (a bare number is MB) */
  size?: string | undefined;
  /** rotated files kept besides the active one */
  count?: number | undefined;
}

export interface LogDestination {
  /** 'stdout' | 'stderr' | a file path (with `rotate`: the base name; pino-roll appends `.N.log`) */
  to: string;
  level: LevelWithSilent;
  /** `| undefined` so a parsed config (zod output) can be passed as it is */
  rotate?: LogRotation | undefined;
}

export interface LogOptions {
  /** process-wide minimum level; destinations filter further */
  level?: LevelWithSilent;
  destinations?: LogDestination[];
  name?: string;
}

/** Keys whose values never reach a log line, at any depth we know of. */
export const REDACT_PATHS = [
  'apiKey',
  'apiSecret',
  'secret',
  'secretKey',
  'privateKey',
  'token',
  'password',
  'signature',
  'listenKey',
  '*.apiKey',
  '*.apiSecret',
  '*.secret',
  '*.secretKey',
  '*.privateKey',
  '*.token',
  '*.password',
  '*.signature',
  '*.listenKey',
  '*.*.apiKey',
  '*.*.apiSecret',
  '*.*.secret',
  '*.*.secretKey',
  '*.*.privateKey',
  '*.*.token',
  '*.*.password',
  '*.*.signature',
  '*.*.listenKey',
  'headers["x-mbx-apikey"]',
  'headers["x-bapi-api-key"]',
  'headers["x-bapi-sign"]',
  'headers.authorization',
  '*.headers["x-mbx-apikey"]',
  '*.headers["x-bapi-api-key"]',
  '*.headers["x-bapi-sign"]',
  '*.headers.authorization',
];

const LEVEL_ORDER: LevelWithSilent[] = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'];

function lowest(levels: LevelWithSilent[]): LevelWithSilent {
  let best = 'silent' as LevelWithSilent;
  for (const l of levels) if (LEVEL_ORDER.indexOf(l) < LEVEL_ORDER.indexOf(best)) best = l;
  return best;
}

const LEVELS = new Set<string>(LEVEL_ORDER);

function destinationFor(d: LogDestination): DestinationStream {
  if (d.to === 'stdout') return pino.destination({ dest: 1, sync: false });
  if (d.to === 'stderr') return pino.destination({ dest: 2, sync: false });
  if (d.rotate) {
    const r = d.rotate;
    // pino-roll opens the file in a worker thread, where a failure is silent until end() times out: check here,
    // synchronously, so a wrong path is a clear error at start.
    const dir = dirname(d.to);
    try {
      mkdirPrivate(dir, true);
      accessSync(dir, constants.W_OK);
    } catch (err) {
      throw new LogConfigError(`log destination '${d.to}': directory ${dir} is not writable (${(err as Error).message})`);
    }
    // no symlink: pino-roll 4.0 creates current.log before the file exists and fails (ENOENT)
    const options: Record<string, unknown> = { file: d.to, mkdir: true, mode: PRIVATE_FILE_MODE };
    if (r.frequency !== undefined) options['frequency'] = r.frequency;
    if (r.size !== undefined) options['size'] = r.size;
    if (r.count !== undefined) options['limit'] = { count: r.count };
    const t = pino.transport({ target: 'pino-roll', options }) as DestinationStream & NodeJS.EventEmitter;
    // a failing transport (unwritable directory) must say so once, not crash the process with an unhandled 'error'
    t.on('error', (err: Error) => {
      failedStreams.add(t);
      process.stderr.write(`tickwire: log destination ${d.to} failed: ${err.message}\n`);
    });
    return t;
  }
  try {
    mkdirPrivate(dirname(d.to), true);
  } catch {
    /* sonic-boom reports it (mkdir: true) */
  }
  return pino.destination({ dest: d.to, sync: false, mkdir: true, mode: PRIVATE_FILE_MODE });
}

// ---------------------------------------------------------------------------------------------------------------
// Redaction by value

/** Secret values (and their JSON-escaped forms) scrubbed from every line; one regex, rebuilt when one is added. */
const secretValues = new Set<string>();
let secretRe: RegExp | null = null;
/**
 * `signature=<hex|base64|%-encoded>` or `listenKey=...` in a query string or echoed request; `"signature":"..."`
 * inside echoed JSON
 */
const SIGNATURE_RE = /(signature=|sign=|listenKey=|\\?"(?:signature|sign)\\?"\s*:\s*\\?")[A-Za-z0-9+/=%_-]{16,}/g;
/** shorter values are not scrubbed: they would match ordinary words and numbers */
const MIN_SECRET_LEN = 8;

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * Scrub this value from every future log line (API keys and secrets at start, listenKeys when issued). Cold path;
 * values shorter than 8 characters are ignored.
 */
export function registerSecret(value: string | undefined): void {
  if (value === undefined || value.length < MIN_SECRET_LEN || secretValues.has(value)) return;
  secretValues.add(value);
  // the JSON-escaped form too (a PEM key's newlines appear as \n in the serialized line)
  const esc = JSON.stringify(value).slice(1, -1);
  if (esc !== value) secretValues.add(esc);
  const alts = [...secretValues].sort((a, b) => b.length - a.length).map(escapeRe);
  secretRe = new RegExp(alts.join('|'), 'g');
}

/** Forget every registered value (tests). */
export function clearSecrets(): void {
  secretValues.clear();
  secretRe = null;
}

/** A serialized line with every registered secret and every signature replaced by [redacted]. */
export function scrubLine(s: string): string {
  let out = s;
  if (secretRe !== null) {
    secretRe.lastIndex = 0;
    if (secretRe.test(out)) out = out.replace(secretRe, '[redacted]');
  }
  if (out.includes('sign') || out.includes('listenKey=')) out = out.replace(SIGNATURE_RE, '$1[redacted]');
  return out;
}

/** Keys pino writes itself on every line (level, time, the base bindings pid and name, the message). */
const LINE_KEYS = ['level', 'time', 'pid', 'name', 'msg'] as const;

/**
 * A copy of `o` without the keys pino writes itself: each becomes `<key>Field` (`{ pid: child.pid }` ->
 * `pidField`), except a `pid` equal to this process's (already on the line). `keepMsg`: an object logged without a
 * message argument keeps its `msg` (pino takes it as the message). Returns `o` itself when nothing collides.
 */
function withoutLineKeys<T extends object>(o: T, keepMsg: boolean): T {
  let out: Record<string, unknown> | undefined;
  for (const k of LINE_KEYS) {
    if (!Object.hasOwn(o, k) || (k === 'msg' && keepMsg)) continue;
    out ??= { ...(o as Record<string, unknown>) };
    const v = out[k];
    delete out[k];
    if (!(k === 'pid' && v === process.pid)) out[`${k}Field`] = v;
  }
  return (out ?? o) as T;
}

/** pino's logMethod hook: a merge object's `msg`, `pid`, `time`... would be a second key of that name on the line. */
function oneOfEachKey(this: Logger, args: Parameters<pino.LogFn>, method: pino.LogFn): void {
  const a = args as unknown[];
  const o = a[0];
  if (typeof o === 'object' && o !== null && !(o instanceof Error)) a[0] = withoutLineKeys(o, a.length < 2);
  method.apply(this, a as Parameters<pino.LogFn>);
}

const openStreams: DestinationStream[] = [];
/** streams whose worker failed: end() on them would block until thread-stream's own 10 s timeout */
const failedStreams = new WeakSet<object>();

export function createLogger(opts: LogOptions = {}): Logger {
  const dests = opts.destinations ?? [{ to: 'stderr', level: opts.level ?? 'info' }];
  const entries: StreamEntry[] = dests.map((d) => {
    const stream = destinationFor(d);
    openStreams.push(stream);
    return { stream, level: d.level === 'silent' ? 'fatal' : d.level } as StreamEntry;
  });
  const level = opts.level ?? lowest(dests.map((d) => d.level));
  const logger = pino(
    {
      level,
      name: opts.name ?? 'tickwire',
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      hooks: { logMethod: oneOfEachKey, streamWrite: scrubLine },
      base: { pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    pino.multistream(entries, { dedupe: false }),
  );
  // child bindings are written on every line of the child as given (a binding named msg or pid would repeat
  // those keys); children are Object.create(parent): this own `child` is inherited by every descendant
  const child = logger.child as unknown as (this: Logger, bindings: pino.Bindings, options?: unknown) => Logger;
  logger.child = function (this: Logger, bindings: pino.Bindings, options?: unknown): Logger {
    return child.call(this, withoutLineKeys(bindings, false), options);
  } as unknown as typeof logger.child;
  return logger;
}

/** Flush every asynchronous destination; call before a planned exit. */
export function flushLogs(): void {
  for (const s of openStreams) {
    const sb = s as unknown as { flushSync?: () => void };
    try {
      sb.flushSync?.();
    } catch {
      /* destination not ready yet: nothing buffered */
    }
  }
}

/**
 * Flush, end and close every destination opened so far (files, rotating transports), resolving once their bytes are
 * written. For a planned exit and for tests; loggers created before stay usable only for dropping lines.
 */
export async function closeLogs(timeoutMs = 5_000): Promise<void> {
  flushLogs();
  const streams = openStreams.splice(0);
  await Promise.all(
    streams.map(
      (s) =>
        new Promise<void>((resolve) => {
          const st = s as unknown as NodeJS.EventEmitter & { end?: () => void; fd?: number; closed?: boolean };
          if (st.fd === 1 || st.fd === 2 || typeof st.end !== 'function' || failedStreams.has(s)) return resolve();
          const timer = setTimeout(resolve, timeoutMs);
          const done = (): void => {
            clearTimeout(timer);
            resolve();
          };
          st.once('close', done);
          st.once('error', done);
          st.end();
        }),
    ),
  );
}

/** Thrown by `parseLogDestinations` with the offending part named. */
export class LogConfigError extends Error {}

function parseLevel(s: string | undefined, where: string): LevelWithSilent {
  if (!s || !LEVELS.has(s)) throw new LogConfigError(`${where}: level '${s ?? ''}' is not one of ${LEVEL_ORDER.join(', ')}`);
  return s as LevelWithSilent;
}

/**
 * Destinations from one string: entries separated by `;`, each `TARGET=LEVEL[,rotate options]`.
 *   stderr=info;/var/log/tickwire/engine/tickwire=info,daily,size=200m,count=14;/var/log/tickwire/alert/alert=warn,daily
 * Rotate options: `daily` | `hourly` | `every=MS`, `size=200m`, `count=N`. Any of them makes the file rotate.
 */
export function parseLogDestinations(spec: string): LogDestination[] {
  const out: LogDestination[] = [];
  for (const raw of spec.split(';')) {
    const entry = raw.trim();
    if (!entry) continue;
    const eq = entry.lastIndexOf('=', entry.indexOf(',') < 0 ? entry.length : entry.indexOf(','));
    if (eq <= 0) throw new LogConfigError(`log destination '${entry}': expected TARGET=LEVEL[,daily|hourly|every=MS,size=S,count=N]`);
    const to = entry.slice(0, eq);
    const [lvl, ...opts] = entry.slice(eq + 1).split(',');
    const d: LogDestination = { to, level: parseLevel(lvl?.trim(), `log destination '${to}'`) };
    const rotate: LogRotation = {};
    for (const o of opts.map((x) => x.trim()).filter(Boolean)) {
      if (o === 'daily' || o === 'hourly') rotate.frequency = o;
      else if (o.startsWith('every=') && /^\d+$/.test(o.slice(6))) rotate.frequency = Number(o.slice(6));
      else if (o.startsWith('size=') && /^\d+[kmg]?$/.test(o.slice(5))) rotate.size = o.slice(5);
      else if (o.startsWith('count=') && /^\d+$/.test(o.slice(6))) rotate.count = Number(o.slice(6));
      else throw new LogConfigError(`log destination '${to}': unknown option '${o}' (daily, hourly, every=MS, size=200m, count=N)`);
    }
    if (Object.keys(rotate).length > 0) {
      if (to === 'stdout' || to === 'stderr') throw new LogConfigError(`log destination '${to}': only files rotate`);
      d.rotate = rotate;
    }
    out.push(d);
  }
  if (out.length === 0) throw new LogConfigError('log destinations: none given');
  return out;
}

export interface ProductionLogConfig {
  /** directory for the engine log and the alert log (each in its own subdirectory; newest = highest N) */
  dir: string;
  /** engine log level (default info) */
  level?: LevelWithSilent;
  /** alert stream level (default warn): what someone must look at */
  alertLevel?: LevelWithSilent;
  /** also write to stdout (journald under systemd) at this level; default: not at all */
  stdoutLevel?: LevelWithSilent;
  /** default: daily, 200m, 14 kept (engine); alerts daily, 30 kept */
  rotate?: LogRotation;
  name?: string;
}

/** The usual production layout: DIR/engine/tickwire.N.log, DIR/alert/alert.N.log (warn+), optional stdout. */
export function productionLogOptions(c: ProductionLogConfig): LogOptions {
  const rotate = c.rotate ?? { frequency: 'daily', size: '200m', count: 14 };
  const destinations: LogDestination[] = [
    { to: `${c.dir}/engine/tickwire`, level: c.level ?? 'info', rotate },
    { to: `${c.dir}/alert/alert`, level: c.alertLevel ?? 'warn', rotate: { frequency: 'daily', count: 30, ...(rotate.size ? { size: rotate.size } : {}) } },
  ];
  if (c.stdoutLevel) destinations.push({ to: 'stdout', level: c.stdoutLevel });
  return { destinations, name: c.name ?? 'tickwire' };
}

/** Directories a set of destinations writes into (for a startup permission check). */
export function logDirectories(dests: LogDestination[]): string[] {
  return [...new Set(dests.filter((d) => d.to !== 'stdout' && d.to !== 'stderr').map((d) => dirname(d.to)))];
}

let root: Logger | undefined;

/**
 * The process logger; silent under vitest unless TICKWIRE_LOG_LEVEL says otherwise.
 * `TICKWIRE_LOG_DESTINATIONS` (see `parseLogDestinations`) replaces the default single stderr destination.
 */
export function log(): Logger {
  if (!root) {
    const envLevel = process.env['TICKWIRE_LOG_LEVEL'] as LevelWithSilent | undefined;
    const level = envLevel ?? (process.env['VITEST'] ? 'silent' : 'info');
    const spec = process.env['TICKWIRE_LOG_DESTINATIONS'];
    root = spec ? createLogger({ destinations: parseLogDestinations(spec) }) : createLogger({ level, destinations: [{ to: 'stderr', level }] });
  }
  return root;
}

export function setRootLogger(l: Logger): void {
  root = l;
}
