/**
 * The first step of a command's `main`: parse its arguments into options, or print `--help` (exit 0) or the usage
 * error with the help (exit 2). A parser returns the options object, 'help', or an error message (or throws one).
 */
export function parseOrExit<T extends object>(name: string, help: string, argv: string[], parse: (argv: string[]) => T | string): T | number {
  let o: T | string;
  try {
    o = parse(argv);
  } catch (e) {
    o = (e as Error).message;
  }
  if (o === 'help') {
    process.stdout.write(help);
    return 0;
  }
  if (typeof o === 'string') {
    process.stderr.write(`tickwire ${name}: ${o}\n\n${help}`);
    return 2;
  }
  return o;
}
