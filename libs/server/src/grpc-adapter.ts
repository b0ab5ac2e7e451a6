// One small generic adapter: a protobuf-es service (descriptor + connect-es
// style implementation) becomes a grpc-js service definition and handlers.
// Requests are parsed here rather than by grpc-js, so a malformed message is
// INVALID_ARGUMENT (grpc-js would answer INTERNAL), and statuses carry
// google.rpc.Status details in `grpc-status-details-bin` like every gRPC server.
import * as grpc from "@grpc/grpc-js";
import { create, toBinary, type DescMessage, type DescMethod, type MessageShape } from "@bufbuild/protobuf";
import { anyPack } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError, type MethodImplSpec, type ServiceImplSpec } from "@connectrpc/connect";
import { StatusSchema } from "@fti/proto/google/rpc/status_pb";
import { GrpcCallContext } from "./call-context.js";
import { messageDecoder } from "./message-decoder.js";
import { messageEncoder } from "./message-encoder.js";

const identity = (value: Buffer) => value;

export interface GrpcServiceOptions {
  /** Tracks calls in progress, so shutdown knows when draining is done and what to cancel. */
  inFlight: InFlightCalls;
}

/**
 * The calls a listener is handling now, as a list threaded through the calls
 * themselves. Not a Set: a long-lived Set with calls coming and going rehashes
 * into new tables, and each replaced table (in old space once promoted) keeps
 * the calls it held reachable for the young-generation GC until the next full
 * GC. That promoted every call's objects and made full GCs frequent.
 * A removed call drops its links for the same reason.
 */
export class InFlightCalls {
  private head: GrpcCallContext | undefined;
  private count = 0;
  readonly onDone = (ctx: GrpcCallContext) => this.delete(ctx);
  private waiters: (() => void)[] = [];
  get size() {
    return this.count;
  }
  add(ctx: GrpcCallContext) {
    ctx.inFlightNext = this.head;
    if (this.head) this.head.inFlightPrev = ctx;
    this.head = ctx;
    this.count++;
  }
  delete(ctx: GrpcCallContext) {
    if (ctx.inFlightPrev === undefined && this.head !== ctx) return; // not in the list
    if (ctx.inFlightPrev) ctx.inFlightPrev.inFlightNext = ctx.inFlightNext;
    else this.head = ctx.inFlightNext;
    if (ctx.inFlightNext) ctx.inFlightNext.inFlightPrev = ctx.inFlightPrev;
    ctx.inFlightPrev = ctx.inFlightNext = undefined;
    if (--this.count === 0) for (const w of this.waiters.splice(0)) w();
  }
  /** Cancels every call still running (the shutdown grace period is over). */
  abortAll() {
    const calls: GrpcCallContext[] = [];
    for (let c = this.head; c; c = c.inFlightNext) calls.push(c);
    for (const ctx of calls) ctx.abort(new ConnectError("the server is shutting down", Code.Unavailable));
  }
  /** Resolves once no call is in progress. */
  drained(): Promise<void> {
    return this.count === 0 ? Promise.resolve() : new Promise((resolve) => this.waiters.push(resolve));
  }
}

export function toGrpcService(spec: ServiceImplSpec, options: GrpcServiceOptions) {
  const definition: Record<string, grpc.MethodDefinition<Buffer, Buffer>> = {};
  const handlers: grpc.UntypedServiceImplementation = {};
  for (const method of spec.service.methods) {
    const impl = spec.methods[method.localName];
    if (!impl) continue;
    definition[method.name] = {
      path: `/${spec.service.typeName}/${method.name}`,
      requestStream: method.methodKind === "client_streaming" || method.methodKind === "bidi_streaming",
      responseStream: method.methodKind === "server_streaming" || method.methodKind === "bidi_streaming",
      requestSerialize: identity,
      requestDeserialize: identity,
      responseSerialize: identity,
      responseDeserialize: identity,
      originalName: method.localName,
    };
    handlers[method.name] = handlerFor(impl, options);
  }
  return { definition: definition as grpc.ServiceDefinition, handlers };
}

type AnyCall = grpc.ServerUnaryCall<Buffer, Buffer> | grpc.ServerReadableStream<Buffer, Buffer> | grpc.ServerWritableStream<Buffer, Buffer> | grpc.ServerDuplexStream<Buffer, Buffer>;

function contextFor(call: AnyCall, method: DescMethod, { inFlight }: GrpcServiceOptions) {
  const ctx = new GrpcCallContext(method, call.metadata, call.getDeadline(), inFlight.onDone);
  inFlight.add(ctx);
  return ctx;
}

/** Ends a unary or client-streaming call; module-level so the sync path allocates no closures. */
function finishUnary(call: AnyCall, ctx: GrpcCallContext, callback: grpc.sendUnaryData<Buffer>, output: DescMessage, failed: boolean, value: unknown) {
  let bytes: Buffer | undefined;
  if (!failed) {
    try {
      bytes = serializeResponse(output, value);
    } catch (err) {
      failed = true;
      value = err;
    }
  }
  ctx.done();
  if (failed) return callback(toServiceError(value, ctx.trailerMetadata()));
  sendHeaders(call, ctx);
  callback(null, bytes, ctx.trailerMetadata());
}

