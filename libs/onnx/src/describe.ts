// Reads what a model file says about itself (inputs, outputs, versions,
// metadata) without running it: online-serving answers KServe ModelMetadata
// from this, and the training runner checks a model's inputs against the
// feature view with it. Works on any ONNX file, not only ours.
import { fromBinary } from "@bufbuild/protobuf";
import { InvalidArgumentError } from "@fti/errors";
import { ModelProtoSchema, TensorProto_DataType, type TypeProto, type ValueInfoProto } from "@fti/proto/onnx/onnx_pb";
import { FEATURE_NAMES_KEY } from "./model.js";

export interface ValueDescription {
  name: string;
  /** "tensor" for plain tensors; the other kinds come from some converters (e.g. ZipMap's sequence of maps). */
  kind: "tensor" | "sequence" | "map" | "optional" | "sparse_tensor" | "unknown";
  /** ONNX element type name ("FLOAT", "INT64", ...) for tensors; "" otherwise. */
  elemType: string;
  /**
   * Per axis: a number for a fixed size, a string for a symbolic one ("N"),
   * null when the file names neither. null for an unknown rank or a non-tensor.
   */
  shape: (number | string | null)[] | null;
}

export interface ModelDescription {
  irVersion: number;
  producerName: string;
  producerVersion: string;
  modelVersion: number;
  docString: string;
  /** Operator set versions by domain ("" is the default ONNX domain). */
  opsets: { domain: string; version: number }[];
  /** metadata_props as a map. */
  metadata: Record<string, string>;
  /** The input column names from metadata_props["feature_names"], when the producer wrote them. */
  featureNames: string[] | null;
  /** Graph inputs the caller must feed (initializers listed as inputs by old exporters are left out). */
  inputs: ValueDescription[];
  outputs: ValueDescription[];
}

/** Parses model bytes; a file that is not an ONNX model with a graph is INVALID_ARGUMENT on `field`. */
export function describeModel(modelBytes: Uint8Array, field = "model"): ModelDescription {
  let model;
  try {
    model = fromBinary(ModelProtoSchema, modelBytes);
  } catch (err) {
    throw InvalidArgumentError.field(field, `is not an ONNX model: ${err instanceof Error ? err.message : String(err)}`);
  }
  const graph = model.graph;
  if (!graph || graph.output.length === 0) throw InvalidArgumentError.field(field, "is not an ONNX model: it has no graph outputs");
  const metadata: Record<string, string> = {};
  for (const entry of model.metadataProps) metadata[entry.key] = entry.value;
  const initializers = new Set(graph.initializer.map((t) => t.name));
  return {
    irVersion: Number(model.irVersion),
    producerName: model.producerName,
    producerVersion: model.producerVersion,
    modelVersion: Number(model.modelVersion),
    docString: model.docString,
    opsets: model.opsetImport.map((o) => ({ domain: o.domain, version: Number(o.version) })),
    metadata,
    featureNames: parseFeatureNames(metadata[FEATURE_NAMES_KEY]),
    inputs: graph.input.filter((v) => !initializers.has(v.name)).map(describeValue),
    outputs: graph.output.map(describeValue),
  };
}

function describeValue(value: ValueInfoProto): ValueDescription {
  const type: TypeProto["value"] | undefined = value.type?.value;
  if (type?.case !== "tensorType") {
    const kinds = { sequenceType: "sequence", mapType: "map", optionalType: "optional", sparseTensorType: "sparse_tensor" } as const;
    return { name: value.name, kind: type?.case ? kinds[type.case] : "unknown", elemType: "", shape: null };
  }
  const tensor = type.value;
  return {
    name: value.name,
    kind: "tensor",
    elemType: TensorProto_DataType[tensor.elemType] ?? `DATA_TYPE_${tensor.elemType}`,
    shape: tensor.shape
      ? tensor.shape.dim.map((d) => {
          if (d.value.case === "dimValue") return Number(d.value.value);
          if (d.value.case === "dimParam") return d.value.value;
          return null;
        })
      : null,
  };
}

/** Names written by another producer under our key may not be a JSON string array; then there are none. */
function parseFeatureNames(json: string | undefined): string[] | null {
  if (json === undefined) return null;
  try {
    const parsed: unknown = JSON.parse(json);
    return Array.isArray(parsed) && parsed.every((n) => typeof n === "string") ? parsed : null;
  } catch {
    return null;
  }
}
