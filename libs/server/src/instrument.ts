// The one interceptor every RPC passes through, on both listeners: metrics,
// request logging, and the mapping of anything thrown to a status
// (domain errors keep their code and details; internals are logged, never sent).
import { Code, ConnectError, type HandlerContext, type MethodImplSpec, type ServiceImplSpec } from "@connectrpc/connect";
import { toConnectError } from "@fti/errors";
import type { Logger } from "@fti/logger";
import type { RpcMetrics } from "./metrics.js";

export interface InstrumentOptions {
  listener: string;
  logger: Logger;
  metrics: RpcMetrics;
}

export function instrument(spec: ServiceImplSpec, options: InstrumentOptions): ServiceImplSpec {
  const methods: ServiceImplSpec["methods"] = {};
  for (const [name, method] of Object.entries(spec.methods)) methods[name] = instrumentMethod(method, options);
  return { service: spec.service, methods };
}

const codeName = (code: Code) => Code[code] ?? String(code);

function instrumentMethod(spec: MethodImplSpec, { listener, logger, metrics }: InstrumentOptions): MethodImplSpec {
  const rpc = `${spec.method.parent.typeName}/${spec.method.name}`;
  const fail = (err: unknown, started: number, end: (code: string) => void): ConnectError => {
    const error = toConnectError(err, logger, { rpc, listener });
    end(codeName(error.code));
    const fields = { rpc, listener, code: codeName(error.code), ms: +(performance.now() - started).toFixed(2), error: error.rawMessage };
    if (error.code === Code.Internal || error.code === Code.Unavailable || error.code === Code.Unknown) logger.warn("rpc failed", fields);
    else logger.debug("rpc failed", fields);
    return error;
  };
  const ok = (started: number, end: (code: string) => void) => {
    end("OK");
    logger.debug("rpc ok", { rpc, listener, ms: +(performance.now() - started).toFixed(2) });
  };

  switch (spec.kind) {
    case "unary":
    case "client_streaming": {
      const impl = spec.impl as (req: unknown, ctx: HandlerContext) => unknown;
      const wrapped = async (req: unknown, ctx: HandlerContext) => {
        const started = performance.now();
        const end = metrics.startCall(listener, rpc);
        try {
          const res = await impl(req, ctx);
          ok(started, end);
          return res;
        } catch (err) {
          throw fail(err, started, end);
        }
      };
      return { ...spec, impl: wrapped } as MethodImplSpec;
    }
    case "server_streaming":
    case "bidi_streaming": {
      const impl = spec.impl as (req: unknown, ctx: HandlerContext) => AsyncIterable<unknown>;
      const wrapped = async function* (req: unknown, ctx: HandlerContext) {
        const started = performance.now();
        const end = metrics.startCall(listener, rpc);
        let settled = false;
        try {
          yield* impl(req, ctx);
          settled = true;
          ok(started, end);
        } catch (err) {
          settled = true;
          throw fail(err, started, end);
        } finally {
          // The caller went away mid-stream (cancel, deadline): still count the call.
          if (!settled) end(codeName(Code.Canceled));
        }
      };
      return { ...spec, impl: wrapped } as MethodImplSpec;
    }
  }
}
