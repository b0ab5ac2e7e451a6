// One server process for bench/rpc, chosen by argv[2]:
//   bare — a hand-written grpc-js server for EchoService (the baseline)
//   fti  — the platform's server runtime (grpc-js adapter + connect-node web port)
// Prints "ready <grpcPort> <webPort>" when listening.
import * as grpc from "@grpc/grpc-js";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { EchoRequestSchema, EchoResponseSchema, EchoService } from "@fti/proto/fti/testing/v1/echo_pb";
import { silentLogger } from "@fti/logger";
import { createServer, service } from "@fti/server";

const kind = process.argv[2];

if (kind === "bare") {
  const server = new grpc.Server();
  server.addService(
    {
      Echo: {
        path: "/fti.testing.v1.EchoService/Echo",
        requestStream: false,
        responseStream: false,
        requestSerialize: (m: unknown) => Buffer.from(toBinary(EchoRequestSchema, m as never)),
        requestDeserialize: (b: Buffer) => fromBinary(EchoRequestSchema, b),
        responseSerialize: (m: unknown) => Buffer.from(toBinary(EchoResponseSchema, m as never)),
        responseDeserialize: (b: Buffer) => fromBinary(EchoResponseSchema, b),
      },
    },
    {
      Echo: (call: grpc.ServerUnaryCall<{ message: string }, unknown>, cb: grpc.sendUnaryData<unknown>) => cb(null, create(EchoResponseSchema, { message: call.request.message })),
    },
  );
  server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err, port) => {
    if (err) throw err;
    console.log(`ready ${port} 0`);
  });
} else if (kind === "fti") {
  const running = await createServer({
    name: "bench",
    services: [service(EchoService, { echo: (req) => ({ message: req.message }) })],
    logger: silentLogger,
  }).listen({ grpcPort: 0, webPort: 0 });
  console.log(`ready ${running.grpcPort} ${running.webPort}`);
} else {
  console.error("usage: servers.ts bare|fti");
  process.exit(2);
}
process.on("SIGINT", () => process.exit(0));
