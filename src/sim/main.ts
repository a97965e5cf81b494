/**
 * `tickwire sim`: run the exchange simulator alone.
 *
 * Contract (issue 2): once listening, prints EXACTLY ONE line of JSON to stdout —
 *   {"binanceSpot":{...},"binanceUsdm":{...},"bybit":{...},"control":{"url":"http://127.0.0.1:P","token":"..."},
 *    "seed":N,"symbols":[...]}
 * — and nothing else on stdout (logs go to stderr). Stops cleanly on SIGINT/SIGTERM (exit 0).
 */
import { existsSync, readFileSync } from 'node:fs';
import { FeeSchedule, type SimFeeOptions } from './core/fees.js';
import { flushLogs, log } from '../util/log.js';
import { ALL_VENUES, BINANCE_DOC_EXAMPLE_KEY, BINANCE_DOC_EXAMPLE_SECRET, startSim, type SimOptions, type SimVenueName } from './index.js';

const USAGE = `usage: tickwire sim [options]

Runs the embedded exchange simulator (Binance Spot, Binance USD-M, Bybit v5) on loopback and prints ONE line of
JSON to stdout with every venue's REST/WebSocket URLs and the API key/secret (and Ed25519 key pair) it accepts,
plus the control endpoint's URL and token. Logs go to stderr. Stop with Ctrl-C (SIGINT) or SIGTERM.

options:
  --seed N               PRNG seed of the synthetic market (default: random; printed in the JSON line)
  --symbols A,B          symbols of every market (default: BTCUSDT,ETHUSDT)
  --rate N               synthetic level updates per second across all books (default: 2000; >= 100000 works)
  --depth-interval MS    depth diff interval of the venues in ms (default: 100, or 0 with --deterministic;
                         0 = one frame per book change)
  --replay FILE[,FILE]   replay recorded captures (*_capture_*.ndjson format), merged by recorded time; repeatable
  --replay-speed X       replay pace: 1 = recorded (default), 0 = as fast as possible
  --replay-loop          start the replay again at its end
  --deterministic        virtual clock derived from the generator (event times = updates produced / rate):
                         same seed, same sequence of book changes, trades and timestamps
  --host H               bind address (default: 127.0.0.1)
  --venues A,B           venues to start: binanceSpot,binanceUsdm,bybit (default: all)
  --fees FILE|JSON       fee table: {"rates":{"binanceSpot":{"maker":0.001,"taker":0.001},...},"bnbBurn":{"binanceSpot":true},
                         "bnbDiscount":{...},"bnbPrice":600} (default: the venues' base tiers, BNB discount off)
  --doc-example-key      accept Binance's documented example API key/secret instead of random ones
  --hedge-mode           the account starts in hedge mode on Binance USD-M (dualSidePosition) and Bybit linear
                         (positionIdx 1/2): orders then need positionSide / positionIdx, as on the real venues
  --withdrawals          the API key may withdraw (Binance enableWithdrawals, Bybit Wallet "Withdraw")
  --no-ip-restrict       the API key has no IP allowlist (Binance ipRestrict false, Bybit ips ["*"])
  --classic-account      the Bybit account is a classic one, not a unified trading account
                         (the last four make accounts that \`tickwire doctor\` must call no-go; the control endpoint
                         changes them while running: POST /account {"withdrawals":true}, GET /account)
  --help                 this text
`;

class UsageError extends Error {}

function num(flag: string, v: string | undefined, min: number): number {
  if (v === undefined) throw new UsageError(`${flag} needs a value`);
  const n = Number(v);
  if (!Number.isFinite(n) || n < min) throw new UsageError(`${flag}: expected a number >= ${min}, got '${v}'`);
  return n;
}

