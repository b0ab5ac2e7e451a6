// YAML scalars as fti.common.v1.Value messages of a feature's type (expectation
// allowed values, imputer fill values).
import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { ValueSchema, type Value } from "@fti/proto/fti/common/v1/types_pb";
import { typeName, type FeatureType } from "@fti/schema";
import type { Reader } from "./reader.js";
import type { Path } from "./source.js";

export function valueMessage(r: Reader, value: unknown, type: FeatureType, path: Path): Value | undefined {
  const bad = () => {
    r.error(path, `${JSON.stringify(value)} is not a ${typeName(type)} value`);
    return undefined;
  };
  if (typeof type !== "string") return bad();
  switch (type) {
    case "bool":
      return typeof value === "boolean" ? create(ValueSchema, { kind: { case: "boolValue", value } }) : bad();
    case "int32":
      return Number.isInteger(value) ? create(ValueSchema, { kind: { case: "int32Value", value: value as number } }) : bad();
    case "int64":
      return Number.isInteger(value) || (typeof value === "string" && /^-?\d+$/.test(value)) ? create(ValueSchema, { kind: { case: "int64Value", value: BigInt(value as number | string) } }) : bad();
    case "float":
      return typeof value === "number" ? create(ValueSchema, { kind: { case: "floatValue", value } }) : bad();
    case "double":
      return typeof value === "number" ? create(ValueSchema, { kind: { case: "doubleValue", value } }) : bad();
    case "string":
      return typeof value === "string" ? create(ValueSchema, { kind: { case: "stringValue", value } }) : bad();
    case "bytes":
      return typeof value === "string" ? create(ValueSchema, { kind: { case: "bytesValue", value: Buffer.from(value, "base64") } }) : bad();
    case "timestamp": {
      const d = typeof value === "string" || value instanceof Date ? new Date(value) : undefined;
      return d && !Number.isNaN(d.getTime()) ? create(ValueSchema, { kind: { case: "timestampValue", value: timestampFromDate(d) } }) : bad();
    }
  }
}
