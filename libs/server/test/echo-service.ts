// The EchoService implementation used by the server tests and bench/rpc.
import { Code, ConnectError, type ServiceImpl } from "@connectrpc/connect";
import { create } from "@bufbuild/protobuf";
import { BinaryWriter, WireType } from "@bufbuild/protobuf/wire";
import { EchoResponseSchema, EchoService } from "@fti/proto/fti/testing/v1/echo_pb";
import { InvalidArgumentError, UnavailableError } from "@fti/errors";

export const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener("abort", () => {
      clearTimeout(t);
      reject(signal.reason);
    }, { once: true });
  });

export interface EchoProbe {
  /** How many handlers saw their signal aborted (deadline, cancel, shutdown). */
  aborted: number;
  completed: number;
  /** Server streams whose handler has ended (completed, failed or abandoned). */
  streamsEnded?: number;
}

export function echoService(probe: EchoProbe = { aborted: 0, completed: 0 }): Partial<ServiceImpl<typeof EchoService>> {
  return {
    async echo(req, ctx) {
      if (req.delayMs > 0) {
        try {
          await sleep(req.delayMs, ctx.signal);
        } catch (err) {
          probe.aborted++;
          throw err;
        }
      }
      if (req.failCode === Code.InvalidArgument) throw InvalidArgumentError.field("message", `"${req.message}" is not acceptable`);
      if (req.failCode === Code.Internal) throw new Error("secret internal detail: relation users does not exist");
      if (req.failCode === Code.Unavailable) {
        // As a store's driver reports an outage: its message, then its inner errors' stacks.
        throw new UnavailableError("the echo store is unavailable", { cause: new Error("All connections to host 127.0.0.1:9042 are busy\n    at HostConnectionPool.borrowConnection (pool.js:115:13)") });
      }
      if (req.failCode !== 0) throw new ConnectError(`asked to fail with ${req.failCode}`, req.failCode as Code);
      ctx.responseTrailer.set("x-echo-length", String(req.message.length));
      probe.completed++;
      if (req.message.startsWith("pre-encoded:")) {
        // The way large responses skip the generic encoder: field 1 as raw bytes.
        const response = create(EchoResponseSchema, {});
        response.$unknown = [{ no: 1, wireType: WireType.LengthDelimited, data: new BinaryWriter().string(req.message.slice(12)).finish() }];
        return response;
      }
      return { message: req.message };
    },
    async *serverStream(req, ctx) {
      try {
        for (let i = 0; i < req.count; i++) {
          if (req.delayMs > 0) await sleep(req.delayMs, ctx.signal);
          yield { message: req.message, index: i };
        }
      } finally {
        probe.streamsEnded = (probe.streamsEnded ?? 0) + 1;
      }
    },
    async clientStream(requests) {
      const parts: string[] = [];
      for await (const r of requests) parts.push(r.message);
      return { message: parts.join(" "), count: parts.length };
    },
    async *bidiStream(requests) {
      for await (const r of requests) yield { message: r.message };
    },
  };
}
