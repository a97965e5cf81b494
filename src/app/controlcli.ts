/**
 * `tickwire status|start|stop|kill [--wait]|buy|sell [--stop|--take-profit TRIGGER]|cancel-algo|reload|metrics`: talks to a running engine's control plane.
 *
 * Where to connect, first match wins: `--url URL` / `--port N` and `--token T`; env `TICKWIRE_CONTROL_URL` and
 * `TICKWIRE_CONTROL_TOKEN`; the run-state file the engine writes (`<data dir>/run-state.json`, mode 0600;
 * `--data-dir DIR`, default `./data`, or env `TICKWIRE_DATA_DIR`).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { request } from 'undici';

export const RUN_STATE_FILE = 'run-state.json';

export interface RunState {
  pid: number;
  url: string;
  token: string;
  startedAt: string;
}

export const USAGE = `usage:
  tickwire status                       engine status (JSON)
  tickwire start | stop                 resume / stop strategy trading (stop leaves orders open); start also
                                        resumes a venue halted until an operator says so (auth failure, a ban
                                        without an end; a ban with a Retry-After ends by itself)
  tickwire kill [--wait]                kill switch: block, cancel everything, verify; --wait prints the report
  tickwire buy|sell VENUE SYMBOL QTY [PRICE]
                                        manual order (no PRICE = market IOC), e.g. buy bybitLinear BTCUSDT 0.002
  tickwire buy|sell VENUE SYMBOL QTY [PRICE] --stop TRIGGER | --take-profit TRIGGER [--reduce-only]
                                        manual conditional (algo) order: waits until the market reaches TRIGGER,
                                        then places a market order (no PRICE) or a limit at PRICE; e.g.
                                        sell binanceUsdm BTCUSDT 0.002 --stop 95000 --reduce-only
  tickwire cancel-algo CLIENT_ALGO_ID   cancel an open algo (conditional) order
  tickwire reload                       reload strategy/risk parameters from the config file
  tickwire metrics                      Prometheus metrics text
options: --url URL | --port N, --token T, --data-dir DIR (reads DIR/run-state.json)
env: TICKWIRE_CONTROL_URL, TICKWIRE_CONTROL_TOKEN, TICKWIRE_DATA_DIR
`;

interface Parsed {
  cmd: string;
  pos: string[];
  flags: Map<string, string | true>;
}

function parse(argv: string[]): Parsed {
  const [cmd = '', ...rest] = argv;
  const pos: string[] = [];
  const flags = new Map<string, string | true>();
  for (let i = 0; i < rest.length; i++) {
    const a = rest[i] as string;
    if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      if (eq > 0) flags.set(a.slice(2, eq), a.slice(eq + 1));
      else if (a === '--wait' || a === '--help' || a === '--reduce-only') flags.set(a.slice(2), true);
      else {
        const v = rest[i + 1];
        if (v === undefined) throw new Error(`${a} needs a value`);
        flags.set(a.slice(2), v);
        i++;
      }
    } else pos.push(a);
  }
  return { cmd, pos, flags };
}

export function resolveTarget(flags: Map<string, string | true>, env: NodeJS.ProcessEnv = process.env): { url: string; token: string } {
  const f = (k: string): string | undefined => {
    const v = flags.get(k);
    return typeof v === 'string' ? v : undefined;
  };
  let url = f('url') ?? (f('port') ? `http://127.0.0.1:${f('port')}` : undefined) ?? env['TICKWIRE_CONTROL_URL'];
  let token = f('token') ?? env['TICKWIRE_CONTROL_TOKEN'];
  if (url === undefined || token === undefined) {
    const dir = f('data-dir') ?? env['TICKWIRE_DATA_DIR'] ?? './data';
    const file = join(dir, RUN_STATE_FILE);
    let st: RunState;
    try {
      st = JSON.parse(readFileSync(file, 'utf8')) as RunState;
    } catch (e) {
      throw new Error(
        `no control URL/token: pass --url/--token, set TICKWIRE_CONTROL_URL/TICKWIRE_CONTROL_TOKEN, or point --data-dir at a running engine's data dir (${file}: ${(e as Error).message})`,
      );
    }
    url ??= st.url;
    token ??= st.token;
  }
  return { url: url.replace(/\/$/, ''), token };
}

async function call(url: string, token: string, method: 'GET' | 'POST', path: string, body?: unknown): Promise<{ status: number; text: string }> {
  const res = await request(url + path, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    headersTimeout: 30_000,
    bodyTimeout: 30_000,
  });
  return { status: res.statusCode, text: await res.body.text() };
}

export async function main(argv: string[]): Promise<number> {
  let p: Parsed;
  try {
    p = parse(argv);
  } catch (e) {
    process.stderr.write(`tickwire: ${(e as Error).message}\n${USAGE}`);
    return 2;
  }
  if (p.flags.has('help') || p.cmd === '') {
    process.stdout.write(USAGE);
    return p.cmd === '' ? 2 : 0;
  }
  let target: { url: string; token: string };
  try {
    target = resolveTarget(p.flags);
  } catch (e) {
    process.stderr.write(`tickwire ${p.cmd}: ${(e as Error).message}\n`);
    return 2;
  }
  let r: { status: number; text: string };
  try {
    switch (p.cmd) {
      case 'status':
        r = await call(target.url, target.token, 'GET', '/status');
        break;
      case 'metrics':
        r = await call(target.url, target.token, 'GET', '/metrics');
        break;
      case 'start':
      case 'stop':
      case 'reload':
        r = await call(target.url, target.token, 'POST', `/${p.cmd}`);
        break;
      case 'kill':
        r = await call(target.url, target.token, 'POST', p.flags.has('wait') ? '/kill?wait=1' : '/kill');
        break;
      case 'cancel-algo': {
        const [id] = p.pos;
        if (!id || p.pos.length !== 1) {
          process.stderr.write(`tickwire cancel-algo: CLIENT_ALGO_ID required\n${USAGE}`);
          return 2;
        }
        r = await call(target.url, target.token, 'POST', '/algo/cancel', { clientAlgoId: id });
        break;
      }
      case 'buy':
      case 'sell': {
        const [venue, symbol, qty, price] = p.pos;
        if (!venue || !symbol || !qty) {
          process.stderr.write(`tickwire ${p.cmd}: VENUE SYMBOL QTY [PRICE] required\n${USAGE}`);
          return 2;
        }
        const stop = p.flags.get('stop');
        const tp = p.flags.get('take-profit');
        if (stop !== undefined || tp !== undefined || p.flags.has('reduce-only')) {
          if ((stop === undefined) === (tp === undefined) || stop === true || tp === true) {
            process.stderr.write(`tickwire ${p.cmd}: a conditional order takes exactly one of --stop TRIGGER or --take-profit TRIGGER\n${USAGE}`);
            return 2;
          }
          r = await call(target.url, target.token, 'POST', '/algo', {
            venue,
            symbol,
            side: p.cmd === 'buy' ? 'BUY' : 'SELL',
            kind: stop !== undefined ? 'STOP' : 'TAKE_PROFIT',
            qty,
            trigger: stop ?? tp,
            ...(price !== undefined ? { price } : {}),
            ...(p.flags.has('reduce-only') ? { reduceOnly: true } : {}),
          });
          break;
        }
        r = await call(target.url, target.token, 'POST', '/order', {
          venue,
          symbol,
          side: p.cmd === 'buy' ? 'BUY' : 'SELL',
          qty,
          ...(price !== undefined ? { price } : {}),
        });
        break;
      }
      default:
        process.stderr.write(`tickwire: unknown control command '${p.cmd}'\n${USAGE}`);
        return 2;
    }
  } catch (e) {
    process.stderr.write(`tickwire ${p.cmd}: cannot reach the engine at ${target.url}: ${(e as Error).message}\n`);
    return 1;
  }
  process.stdout.write(r.text.endsWith('\n') ? r.text : r.text + '\n');
  return r.status >= 200 && r.status < 300 ? 0 : 1;
}
