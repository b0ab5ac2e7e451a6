// The direct FeatureColumn encoder against the generated code: every scalar
// type, nulls, an embedding (the fallback path), with and without event times.
import { describe, expect, it } from "vitest";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { GetFeatureVectorsResponseSchema } from "@fti/proto/fti/serving/v1/serving_pb";
import { recordBatchMessage } from "@fti/record-batch";
import type { FeatureType, Value } from "@fti/schema";
import type { VectorColumn } from "../src/feature-vectors.js";
import { appendFeatureColumns } from "../src/vector-encoding.js";

const column = (name: string, type: FeatureType, values: Value[]): VectorColumn => ({
  name,
  type,
  values,
  statuses: Uint8Array.from(values.map((v) => (v === null ? 2 : 1))),
  eventMicros: BigInt64Array.from(values.map((_, i) => BigInt(i + 1) * 1_000_000n)),
});

const columns = [
  column("b", "bool", [true, null, false]),
  column("i", "int32", [1, -2, null]),
  column("l", "int64", [null, 2n ** 40n, -3n]),
  column("f", "float", [1.5, null, -0.25]),
  column("d", "double", [Math.PI, 1e300, null]),
  column("s", "string", ["héllo", null, ""]),
  column("y", "bytes", [new Uint8Array([1, 2]), null, new Uint8Array(0)]),
  column("t", "timestamp", [new Date(1_700_000_000_123), null, new Date(0)]),
  column("e", { embedding: 2 }, [Float32Array.of(1, 2), null, Float32Array.of(-1, 0.5)]),
];

describe("appendFeatureColumns", () => {
  for (const withTimes of [true, false]) {
    it(`writes what the generated encoder writes (event times: ${withTimes})`, () => {
      const direct = create(GetFeatureVectorsResponseSchema, { featureView: "v" });
      appendFeatureColumns(direct, 3, 3, columns, withTimes);
      const generic = create(GetFeatureVectorsResponseSchema, {
        featureView: "v",
        features: columns.map((c) => ({
          values: recordBatchMessage(3, [c]).columns[0],
          statuses: Array.from(c.statuses),
          eventTimeMicros: withTimes ? Array.from(c.eventMicros) : [],
        })),
      });
      const bytes = toBinary(GetFeatureVectorsResponseSchema, direct);
      expect(Buffer.from(bytes).equals(Buffer.from(toBinary(GetFeatureVectorsResponseSchema, generic)))).toBe(true);
      expect(fromBinary(GetFeatureVectorsResponseSchema, bytes).features).toHaveLength(columns.length);
    });
  }

  it("encodes many columns (past its reused size arrays) with the fallback among them, and a smaller call after", () => {
    const many = Array.from({ length: 150 }, (_, i) => (i === 0 ? columns[8]! : i === 75 ? columns[8]! : columns[(i % 8)]!)).map((c, i) => ({ ...c, name: `${c.name}${i}` }));
    for (const set of [many, columns.slice(0, 2)]) {
      const direct = create(GetFeatureVectorsResponseSchema, { featureView: "v" });
      appendFeatureColumns(direct, 3, 3, set, true);
      const generic = create(GetFeatureVectorsResponseSchema, {
        featureView: "v",
        features: set.map((c) => ({ values: recordBatchMessage(3, [c]).columns[0], statuses: Array.from(c.statuses), eventTimeMicros: Array.from(c.eventMicros) })),
      });
      expect(Buffer.from(toBinary(GetFeatureVectorsResponseSchema, direct)).equals(Buffer.from(toBinary(GetFeatureVectorsResponseSchema, generic)))).toBe(true);
    }
  });
});