function handlerFor(spec: MethodImplSpec, options: GrpcServiceOptions): grpc.UntypedHandleCall {
  const { method } = spec;
  const decode = messageDecoder(method.input);
  const parse = (bytes: Buffer) => parseRequest(method.input, decode, bytes);
  const serialize = (init: unknown) => serializeResponse(method.output, init);
  switch (spec.kind) {
    case "unary":
      // No promise and no closure unless the handler returns a promise: the hottest path.
      return (call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) => {
        const ctx = contextFor(call, method, options);
        let result: unknown;
        try {
          result = spec.impl(parse(call.request), ctx);
        } catch (err) {
          return finishUnary(call, ctx, callback, method.output, true, err);
        }
        if (typeof (result as PromiseLike<unknown> | undefined)?.then !== "function") return finishUnary(call, ctx, callback, method.output, false, result);
        // Only a call that goes async can see a cancel (grpc-js reports it on a later tick).
        ctx.watchCancel(call);
        (result as PromiseLike<unknown>).then(
          (value) => finishUnary(call, ctx, callback, method.output, false, value),
          (err) => finishUnary(call, ctx, callback, method.output, true, err),
        );
      };
    case "server_streaming":
      return (call: grpc.ServerWritableStream<Buffer, Buffer>) => {
        const ctx = contextFor(call, method, options);
        ctx.watchCancel(call);
        run(async () => {
          const request = parse(call.request);
          await writeAll(call, spec.impl(request, ctx), serialize, ctx);
        })
          .then(
            () => call.end(ctx.trailerMetadata()),
            (err) => call.emit("error", toServiceError(err, ctx.trailerMetadata())),
          )
          .finally(() => ctx.done());
      };
    case "client_streaming":
      return (call: grpc.ServerReadableStream<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) => {
        const ctx = contextFor(call, method, options);
        ctx.watchCancel(call);
        run(() => spec.impl(readAll(call, parse), ctx)).then(
          (value) => finishUnary(call, ctx, callback, method.output, false, value),
          (err) => finishUnary(call, ctx, callback, method.output, true, err),
        );
      };
    case "bidi_streaming":
      return (call: grpc.ServerDuplexStream<Buffer, Buffer>) => {
        const ctx = contextFor(call, method, options);
        ctx.watchCancel(call);
        run(() => writeAll(call, spec.impl(readAll(call, parse), ctx), serialize, ctx))
          .then(
            () => call.end(ctx.trailerMetadata()),
            (err) => call.emit("error", toServiceError(err, ctx.trailerMetadata())),
          )
          .finally(() => ctx.done());
      };
  }
}

/** Runs a handler so that a synchronous throw becomes a rejection. */
function run<T>(fn: () => Promise<T> | T): Promise<T> {
  try {
    return Promise.resolve(fn());
  } catch (err) {
    return Promise.reject(err);
  }
}

function parseRequest<I extends DescMessage>(schema: I, decode: (bytes: Uint8Array) => MessageShape<I>, bytes: Buffer): MessageShape<I> {
  try {
    return decode(bytes);
  } catch (err) {
    throw new ConnectError(`request is not a valid ${schema.typeName}: ${err instanceof Error ? err.message : String(err)}`, Code.InvalidArgument);
  }
}

function serializeResponse(schema: DescMessage, init: unknown): Buffer {
  const bytes = messageEncoder(schema)(create(schema, init as never));
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

async function* readAll<T>(call: grpc.ServerReadableStream<Buffer, Buffer> | grpc.ServerDuplexStream<Buffer, Buffer>, parse: (b: Buffer) => T): AsyncIterable<T> {
  // Not a plain for-await: that destroys the duplex when reading ends, which
  // would drop the responses and status still to be written.
  for await (const chunk of call.iterator({ destroyOnReturn: false }) as AsyncIterable<Buffer>) yield parse(chunk);
}

async function writeAll(
  call: grpc.ServerWritableStream<Buffer, Buffer> | grpc.ServerDuplexStream<Buffer, Buffer>,
  responses: AsyncIterable<unknown>,
  serialize: (init: unknown) => Buffer,
  ctx: GrpcCallContext,
): Promise<void> {
  let first = true;
  for await (const response of responses) {
    if (first) {
      sendHeaders(call, ctx);
      first = false;
    }
    if (ctx.signal.aborted) throw ctx.signal.reason ?? new ConnectError("call aborted", Code.Canceled);
    // Respect HTTP/2 flow control: a slow client pauses the producer.
    if (!call.write(serialize(response))) await drained(call, ctx.signal);
  }
}

/** Waits for the stream to take more data, or for the call to end (a client that stopped reading and cancelled). */
function drained(call: grpc.ServerWritableStream<Buffer, Buffer> | grpc.ServerDuplexStream<Buffer, Buffer>, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<void>((resolve, reject) => {
    const onDrain = () => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    };
    const onAbort = () => {
      call.off("drain", onDrain);
      reject(signal.reason);
    };
    call.once("drain", onDrain);
    signal.addEventListener("abort", onAbort, { once: true });
  });
}

function sendHeaders(call: AnyCall, ctx: GrpcCallContext) {
  const headers = ctx.headerMetadata();
  if (headers) call.sendMetadata(headers);
}

/** A thrown value as a grpc-js status, with google.rpc.Status details. */
export function toServiceError(err: unknown, trailers?: grpc.Metadata): Partial<grpc.StatusObject> {
  const connectError = ConnectError.from(err);
  const metadata = trailers ?? new grpc.Metadata();
  for (const [key, value] of connectError.metadata) if (!key.startsWith("grpc-")) metadata.set(key, value);
  const details = connectError.details.map((d) =>
    "desc" in d ? anyPack(d.desc, create(d.desc, d.value as never)) : { $typeName: "google.protobuf.Any" as const, typeUrl: `type.googleapis.com/${d.type}`, value: d.value },
  );
  if (details.length) {
    const status = create(StatusSchema, { code: connectError.code, message: connectError.rawMessage, details });
    metadata.set("grpc-status-details-bin", Buffer.from(toBinary(StatusSchema, status)));
  }
  return { code: connectError.code as number as grpc.status, details: connectError.rawMessage, metadata };
}
