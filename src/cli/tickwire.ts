/**
 * `tickwire` command line entry point: runs `dispatch` (src/cli/commands.ts) on the process arguments and sets the
 * exit code.
 */
import { dispatch } from './commands.js';

dispatch(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`tickwire: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
  },
);
