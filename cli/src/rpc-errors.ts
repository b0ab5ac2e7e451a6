// Turns a failed call into a message that says what to do, and an exit code.
import { Code, ConnectError } from "@connectrpc/connect";
import { BadRequestSchema, PreconditionFailureSchema } from "@fti/proto/google/rpc/error_details_pb";
import { CliError, exitCodes } from "./exit-codes.js";
import type { ServiceName } from "./client.js";

export interface CallContext {
  /** The service called, named in "not reachable" messages. */
  service: ServiceName;
  /** Where the CLI looked for it, e.g. "127.0.0.1 (default port)" or a URL. */
  address: string;
  /** A command that shows what exists, suggested on NOT_FOUND, e.g. "fti list feature-group". */
  listHint?: string;
}

/** The CliError for any error thrown by a call; non-RPC errors pass through. */
export function explainRpcError(err: unknown, ctx: CallContext): CliError {
  if (err instanceof CliError) return err;
  const e = ConnectError.from(err);
  const message = e.rawMessage;
  switch (e.code) {
    case Code.Unavailable:
    case Code.Unimplemented:
      return new CliError(
        `the ${ctx.service} service is not reachable at ${ctx.address} (${message}); start it, or point --${ctx.service} (or --host / FTI_HOST) at it`,
        exitCodes.unavailable,
      );
    case Code.DeadlineExceeded:
      return new CliError(`the ${ctx.service} service did not answer in time (${message}); retry, or raise --timeout`, exitCodes.failure);
    case Code.NotFound:
      return new CliError(`${message}: not found${ctx.listHint ? `; \`${ctx.listHint}\` shows what exists` : ""}`);
    case Code.AlreadyExists:
      return new CliError(`${message}: already exists; choose another name, or \`fti apply\` a definition to change it`);
    case Code.Aborted:
      return new CliError(`${message}: it was changed concurrently by someone else; re-run the command`);
    case Code.InvalidArgument: {
      const violations = e.findDetails(BadRequestSchema).flatMap((d) => d.fieldViolations);
      const lines = violations.map((v) => `  ${v.field}: ${v.description}`);
      return new CliError(lines.length ? `the ${ctx.service} service rejected the request:\n${lines.join("\n")}` : `invalid request: ${message}`);
    }
    case Code.FailedPrecondition: {
      const violations = e.findDetails(PreconditionFailureSchema).flatMap((d) => d.violations);
      const lines = violations.map((v) => `  ${v.subject}: ${v.description}`);
      return new CliError(lines.length ? `${message}\n${lines.join("\n")}` : message);
    }
    case Code.PermissionDenied:
    case Code.Unauthenticated:
      return new CliError(`${message}: not allowed; check your credentials`);
    default:
      return new CliError(`${ctx.service}: ${message} (${Code[e.code]})`);
  }
}

/** True when the error means the service itself is not there (not a failed operation). */
export function isUnavailable(err: unknown): boolean {
  const code = ConnectError.from(err).code;
  return code === Code.Unavailable || code === Code.Unimplemented;
}

export function isNotFound(err: unknown): boolean {
  return ConnectError.from(err).code === Code.NotFound;
}