export function parseArgs(argv: string[]): SimOptions | 'help' {
  const o: SimOptions = {};
  const replay: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const raw = argv[i]!;
    const eq = raw.startsWith('--') ? raw.indexOf('=') : -1;
    const flag = eq > 0 ? raw.slice(0, eq) : raw;
    const inline = eq > 0 ? raw.slice(eq + 1) : undefined;
    const value = (): string | undefined => inline ?? argv[++i];
    switch (flag) {
      case '--help':
      case '-h':
        return 'help';
      case '--seed': {
        const n = num('--seed', value(), 0);
        if (!Number.isInteger(n)) throw new UsageError('--seed: expected an integer');
        o.seed = n;
        break;
      }
      case '--symbols': {
        const v = value();
        const list = (v ?? '')
          .split(',')
          .map((s) => s.trim().toUpperCase())
          .filter((s) => s.length > 0);
        if (list.length === 0 || list.some((s) => !/^[A-Z0-9]{2,30}$/.test(s)))
          throw new UsageError(`--symbols: expected e.g. BTCUSDT,ETHUSDT, got '${v ?? ''}'`);
        o.symbols = list;
        break;
      }
      case '--rate':
        o.rate = num('--rate', value(), 1);
        break;
      case '--depth-interval':
        o.depthIntervalMs = num('--depth-interval', value(), 0);
        break;
      case '--replay': {
        const v = value();
        const files = (v ?? '').split(',').filter((f) => f.length > 0);
        if (files.length === 0) throw new UsageError('--replay needs a file');
        for (const f of files) {
          if (!existsSync(f)) throw new UsageError(`--replay: no such file '${f}'`);
          replay.push(f);
        }
        break;
      }
      case '--replay-speed':
        o.replaySpeed = num('--replay-speed', value(), 0);
        break;
      case '--replay-loop':
        o.replayLoop = true;
        break;
      case '--deterministic':
        o.deterministic = true;
        break;
      case '--host': {
        const v = value();
        if (!v) throw new UsageError('--host needs a value');
        o.host = v;
        break;
      }
      case '--venues': {
        const v = value() ?? '';
        const list = v
          .split(',')
          .map((s) => s.trim())
          .filter((s) => s.length > 0);
        const bad = list.filter((s) => !(ALL_VENUES as readonly string[]).includes(s));
        if (list.length === 0 || bad.length > 0) throw new UsageError(`--venues: unknown '${bad.join(',') || v}' (known: ${ALL_VENUES.join(',')})`);
        o.venues = list as SimVenueName[];
        break;
      }
      case '--fees': {
        const v = value();
        if (!v) throw new UsageError('--fees needs a file or a JSON object');
        let parsed: unknown;
        try {
          parsed = JSON.parse(v.trimStart().startsWith('{') ? v : readFileSync(v, 'utf8'));
        } catch (e) {
          throw new UsageError(`--fees: ${(e as Error).message}`);
        }
        if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new UsageError('--fees: expected a JSON object');
        try {
          new FeeSchedule(parsed as SimFeeOptions); // whole or nothing: a bad rate is refused here, naming it
        } catch (e) {
          throw new UsageError(`--fees: ${(e as Error).message}`);
        }
        o.fees = parsed as SimFeeOptions;
        break;
      }
      case '--doc-example-key':
        o.credentials = { apiKey: BINANCE_DOC_EXAMPLE_KEY, apiSecret: BINANCE_DOC_EXAMPLE_SECRET };
        break;
      case '--hedge-mode':
        o.account = { ...o.account, binanceUsdmHedge: true, bybitLinearHedge: true };
        break;
      case '--withdrawals':
        o.account = { ...o.account, withdrawals: true };
        break;
      case '--no-ip-restrict':
        o.account = { ...o.account, ipRestrict: false };
        break;
      case '--classic-account':
        o.account = { ...o.account, bybitUnified: false };
        break;
      default:
        throw new UsageError(`unknown option '${raw}'`);
    }
  }
  if (replay.length > 0) o.replay = replay;
  return o;
}

export async function main(argv: string[]): Promise<number> {
  let opts: SimOptions | 'help';
  try {
    opts = parseArgs(argv);
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`tickwire sim: ${e.message}\n\n${USAGE}`);
      return 2;
    }
    throw e;
  }
  if (opts === 'help') {
    process.stdout.write(USAGE);
    return 0;
  }
  const logger = log();
  // signal handlers first: a client may signal as soon as it has read the line (or even during startup)
  let signalled: NodeJS.Signals | undefined;
  let onSignal: ((sig: NodeJS.Signals) => void) | undefined;
  const handler = (sig: NodeJS.Signals): void => {
    if (signalled) return;
    signalled = sig;
    onSignal?.(sig);
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);

  const sim = await startSim({ ...opts, log: logger });
  process.stdout.write(JSON.stringify(sim.endpoints) + '\n');

  return new Promise<number>((resolve) => {
    const stop = (sig: NodeJS.Signals): void => {
      logger.info({ signal: sig }, 'simulator stopping');
      process.off('SIGINT', handler);
      process.off('SIGTERM', handler);
      sim.close().then(
        () => {
          flushLogs();
          // open keep-alive sockets of clients must not keep the process up after a stop
          setTimeout(() => process.exit(process.exitCode ?? 0), 300).unref();
          resolve(0);
        },
        (err: unknown) => {
          logger.error({ err: err instanceof Error ? err.message : String(err) }, 'close failed');
          flushLogs();
          setTimeout(() => process.exit(1), 300).unref();
          resolve(1);
        },
      );
    };
    if (signalled) stop(signalled);
    else onSignal = stop;
  });
}
