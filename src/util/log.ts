/**
 * pino, configured once for the whole process.
 *
 * - Asynchronous: every destination is a SonicBoom with `sync: false`; a log call on the hot path costs a
 *   string build and a buffer append, never a write(2). (The hot path should not log at all: count instead.)
 * - Levels per destination (pino.multistream), e.g. info to stdout, warn+ to an alert file.
 * - Secrets redacted by key name wherever they appear in a logged object.
 */
import pino, { type Logger, type LevelWithSilent, type StreamEntry, type DestinationStream } from 'pino';

export type { Logger };

export interface LogDestination {
  /** 'stdout' | 'stderr' | a file path */
  to: string;
  level: LevelWithSilent;
}

export interface LogOptions {
  /** process-wide minimum level; destinations filter further */
  level?: LevelWithSilent;
  destinations?: LogDestination[];
  name?: string;
}

/** Keys whose values never reach a log line, at any depth we know of. */
export const REDACT_PATHS = [
  'apiKey', 'apiSecret', 'secret', 'secretKey', 'privateKey', 'token', 'password', 'signature', 'listenKey',
  '*.apiKey', '*.apiSecret', '*.secret', '*.secretKey', '*.privateKey', '*.token', '*.password', '*.signature',
  '*.listenKey', '*.*.apiKey', '*.*.apiSecret', '*.*.secret', '*.*.secretKey', '*.*.privateKey', '*.*.token',
  'headers["x-mbx-apikey"]', 'headers["x-bapi-api-key"]', 'headers["x-bapi-sign"]', 'headers.authorization',
  '*.headers["x-mbx-apikey"]', '*.headers["x-bapi-api-key"]', '*.headers["x-bapi-sign"]', '*.headers.authorization',
];

const LEVEL_ORDER: LevelWithSilent[] = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'];

function lowest(levels: LevelWithSilent[]): LevelWithSilent {
  let best = 'silent' as LevelWithSilent;
  for (const l of levels) if (LEVEL_ORDER.indexOf(l) < LEVEL_ORDER.indexOf(best)) best = l;
  return best;
}

function destinationFor(to: string): DestinationStream {
  if (to === 'stdout') return pino.destination({ dest: 1, sync: false });
  if (to === 'stderr') return pino.destination({ dest: 2, sync: false });
  return pino.destination({ dest: to, sync: false, mkdir: true });
}

const openStreams: DestinationStream[] = [];

export function createLogger(opts: LogOptions = {}): Logger {
  const dests = opts.destinations ?? [{ to: 'stderr', level: opts.level ?? 'info' }];
  const entries: StreamEntry[] = dests.map((d) => {
    const stream = destinationFor(d.to);
    openStreams.push(stream);
    return { stream, level: d.level === 'silent' ? 'fatal' : d.level } as StreamEntry;
  });
  const level = opts.level ?? lowest(dests.map((d) => d.level));
  return pino(
    {
      level,
      name: opts.name ?? 'tickwire',
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      base: { pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    pino.multistream(entries, { dedupe: false }),
  );
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

let root: Logger | undefined;

/** The process logger; silent under vitest unless TICKWIRE_LOG_LEVEL says otherwise. */
export function log(): Logger {
  if (!root) {
    const envLevel = process.env['TICKWIRE_LOG_LEVEL'] as LevelWithSilent | undefined;
    const level = envLevel ?? (process.env['VITEST'] ? 'silent' : 'info');
    root = createLogger({ level, destinations: [{ to: 'stderr', level }] });
  }
  return root;
}

export function setRootLogger(l: Logger): void {
  root = l;
}
