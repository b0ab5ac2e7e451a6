// The server's UTF-8 encoder for protobuf-es against TextEncoder, and that
// createServer installs it.
import { describe, expect, it } from "vitest";
import { create, toBinary } from "@bufbuild/protobuf";
import { getTextEncoding } from "@bufbuild/protobuf/wire";
import { EchoRequestSchema, EchoService } from "@fti/proto/fti/testing/v1/echo_pb";
import { silentLogger } from "@fti/logger";
import { createServer, service } from "../src/index.js";
import { encodeUtf8 } from "../src/text-encoding.js";

const samples = ["", "a", "projects/shop/deployments/fraud", "x".repeat(64), "y".repeat(65), "héllo", "日本", "emoji 😀", "\u0000\u007f", "lone \ud800 surrogate", "end \udc00", `${"z".repeat(63)}é`];

describe("encodeUtf8", () => {
  it("writes the bytes TextEncoder writes", () => {
    const reference = new TextEncoder();
    for (const s of samples) expect(Buffer.from(encodeUtf8(s)).equals(Buffer.from(reference.encode(s))), JSON.stringify(s)).toBe(true);
  });

  it("is what protobuf-es encodes with once a server exists, and messages come out the same", () => {
    const message = create(EchoRequestSchema, { message: "projects/shop/deployments/fraud é" });
    const before = toBinary(EchoRequestSchema, message);
    createServer({ name: "text-encoding-test", services: [service(EchoService, { echo: (req) => ({ message: req.message }) })], logger: silentLogger });
    expect(getTextEncoding().encodeUtf8).toBe(encodeUtf8);
    expect(Buffer.from(toBinary(EchoRequestSchema, message)).equals(Buffer.from(before))).toBe(true);
  });
});
