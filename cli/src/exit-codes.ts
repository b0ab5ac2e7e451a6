// Exit codes scripts can rely on. 69 is sysexits.h EX_UNAVAILABLE.
export const exitCodes = {
  ok: 0,
  failure: 1,
  usage: 2,
  planHasChanges: 3,
  unavailable: 69,
} as const;

export type ExitCode = (typeof exitCodes)[keyof typeof exitCodes];

/** An error the CLI reports as one message and an exit code, without a stack trace. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: ExitCode = exitCodes.failure,
  ) {
    super(message);
  }
}

/** Bad arguments or definitions: exit code 2. */
export class UsageError extends CliError {
  constructor(message: string) {
    super(message, exitCodes.usage);
  }
}
