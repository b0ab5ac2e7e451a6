// Where the CLI reads its environment and writes its output. `main` takes one
// so tests run the CLI in-process and read what a user would see.

export interface Output {
  write(text: string): unknown;
  /** True on a terminal: progress bars redraw in place only there. */
  isTTY?: boolean;
}

export interface Io {
  stdout: Output;
  stderr: Output;
  env: Record<string, string | undefined>;
}

export function processIo(): Io {
  return { stdout: process.stdout, stderr: process.stderr, env: process.env };
}
