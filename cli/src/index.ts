/** Runs the CLI with these arguments; resolves to the process exit code. */
export async function main(_args: string[]): Promise<number> {
  return 0;
}
