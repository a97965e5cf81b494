/**
 * A client of a running engine's control plane for the processes that watch it from outside (`tickwire bot`,
 * `tickwire watchdog`). Where to connect is found again on every call, as the CLI finds it (`resolveTarget`:
 * TICKWIRE_CONTROL_URL / TICKWIRE_CONTROL_TOKEN, else `<data dir>/run-state.json`), so a restarted engine (a new
 * port, a new token) is followed without a restart of the watcher. The token is registered with the logger, so it
 * never reaches a log line.
 *
 * Every call is bounded by its timeout, connect included: an engine whose event loop does not run (SIGSTOP, a hang)
 * accepts the TCP connection in the kernel and never answers; that must end as an error, not a wait.
 */
import { request } from 'undici';
import { registerSecret } from '../util/log.js';
import { resolveTarget } from './controlcli.js';

export interface ControlAnswer {
  status: number;
  text: string;
}

export class ControlClient {
  constructor(
    /** the data dir holding run-state.json (`persistence.dir`) */
    private readonly dataDir: string,
    private readonly env: NodeJS.ProcessEnv = process.env,
  ) {}

  /** URL and token of the engine now (throws when there is none to be found) */
  target(): { url: string; token: string } {
    const t = resolveTarget(new Map([['data-dir', this.dataDir]]), this.env);
    registerSecret(t.token);
    return t;
  }

  /** One request; rejects on a timeout, a refused connection or no target. Any HTTP status resolves. */
  async call(method: 'GET' | 'POST', path: string, timeoutMs: number): Promise<ControlAnswer> {
    const t = this.target();
    const signal = AbortSignal.timeout(timeoutMs);
    const res = await request(t.url + path, {
      method,
      headers: { authorization: `Bearer ${t.token}` },
      signal,
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
    });
    return { status: res.statusCode, text: await res.body.text() };
  }

  /** GET a JSON answer that must be 200 */
  async json(path: string, timeoutMs: number): Promise<unknown> {
    const r = await this.call('GET', path, timeoutMs);
    if (r.status !== 200) throw new Error(`GET ${path}: HTTP ${r.status}`);
    return JSON.parse(r.text) as unknown;
  }
}

/** A short reason of a failed call (no URL, no token): 'timeout', 'ECONNREFUSED', 'no run-state', ... */
export function callError(e: unknown): string {
  const err = e as { name?: string; code?: string; message?: string; cause?: { code?: string } };
  if (err?.name === 'TimeoutError' || err?.name === 'AbortError' || err?.code === 'UND_ERR_HEADERS_TIMEOUT') return 'no answer (timeout)';
  const code = err?.code ?? err?.cause?.code;
  if (code === 'ECONNREFUSED') return 'connection refused';
  if (typeof err?.message === 'string' && err.message.startsWith('no control URL/token')) return 'no run-state.json (engine never started here?)';
  return code ?? (err?.message ?? String(e)).slice(0, 200);
}
