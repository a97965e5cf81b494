/**
 * The `main` of the processes that run beside the engine and talk only to its control plane (`tickwire bot`,
 * `tickwire watchdog`): `[--config FILE]`, `--help`, the config validated at start (exit 2 naming the field), a
 * logger of their own on stderr, then run until SIGINT/SIGTERM and stop.
 */
import { ConfigError, loadConfig } from '../config/load.js';
import type { Config } from '../config/schema.js';
import { createLogger, flushLogs, setRootLogger } from '../util/log.js';

export async function sidecarMain(name: string, help: string, argv: string[], start: (cfg: Config) => Promise<{ stop(): Promise<void> }>): Promise<number> {
  let config: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    if (a === '--help' || a === '-h') {
      process.stdout.write(help);
      return 0;
    }
    if (a === '--config' && argv[i + 1] !== undefined) config = argv[++i];
    else if (a.startsWith('--config=')) config = a.slice('--config='.length);
    else {
      process.stderr.write(`tickwire ${name}: unknown option ${a}\n\n${help}`);
      return 2;
    }
  }
  let running: { stop(): Promise<void> };
  try {
    const cfg = loadConfig({ file: config, env: process.env });
    setRootLogger(createLogger({ level: cfg.log.level, destinations: [{ to: 'stderr', level: cfg.log.level }], name: `tickwire-${name}` }));
    running = await start(cfg);
  } catch (e) {
    process.stderr.write(`tickwire ${name}: ${(e as Error).message}\n`);
    return e instanceof ConfigError ? 2 : 1;
  }
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await running.stop();
  flushLogs();
  return 0;
}
