// Feature types and schemas: wire form (fti.common.v1) ↔ in-memory (@fti/schema).
import { create } from "@bufbuild/protobuf";
import { FeatureTypeSchema, ScalarType, type Feature as FeatureMessage, type FeatureType as FeatureTypeMessage } from "@fti/proto/fti/common/v1/types_pb";
import { InvalidArgumentError } from "@fti/errors";
import type { Feature, FeatureGroupSchema, FeatureType, ScalarType as ScalarName } from "@fti/schema";

const scalarNames: Record<number, ScalarName> = {
  [ScalarType.BOOL]: "bool",
  [ScalarType.INT32]: "int32",
  [ScalarType.INT64]: "int64",
  [ScalarType.FLOAT]: "float",
  [ScalarType.DOUBLE]: "double",
  [ScalarType.STRING]: "string",
  [ScalarType.BYTES]: "bytes",
  [ScalarType.TIMESTAMP]: "timestamp",
};
const scalarEnums = Object.fromEntries(Object.entries(scalarNames).map(([k, v]) => [v, Number(k)])) as Record<ScalarName, ScalarType>;

function scalarFromWire(value: ScalarType, field: string): ScalarName {
  const name = scalarNames[value];
  if (!name) throw InvalidArgumentError.field(field, "a scalar type is required (bool, int32, int64, float, double, string, bytes, timestamp)");
  return name;
}

/** The in-memory feature type of a wire FeatureType; `field` names it in errors. */
export function featureTypeFromWire(type: FeatureTypeMessage | undefined, field: string): FeatureType {
  const kind = type?.kind;
  switch (kind?.case) {
    case "scalar":
      return scalarFromWire(kind.value, `${field}.scalar`);
    case "array":
      return { array: scalarFromWire(kind.value.elementType, `${field}.array.element_type`) };
    case "embedding":
      if (kind.value.dimension < 1) throw InvalidArgumentError.field(`${field}.embedding.dimension`, "must be at least 1");
      return { embedding: kind.value.dimension };
    default:
      throw InvalidArgumentError.field(field, "a type is required: scalar, array or embedding");
  }
}

export function featureTypeToWire(type: FeatureType): FeatureTypeMessage {
  if (typeof type === "string") return create(FeatureTypeSchema, { kind: { case: "scalar", value: scalarEnums[type] } });
  if ("array" in type) return create(FeatureTypeSchema, { kind: { case: "array", value: { elementType: scalarEnums[type.array] } } });
  return create(FeatureTypeSchema, { kind: { case: "embedding", value: { dimension: type.embedding } } });
}

/** In-memory features of a wire schema; paths in errors are `${field}[i]...`. */
export function featuresFromWire(features: readonly FeatureMessage[], field: string): Feature[] {
  return features.map((f, i) => ({
    name: f.name,
    type: featureTypeFromWire(f.type, `${field}[${i}].type`),
    ...(f.nullable === undefined ? {} : { nullable: f.nullable }),
  }));
}

/** The in-memory schema of a registry feature group version (already validated by the registry). */
export function featureGroupSchemaFromWire(group: {
  schema?: { features: readonly FeatureMessage[] };
  primaryKey: readonly string[];
  eventTime: string;
  ttl?: { seconds: bigint; nanos: number };
}): FeatureGroupSchema {
  const ttlSeconds = group.ttl ? Number(group.ttl.seconds) + group.ttl.nanos / 1e9 : 0;
  return {
    features: featuresFromWire(group.schema?.features ?? [], "feature_group.schema.features"),
    primaryKey: [...group.primaryKey],
    eventTime: group.eventTime,
    ...(ttlSeconds > 0 ? { ttlSeconds } : {}),
  };
}
