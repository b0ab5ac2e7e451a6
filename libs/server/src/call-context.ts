// A connect-es HandlerContext for calls arriving over grpc-js. Built for the hot
// path: one object per call with its methods on the prototype; the abort
// controller and header objects are created only when a handler touches them.
import * as grpc from "@grpc/grpc-js";
import type { DescMethod, DescService } from "@bufbuild/protobuf";
import { Code, ConnectError, createContextValues, type ContextValues, type HandlerContext } from "@connectrpc/connect";

/** What a grpc-js call says about a client's cancel. */
export interface CancelSource {
  cancelled?: boolean;
  on(event: "cancelled", listener: () => void): unknown;
}

export class GrpcCallContext implements HandlerContext {
  readonly protocolName = "grpc";
  readonly requestMethod = "POST";
  finished = false;
  private controller: AbortController | undefined;
  private aborted = false;
  private abortReason: unknown;
  private timer: NodeJS.Timeout | undefined;
  private readonly deadlineMs: number;
  private requestHeaders: Headers | undefined;
  private responseHeaders: Headers | undefined;
  private responseTrailers: Headers | undefined;
  private contextValues: ContextValues | undefined;
  private cancelSource: CancelSource | undefined;
  /** Links of the listener's in-flight list (InFlightCalls). */
  inFlightPrev: GrpcCallContext | undefined;
  inFlightNext: GrpcCallContext | undefined;

  constructor(
    readonly method: DescMethod,
    private readonly metadata: grpc.Metadata,
    deadline: grpc.Deadline,
    private readonly onDone: (ctx: GrpcCallContext) => void,
  ) {
    this.deadlineMs = deadline instanceof Date ? deadline.getTime() : deadline;
    if (Number.isFinite(this.deadlineMs)) {
      this.timer = setTimeout(() => this.abort(new ConnectError("the deadline was exceeded", Code.DeadlineExceeded)), Math.max(0, this.deadlineMs - Date.now()));
    }
  }

  get service(): DescService {
    return this.method.parent;
  }
  get url(): string {
    return `/${this.method.parent.typeName}/${this.method.name}`;
  }
  get signal(): AbortSignal {
    if (!this.controller) {
      this.controller = new AbortController();
      if (this.aborted) this.controller.abort(this.abortReason);
      this.listenForCancel();
    }
    return this.controller.signal;
  }

  /**
   * Aborts this context when the client cancels `call`. Only the signal can
   * show a cancel, so the listener is added only once a handler has read it:
   * a handler that never does costs none.
   */
  watchCancel(call: CancelSource): void {
    this.cancelSource = call;
    if (this.controller) this.listenForCancel();
  }

  private listenForCancel() {
    const call = this.cancelSource;
    if (!call || this.finished) return;
    if (call.cancelled) this.abort(new ConnectError("the client cancelled the call", Code.Canceled));
    // grpc-js also emits "cancelled" after many normal completions: a finished call is left alone.
    call.on("cancelled", () => {
      if (!this.finished) this.abort(new ConnectError("the client cancelled the call", Code.Canceled));
    });
  }
  timeoutMs = (): number | undefined => (Number.isFinite(this.deadlineMs) ? this.deadlineMs - Date.now() : undefined);
  get requestHeader(): Headers {
    return (this.requestHeaders ??= metadataToHeaders(this.metadata));
  }
  get responseHeader(): Headers {
    return (this.responseHeaders ??= new Headers());
  }
  get responseTrailer(): Headers {
    return (this.responseTrailers ??= new Headers());
  }
  get values(): ContextValues {
    return (this.contextValues ??= createContextValues());
  }

  abort(reason: unknown): void {
    if (this.aborted) return;
    this.aborted = true;
    this.abortReason = reason;
    this.controller?.abort(reason);
  }

  /** Clears the deadline timer; idempotent. Call when the call ends. */
  done(): void {
    if (this.finished) return;
    this.finished = true;
    if (this.timer) clearTimeout(this.timer);
    this.onDone(this);
  }

  /** Response headers set by the handler, as grpc metadata (undefined if none). */
  headerMetadata(): grpc.Metadata | undefined {
    return this.responseHeaders ? headersToMetadata(this.responseHeaders) : undefined;
  }

  /** Response trailers set by the handler, as grpc metadata (undefined if none). */
  trailerMetadata(): grpc.Metadata | undefined {
    return this.responseTrailers ? headersToMetadata(this.responseTrailers) : undefined;
  }
}

function metadataToHeaders(metadata: grpc.Metadata): Headers {
  const headers = new Headers();
  for (const [key, value] of Object.entries(metadata.getMap())) {
    if (key.endsWith("-bin")) headers.set(key, Buffer.from(value as Buffer).toString("base64"));
    else headers.set(key, String(value));
  }
  return headers;
}

function headersToMetadata(headers: Headers): grpc.Metadata {
  const metadata = new grpc.Metadata();
  headers.forEach((value, key) => {
    if (key.endsWith("-bin")) metadata.set(key, Buffer.from(value, "base64"));
    else metadata.set(key, value);
  });
  return metadata;
}
