// Placeholder until its issue lands; replaced by the module's real implementation.
export async function main(_argv: string[]): Promise<number> {
  process.stderr.write('tickwire: this command is not implemented yet\n');
  return 2;
}
