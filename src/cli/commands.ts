/**
 * The `tickwire` commands and their dispatch. Each subcommand lives in the module of its concern and exports
 * `main(argv: string[]): Promise<number>` (the exit code); this module only dispatches and prints help.
 * Modules load lazily so that `tickwire status` does not pay for the simulator's startup.
 *
 * `tickwire help` (also `--help`, `-h`) lists every command; `tickwire help COMMAND` is `tickwire COMMAND --help`.
 * `help` is a word rather than a flag so that it reaches us through `npx tickwire help`: npx takes `--help` itself.
 */
type Main = (argv: string[]) => Promise<number>;

interface Command {
  summary: string;
  load: () => Promise<{ main: Main }>;
}

const control = (): Promise<{ main: Main }> => import('../app/controlcli.js');

export const COMMANDS: Record<string, Command> = {
  run: { summary: 'run the engine (against the embedded simulator by default)', load: () => import('../app/run.js') },
  sim: { summary: 'run the exchange simulator alone; prints one JSON line with its endpoints', load: () => import('../sim/main.js') },
  status: { summary: 'ask a running engine for its status (control plane)', load: control },
  start: { summary: 'resume trading on a running engine', load: control },
  stop: { summary: 'stop trading (orders stay) on a running engine', load: control },
  kill: { summary: 'kill switch: block orders, cancel everything, halt', load: control },
  buy: { summary: 'manual order through the engine: buy VENUE SYMBOL QTY [PRICE] [--stop|--take-profit TRIGGER]', load: control },
  sell: { summary: 'manual order through the engine: sell VENUE SYMBOL QTY [PRICE] [--stop|--take-profit TRIGGER]', load: control },
  'cancel-algo': { summary: 'cancel an open algo (conditional) order: cancel-algo CLIENT_ALGO_ID', load: control },
  reload: { summary: 'reload strategy parameters from the config file', load: control },
  metrics: { summary: "print a running engine's Prometheus metrics (GET /metrics)", load: control },
  backtest: {
    summary: 'replay captures through a strategy against the simulator; report.json + report.html (PnL, fills, fees)',
    load: () => import('../app/backtest.js'),
  },
  hist: { summary: 'latency histogram dumps: merge, print percentiles, plot', load: () => import('../app/histcli.js') },
  doctor: { summary: 'go/no-go checks of the venues, keys and accounts before trading (testnet, demo, mainnet)', load: () => import('../app/doctor.js') },
  'host-check': { summary: 'check core pinning and host tuning against what production demands', load: () => import('../app/hostcheckcli.js') },
  wire2wire: { summary: 'wire-to-wire latency harness against the simulator', load: () => import('../tools/wire2wire.js') },
  bot: { summary: 'alerts (Telegram, webhooks) and Telegram commands for a running engine, in a process of its own', load: () => import('../app/bot.js') },
  watchdog: { summary: "cancel every open order with its own keys when the engine's heartbeat stops", load: () => import('../app/watchdog.js') },
};

/** Commands whose `main` takes the arguments after the command name (the others get the name first). */
const OWN_ARGV = new Set(['run', 'sim', 'hist', 'wire2wire', 'doctor', 'bot', 'watchdog', 'backtest']);

export function help(): string {
  const rows: Array<[string, string]> = [
    ...Object.entries(COMMANDS).map(([k, c]): [string, string] => [k, c.summary]),
    ['help [COMMAND]', 'this list, or the options of COMMAND'],
  ];
  const w = Math.max(...rows.map(([k]) => k.length));
  const lines = rows.map(([k, s]) => `  ${k.padEnd(w)}  ${s}`);
  return (
    `usage: tickwire <command> [options]\n\ncommands:\n${lines.join('\n')}\n\n` +
    '`tickwire help COMMAND` (or `tickwire COMMAND --help`) shows the options of a command; through npx: `npx tickwire help`.\n'
  );
}

export async function dispatch(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    const topic = name === 'help' ? rest[0] : undefined;
    if (topic !== undefined && rest.length === 1 && COMMANDS[topic]) return dispatch([topic, '--help']);
    if (topic !== undefined) {
      process.stderr.write(`tickwire help: unknown command '${rest.join(' ')}'\n\n${help()}`);
      return 2;
    }
    process.stdout.write(help());
    return name ? 0 : 2;
  }
  const cmd = COMMANDS[name];
  if (!cmd) {
    process.stderr.write(`tickwire: unknown command '${name}'\n\n${help()}`);
    return 2;
  }
  const mod = await cmd.load();
  return mod.main(OWN_ARGV.has(name) ? rest : [name, ...rest]);
}
