// A grpc-js client for any protobuf-es service: what a third-party gRPC client
// does on the wire (HTTP/2, protobuf bodies, grpc-status trailers).
import * as grpc from "@grpc/grpc-js";
import { create, fromBinary, toBinary, type DescMessage, type DescMethod, type MessageInitShape, type MessageShape } from "@bufbuild/protobuf";

export function grpcChannel(address: string) {
  return new grpc.Client(address, grpc.credentials.createInsecure());
}

const ser = <M extends DescMessage>(schema: M) => (value: MessageInitShape<M>) => Buffer.from(toBinary(schema, create(schema, value)));
const de = <M extends DescMessage>(schema: M) => (bytes: Buffer) => fromBinary(schema, bytes);
const path = (m: DescMethod) => `/${m.parent.typeName}/${m.name}`;

export function unary<I extends DescMessage, O extends DescMessage>(
  client: grpc.Client,
  method: DescMethod & { input: I; output: O },
  request: MessageInitShape<I>,
  options: { deadlineMs?: number; metadata?: grpc.Metadata } = {},
): Promise<{ response: MessageShape<O>; trailers: grpc.Metadata }> {
  return new Promise((resolve, reject) => {
    let result: MessageShape<O> | undefined;
    let error: Error | undefined;
    const call = client.makeUnaryRequest(
      path(method),
      ser(method.input),
      de(method.output) as (b: Buffer) => MessageShape<O>,
      request,
      options.metadata ?? new grpc.Metadata(),
      options.deadlineMs ? { deadline: Date.now() + options.deadlineMs } : {},
      (err, response) => {
        error = err ?? undefined;
        result = response;
      },
    );
    // The status (with trailers) arrives after the callback.
    call.on("status", (s) => (error ? reject(error) : resolve({ response: result!, trailers: s.metadata })));
  });
}

export async function serverStream<I extends DescMessage, O extends DescMessage>(
  client: grpc.Client,
  method: DescMethod & { input: I; output: O },
  request: MessageInitShape<I>,
): Promise<MessageShape<O>[]> {
  const call = client.makeServerStreamRequest(path(method), ser(method.input), de(method.output) as (b: Buffer) => MessageShape<O>, request);
  const out: MessageShape<O>[] = [];
  for await (const m of call) out.push(m as MessageShape<O>);
  return out;
}

export function clientStream<I extends DescMessage, O extends DescMessage>(
  client: grpc.Client,
  method: DescMethod & { input: I; output: O },
  requests: MessageInitShape<I>[],
): Promise<MessageShape<O>> {
  return new Promise((resolve, reject) => {
    const call = client.makeClientStreamRequest(path(method), ser(method.input), de(method.output) as (b: Buffer) => MessageShape<O>, (err, res) => (err ? reject(err) : resolve(res!)));
    for (const r of requests) call.write(r);
    call.end();
  });
}

export async function bidiStream<I extends DescMessage, O extends DescMessage>(
  client: grpc.Client,
  method: DescMethod & { input: I; output: O },
  requests: MessageInitShape<I>[],
): Promise<MessageShape<O>[]> {
  const call = client.makeBidiStreamRequest(path(method), ser(method.input), de(method.output) as (b: Buffer) => MessageShape<O>);
  const out: MessageShape<O>[] = [];
  // Write one, read its answer, so the exchange is really interleaved.
  const iterator = call[Symbol.asyncIterator]();
  for (const r of requests) {
    call.write(r);
    const next = await iterator.next();
    out.push(next.value as MessageShape<O>);
  }
  call.end();
  for (;;) {
    const next = await iterator.next();
    if (next.done) break;
    out.push(next.value as MessageShape<O>);
  }
  return out;
}

/** Sends raw bytes as the request body, to test what a server does with garbage. */
export function unaryRaw(client: grpc.Client, methodPath: string, body: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    client.makeUnaryRequest(methodPath, (b: Buffer) => b, (b: Buffer) => b, body, (err, res) => (err ? reject(err) : resolve(res!)));
  });
}

/** A bidi call that sends every request, half-closes, then reads all responses (for servers that read their whole input first). */
export async function bidiSendAllThenRead<I extends DescMessage, O extends DescMessage>(
  client: grpc.Client,
  method: DescMethod & { input: I; output: O },
  requests: MessageInitShape<I>[],
): Promise<MessageShape<O>[]> {
  const call = client.makeBidiStreamRequest(path(method), ser(method.input), de(method.output) as (b: Buffer) => MessageShape<O>);
  for (const r of requests) call.write(r);
  call.end();
  const out: MessageShape<O>[] = [];
  for await (const m of call) out.push(m as MessageShape<O>);
  return out;
}
