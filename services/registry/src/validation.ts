// Checks shared by every resource: ids, tags and feature types.
import type { FieldViolation } from "@fti/errors";
import { idProblem } from "@fti/aip";
import { ScalarType as ProtoScalarType, type FeatureType as ProtoFeatureType } from "@fti/proto/fti/common/v1/types_pb";
import { scalarTypes, type FeatureType, type ScalarType } from "@fti/schema";

/** Tag keys appear in filters as `tags.<key>`, so they must be filter tokens. */
const tagKeyPattern = /^[A-Za-z0-9_-]{1,63}$/;

export function tagViolations(tags: Record<string, string>, field: string): FieldViolation[] {
  return Object.keys(tags)
    .filter((k) => !tagKeyPattern.test(k))
    .map((k) => ({ field: `${field}["${k}"]`, description: "tag keys are 1 to 63 letters, digits, _ or -" }));
}

export function idViolations(id: string, field: string): FieldViolation[] {
  const problem = idProblem(id);
  return problem ? [{ field, description: problem }] : [];
}

function scalarOf(t: ProtoScalarType): ScalarType {
  // An unknown enum value maps to a name @fti/schema rejects as an unknown type.
  return (ProtoScalarType[t] ?? "unknown").toLowerCase() as ScalarType;
}

/** The proto feature type as @fti/schema sees it; an unset type becomes one it rejects. */
export function featureTypeOf(t: ProtoFeatureType | undefined): FeatureType {
  switch (t?.kind.case) {
    case "scalar":
      return scalarOf(t.kind.value);
    case "array":
      return { array: scalarOf(t.kind.value.elementType) };
    case "embedding":
      return { embedding: t.kind.value.dimension };
    default:
      return "unspecified" as ScalarType;
  }
}

export function isKnownType(t: FeatureType): boolean {
  if (typeof t === "string") return scalarTypes.includes(t);
  if ("array" in t) return scalarTypes.includes(t.array);
  return Number.isInteger(t.embedding) && t.embedding > 0 && t.embedding <= 65536;
}

export const isNumeric = (t: FeatureType) => t === "int32" || t === "int64" || t === "float" || t === "double";
