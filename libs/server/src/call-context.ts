// A connect-es HandlerContext for calls arriving over grpc-js. Built for the hot
// path: the abort controller and header objects are created only when a
// handler touches them, so a plain unary call allocates almost nothing here.
import * as grpc from "@grpc/grpc-js";
import type { DescMethod } from "@bufbuild/protobuf";
import { Code, ConnectError, createContextValues, type ContextValues, type HandlerContext } from "@connectrpc/connect";

export interface CallContextInit {
  method: DescMethod;
  protocolName: string;
  /** grpc-js deadline: a Date, or a number of ms since epoch (Infinity = none). */
  deadline: grpc.Deadline;
  readHeaders: () => Headers;
  onDone?: () => void;
}

export interface CallContext extends HandlerContext {
  abort(reason: unknown): void;
  /** True once done() was called. */
  readonly finished: boolean;
  /** Clears the deadline timer. Call when the call ends. */
  done(): void;
  /** Response headers set by the handler, as grpc metadata (undefined if none). */
  headerMetadata(): grpc.Metadata | undefined;
  /** Response trailers set by the handler, as grpc metadata (undefined if none). */
  trailerMetadata(): grpc.Metadata | undefined;
}

export function createCallContext(init: CallContextInit): CallContext {
  let controller: AbortController | undefined;
  let abortReason: unknown;
  let aborted = false;
  let finished = false;
  let requestHeader: Headers | undefined;
  let responseHeader: Headers | undefined;
  let responseTrailer: Headers | undefined;
  let values: ContextValues | undefined;
  const deadlineMs = init.deadline instanceof Date ? init.deadline.getTime() : init.deadline;
  const hasDeadline = Number.isFinite(deadlineMs);

  const abort = (reason: unknown) => {
    if (aborted) return;
    aborted = true;
    abortReason = reason;
    controller?.abort(reason);
  };
  const timer = hasDeadline
    ? setTimeout(() => abort(new ConnectError("the deadline was exceeded", Code.DeadlineExceeded)), Math.max(0, deadlineMs - Date.now()))
    : undefined;

  return {
    method: init.method,
    service: init.method.parent,
    protocolName: init.protocolName,
    requestMethod: "POST",
    url: `/${init.method.parent.typeName}/${init.method.name}`,
    get signal() {
      if (!controller) {
        controller = new AbortController();
        if (aborted) controller.abort(abortReason);
      }
      return controller.signal;
    },
    timeoutMs: () => (hasDeadline ? deadlineMs - Date.now() : undefined),
    get requestHeader() {
      return (requestHeader ??= init.readHeaders());
    },
    get responseHeader() {
      return (responseHeader ??= new Headers());
    },
    get responseTrailer() {
      return (responseTrailer ??= new Headers());
    },
    get values() {
      return (values ??= createContextValues());
    },
    abort,
    get finished() {
      return finished;
    },
    done() {
      if (finished) return;
      finished = true;
      init.onDone?.();
      if (timer) clearTimeout(timer);
    },
    headerMetadata: () => (responseHeader ? headersToMetadata(responseHeader) : undefined),
    trailerMetadata: () => (responseTrailer ? headersToMetadata(responseTrailer) : undefined),
  };
}

function headersToMetadata(headers: Headers): grpc.Metadata {
  const metadata = new grpc.Metadata();
  headers.forEach((value, key) => {
    if (key.endsWith("-bin")) metadata.set(key, Buffer.from(value, "base64"));
    else metadata.set(key, value);
  });
  return metadata;
}
