/**
 * `tickwire` command line. Each subcommand lives in the module of its concern and exports
 * `main(argv: string[]): Promise<number>` (the exit code); this file only dispatches and prints help.
 * Modules load lazily so that `tickwire status` does not pay for the simulator's startup.
 */
type Main = (argv: string[]) => Promise<number>;

interface Command {
  summary: string;
  load: () => Promise<{ main: Main }>;
}

const COMMANDS: Record<string, Command> = {
  run: { summary: 'run the engine (against the embedded simulator by default)', load: () => import('../core/run.js') },
  sim: { summary: 'run the exchange simulator alone; prints one JSON line with its endpoints', load: () => import('../sim/main.js') },
  status: { summary: 'ask a running engine for its status (control plane)', load: () => import('../control/cli.js') },
  start: { summary: 'resume trading on a running engine', load: () => import('../control/cli.js') },
  stop: { summary: 'stop trading (orders stay) on a running engine', load: () => import('../control/cli.js') },
  kill: { summary: 'kill switch: block orders, cancel everything, halt', load: () => import('../control/cli.js') },
  buy: { summary: 'manual order through the engine: buy VENUE SYMBOL QTY [PRICE]', load: () => import('../control/cli.js') },
  sell: { summary: 'manual order through the engine: sell VENUE SYMBOL QTY [PRICE]', load: () => import('../control/cli.js') },
  reload: { summary: 'reload strategy parameters from the config file', load: () => import('../control/cli.js') },
  hist: { summary: 'latency histogram dumps: merge, print percentiles, plot', load: () => import('../latency/cli.js') },
  'host-check': { summary: 'check core pinning and host tuning against what production demands', load: () => import('../ops/main.js') },
  wire2wire: { summary: 'wire-to-wire latency harness against the simulator', load: () => import('../latency/wire2wire.js') },
};

function help(): string {
  const w = Math.max(...Object.keys(COMMANDS).map((k) => k.length));
  const lines = Object.entries(COMMANDS).map(([k, c]) => `  ${k.padEnd(w)}  ${c.summary}`);
  return `usage: tickwire <command> [options]\n\ncommands:\n${lines.join('\n')}\n\n` + '`tickwire <command> --help` shows the options of a command.\n';
}

async function dispatch(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(help());
    return name ? 0 : 2;
  }
  const cmd = COMMANDS[name];
  if (!cmd) {
    process.stderr.write(`tickwire: unknown command '${name}'\n\n${help()}`);
    return 2;
  }
  const mod = await cmd.load();
  return mod.main(name === 'run' || name === 'sim' || name === 'hist' || name === 'wire2wire' ? rest : [name, ...rest]);
}

dispatch(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`tickwire: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
  },
);
