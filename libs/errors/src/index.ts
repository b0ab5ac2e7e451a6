// Domain errors and their one mapping to gRPC/Connect status codes.
// Logic throws these; the server library's interceptor turns them into statuses.
// Anything else that escapes a handler is an internal error: logged, never sent.
import { Code, ConnectError } from "@connectrpc/connect";
import { create } from "@bufbuild/protobuf";
import {
  BadRequestSchema,
  PreconditionFailureSchema,
  ResourceInfoSchema,
} from "@fti/proto/google/rpc/error_details_pb";

export interface FieldViolation {
  /** Path to the field, e.g. `feature_group.schema.features[2].type`. */
  field: string;
  /** Why the value is bad, in words a user can act on. */
  description: string;
}

export interface PreconditionViolation {
  type: string;
  subject: string;
  description: string;
}

export abstract class DomainError extends Error {
  abstract readonly code: Code;
  /** Details sent with the status (google.rpc.*), already in wire form. */
  toConnectError(): ConnectError {
    return new ConnectError(this.message, this.code);
  }
}

/** Bad input. Carries every field violation found, so a caller fixes all at once. */
export class InvalidArgumentError extends DomainError {
  readonly code = Code.InvalidArgument;
  readonly violations: FieldViolation[];
  constructor(violations: FieldViolation[] | FieldViolation) {
    const list = Array.isArray(violations) ? violations : [violations];
    super(list.map((v) => `${v.field}: ${v.description}`).join("; "));
    this.violations = list;
  }
  static field(field: string, description: string): InvalidArgumentError {
    return new InvalidArgumentError({ field, description });
  }
  override toConnectError(): ConnectError {
    return new ConnectError(this.message, this.code, undefined, [
      { desc: BadRequestSchema, value: create(BadRequestSchema, { fieldViolations: this.violations }) },
    ]);
  }
}

export class NotFoundError extends DomainError {
  readonly code = Code.NotFound;
  constructor(readonly resourceType: string, readonly resourceName: string) {
    super(`${resourceType} "${resourceName}" not found`);
  }
  override toConnectError(): ConnectError {
    return new ConnectError(this.message, this.code, undefined, [
      { desc: ResourceInfoSchema, value: create(ResourceInfoSchema, { resourceType: this.resourceType, resourceName: this.resourceName }) },
    ]);
  }
}

export class AlreadyExistsError extends DomainError {
  readonly code = Code.AlreadyExists;
  constructor(readonly resourceType: string, readonly resourceName: string) {
    super(`${resourceType} "${resourceName}" already exists`);
  }
  override toConnectError(): ConnectError {
    return new ConnectError(this.message, this.code, undefined, [
      { desc: ResourceInfoSchema, value: create(ResourceInfoSchema, { resourceType: this.resourceType, resourceName: this.resourceName }) },
    ]);
  }
}

/** The request is valid but the system is not in a state that allows it; the message says what to do. */
export class FailedPreconditionError extends DomainError {
  readonly code = Code.FailedPrecondition;
  constructor(message: string, readonly violations: PreconditionViolation[] = []) {
    super(message);
  }
  override toConnectError(): ConnectError {
    const details = this.violations.length
      ? [{ desc: PreconditionFailureSchema, value: create(PreconditionFailureSchema, { violations: this.violations }) }]
      : [];
    return new ConnectError(this.message, this.code, undefined, details);
  }
}

/** A concurrency conflict, e.g. a stale etag: re-read and retry. */
export class AbortedError extends DomainError {
  readonly code = Code.Aborted;
}

/** A dependency (database, NATS, store) cannot be reached; safe to retry later. */
export class UnavailableError extends DomainError {
  readonly code = Code.Unavailable;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** The operation is part of the contract but not built yet. */
export class UnimplementedError extends DomainError {
  readonly code = Code.Unimplemented;
}

/** The caller's deadline passed or it cancelled. */
export class CancelledError extends DomainError {
  readonly code = Code.Canceled;
}

const transientNetworkCodes = new Set(["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EHOSTUNREACH", "ENOTFOUND", "EPIPE"]);

/** True for errors that mean "a dependency is down", from any driver. */
export function isUnavailable(err: unknown): boolean {
  if (err instanceof UnavailableError) return true;
  if (typeof err !== "object" || err === null) return false;
  const e = err as { code?: unknown; message?: unknown };
  if (typeof e.code === "string" && transientNetworkCodes.has(e.code)) return true;
  // Postgres: 57P01..57P03 admin shutdown / cannot connect now; 08xxx connection exceptions.
  if (typeof e.code === "string" && (/^08/.test(e.code) || /^57P0[1-3]$/.test(e.code))) return true;
  const message = typeof e.message === "string" ? e.message : "";
  return /Connection terminated|connection timeout|timeout exceeded when trying to connect|CONNECTION_REFUSED|closed connection/i.test(message);
}

export interface ErrorLogger {
  error(message: string, fields?: Record<string, unknown>): void;
}

/**
 * The one mapping from anything thrown to a status a client sees.
 * Domain errors keep their code, message and details; a dependency outage is
 * UNAVAILABLE; everything else is INTERNAL with a generic message, and the
 * real error goes to the log only.
 */
export function toConnectError(err: unknown, logger?: ErrorLogger, fields: Record<string, unknown> = {}): ConnectError {
  if (err instanceof DomainError) return err.toConnectError();
  if (err instanceof ConnectError) return err;
  if (isUnavailable(err)) {
    logger?.error("dependency unavailable", { ...fields, err: describe(err) });
    return new ConnectError("a dependency of the service is unavailable; retry later", Code.Unavailable);
  }
  if (err instanceof Error && err.name === "AbortError") {
    return new ConnectError("the call was cancelled", Code.Canceled);
  }
  logger?.error("internal error", { ...fields, err: describe(err) });
  return new ConnectError("internal error", Code.Internal);
}

function describe(err: unknown): Record<string, unknown> | string {
  if (err instanceof Error) return { name: err.name, message: err.message, stack: err.stack, code: (err as { code?: unknown }).code };
  return String(err);
}
