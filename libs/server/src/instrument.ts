// The one interceptor every RPC passes through, on both listeners: metrics,
// request logging, and the mapping of anything thrown to a status
// (domain errors keep their code and details; internals are logged, never sent).
// It sits on the hot path of every call, so a handler that answers
// synchronously is not made to pay for promises it does not use.
import { create, fromBinary, toBinary, type DescMessage } from "@bufbuild/protobuf";
import { Code, ConnectError, type HandlerContext, type MethodImplSpec, type ServiceImplSpec } from "@connectrpc/connect";
import { toConnectError } from "@fti/errors";
import type { Logger } from "@fti/logger";
import type { RpcMetrics } from "./metrics.js";

export interface InstrumentOptions {
  listener: string;
  logger: Logger;
  metrics: RpcMetrics;
  /** Log every call (debug level); failures are logged regardless. */
  logRequests?: boolean;
}

/**
 * Handlers may return large fields already encoded (`$unknown`, see
 * @fti/record-batch withEncodedField): binary clients read them as the field,
 * but JSON serialization skips unknown fields. For a JSON client the message
 * is read back once, turning those bytes into the real field.
 */
function forJsonClient(output: DescMessage, ctx: HandlerContext, value: unknown): unknown {
  const unknown = (value as { $unknown?: unknown[] } | undefined)?.$unknown;
  if (!unknown?.length || !(ctx.requestHeader.get("content-type") ?? "").includes("json")) return value;
  return fromBinary(output, toBinary(output, create(output, value as never)));
}

export function instrument(spec: ServiceImplSpec, options: InstrumentOptions): ServiceImplSpec {
  const methods: ServiceImplSpec["methods"] = {};
  for (const [name, method] of Object.entries(spec.methods)) methods[name] = instrumentMethod(method, options);
  return { service: spec.service, methods };
}

const codeName = (code: Code) => Code[code] ?? String(code);

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as PromiseLike<unknown> | undefined)?.then === "function";
}

function instrumentMethod(spec: MethodImplSpec, { listener, logger, metrics, logRequests }: InstrumentOptions): MethodImplSpec {
  const rpc = `${spec.method.parent.typeName}/${spec.method.name}`;
  const m = metrics.forMethod(listener, rpc);
  const fail = (err: unknown, started: number): ConnectError => {
    const error = toConnectError(err, logger, { rpc, listener });
    m.end(started, codeName(error.code));
    const fields = { rpc, listener, code: codeName(error.code), ms: +(performance.now() - started).toFixed(2), error: error.rawMessage };
    if (error.code === Code.Internal || error.code === Code.Unavailable || error.code === Code.Unknown) {
      // What a driver said about an outage (no host, all connections busy,
      // a timeout) is for the operator, not the client: its first line (some
      // drivers append their inner errors' stacks).
      const cause = (err as { cause?: unknown } | undefined)?.cause;
      logger.warn("rpc failed", cause instanceof Error ? { ...fields, cause: cause.message.split("\n", 1)[0] } : fields);
    } else if (logRequests) logger.debug("rpc failed", fields);
    return error;
  };
  const ok = (started: number) => {
    m.end(started, "OK");
    if (logRequests) logger.debug("rpc ok", { rpc, listener, ms: +(performance.now() - started).toFixed(2) });
  };

  switch (spec.kind) {
    case "unary":
    case "client_streaming": {
      const handler = spec.impl as (req: unknown, ctx: HandlerContext) => unknown;
      const output = spec.method.output;
      const impl = listener === "web" ? (req: unknown, ctx: HandlerContext) => {
        const r = handler(req, ctx);
        return isPromiseLike(r) ? Promise.resolve(r).then((v) => forJsonClient(output, ctx, v)) : forJsonClient(output, ctx, r);
      } : handler;
      const wrapped = (req: unknown, ctx: HandlerContext) => {
        const started = m.start();
        let result: unknown;
        try {
          result = impl(req, ctx);
        } catch (err) {
          throw fail(err, started);
        }
        if (!isPromiseLike(result)) {
          ok(started);
          return result;
        }
        return Promise.resolve(result).then(
          (value) => {
            ok(started);
            return value;
          },
          (err) => {
            throw fail(err, started);
          },
        );
      };
      return { ...spec, impl: wrapped } as MethodImplSpec;
    }
    case "server_streaming":
    case "bidi_streaming": {
      const impl = spec.impl as (req: unknown, ctx: HandlerContext) => AsyncIterable<unknown>;
      const output = spec.method.output;
      const wrapped = async function* (req: unknown, ctx: HandlerContext) {
        const started = m.start();
        let settled = false;
        try {
          if (listener === "web") for await (const message of impl(req, ctx)) yield forJsonClient(output, ctx, message);
          else yield* impl(req, ctx);
          settled = true;
          ok(started);
        } catch (err) {
          settled = true;
          throw fail(err, started);
        } finally {
          // The caller went away mid-stream (cancel, deadline): still count the call.
          if (!settled) m.end(started, codeName(Code.Canceled));
        }
      };
      return { ...spec, impl: wrapped } as MethodImplSpec;
    }
  }
}
