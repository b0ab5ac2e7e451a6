// fti: the command line of the FTI Platform. `main` parses the arguments,
// runs one command and resolves to its exit code; it never calls
// process.exit, so tests run it in-process.
import { parseArgs } from "node:util";
import { createContext, globalOptions, serviceNames, type GlobalValues } from "./client.js";
import type { Command, Parsed } from "./command.js";
import { commands } from "./commands/index.js";
import { CliError, exitCodes, UsageError } from "./exit-codes.js";
import { processIo, type Io } from "./io.js";

export { exitCodes } from "./exit-codes.js";
export type { Io } from "./io.js";

const globalHelp = [
  ["--project, -p <name>", "project of short names (or FTI_PROJECT)"],
  ["--output, -o table|json", "human tables (default) or JSON for scripts"],
  ["--host <host>", "host of every service on its default ports (or FTI_HOST; default 127.0.0.1)"],
  [`--<service> <url>`, `one service's URL (${serviceNames.join(", ")}; or FTI_<SERVICE>_URL)`],
  ["--protocol grpc|connect", "gRPC ports (default) or the Connect web ports"],
  ["--timeout <duration>", "deadline of each call, e.g. 30s (default) or 2m"],
  ["--help, -h", "help for fti or a command"],
];

function usage(): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  return [
    "fti — the command line of the FTI Platform",
    "",
    "Usage: fti <command> [arguments] [flags]",
    "",
    "Commands:",
    ...commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    `  ${"help".padEnd(width)}  this help, or \`fti help <command>\``,
    "",
    "Global flags:",
    ...globalHelp.map(([f, d]) => `  ${f!.padEnd(26)} ${d}`),
    "",
    "Exit codes: 0 ok, 1 the operation failed, 2 usage or definition error, 3 `fti plan --detailed-exitcode` found changes, 69 a service is unavailable.",
    "",
  ].join("\n");
}

function commandHelp(c: Command): string {
  const options = Object.entries(c.options).map(([name, o]) => `  ${`--${name}${o.short ? `, -${o.short}` : ""}${o.type === "string" ? " <value>" : ""}`.padEnd(28)} ${o.description}`);
  return [`Usage: ${c.usage}`, "", c.summary, ...(c.help ? ["", c.help] : []), ...(options.length ? ["", "Flags:", ...options] : []), "", "Global flags: see `fti help`.", ""].join("\n");
}

/** Runs the CLI with these arguments; resolves to the process exit code. */
export async function main(args: string[], io: Io = processIo()): Promise<number> {
  const [name, ...rest] = args;
  if (name === undefined || name === "help" || name === "--help" || name === "-h") {
    const target = name === "help" && rest[0] ? commands.find((c) => c.name === rest[0]) : undefined;
    if (name === "help" && rest[0] && !target) return fail(io, new UsageError(`unknown command "${rest[0]}"; \`fti help\` lists the commands`));
    io.stdout.write(target ? commandHelp(target) : usage());
    return exitCodes.ok;
  }
  const command = commands.find((c) => c.name === name);
  if (!command) return fail(io, new UsageError(`unknown command "${name}"; \`fti help\` lists the commands`));
  let parsed: Parsed;
  try {
    const options = { ...globalOptions, ...Object.fromEntries(Object.entries(command.options).map(([k, o]) => [k, { type: o.type, ...(o.short ? { short: o.short } : {}), ...(o.multiple ? { multiple: true } : {}) }])) };
    const { values, positionals } = parseArgs({ args: rest, options, allowPositionals: true, strict: true });
    parsed = { values: values as Parsed["values"], positionals };
  } catch (err) {
    return fail(io, new UsageError(`${(err as Error).message.split("\n")[0]}; \`fti ${command.name} --help\` shows the flags`));
  }
  if (parsed.values.help) {
    io.stdout.write(commandHelp(command));
    return exitCodes.ok;
  }
  try {
    const ctx = createContext(parsed.values as GlobalValues, io);
    return await command.run(ctx, parsed);
  } catch (err) {
    return fail(io, err);
  }
}

function fail(io: Io, err: unknown): number {
  if (err instanceof CliError) {
    io.stderr.write(`error: ${err.message}\n`);
    return err.exitCode;
  }
  // Not an expected failure: show enough to report it.
  io.stderr.write(`error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  return exitCodes.failure;
}
