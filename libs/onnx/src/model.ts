// Wraps a graph into a ModelProto with our versions, opsets and metadata, and
// serializes it. Every builder goes through here, so all our models carry the
// same IR version, operator sets and metadata keys.
import { create, toBinary } from "@bufbuild/protobuf";
import { InvalidArgumentError, type FieldViolation } from "@fti/errors";
import {
  ModelProtoSchema,
  type NodeProto,
  type TensorProto,
  type ValueInfoProto,
} from "@fti/proto/onnx/onnx_pb";
import { ML_DOMAIN } from "./graph.js";

/** IR version 8 (ONNX 1.10+): read by onnxruntime 1.30 and Debian's python3-onnx 1.12. */
export const IR_VERSION = 8;
/** Default-domain operator set. */
export const OPSET_VERSION = 17;
/** ai.onnx.ml operator set (TreeEnsembleRegressor v3). */
export const ML_OPSET_VERSION = 3;
export const PRODUCER_NAME = "fti";
/** metadata_props key holding the input's column names in order, as a JSON array. */
export const FEATURE_NAMES_KEY = "feature_names";

/** Options every model builder accepts: naming and metadata. */
export interface ModelOptions {
  /** Name of the single float input [N, features]. Default "features". */
  inputName?: string;
  /** Column names of the input, in order; stored in metadata_props["feature_names"]. */
  featureNames?: string[];
  /** ModelProto.model_version (e.g. the registry's model version number). */
  modelVersion?: number;
  /** ModelProto.doc_string. */
  docString?: string;
  /** ModelProto.producer_version (e.g. the trainer's version). */
  producerVersion?: string;
  /** More metadata_props, e.g. { training_dataset: "projects/p/trainingDatasets/td/versions/1" }. */
  properties?: Record<string, string>;
}

export const DEFAULT_INPUT_NAME = "features";
/** The output of regressors, [N, 1]. */
export const PREDICTION_OUTPUT = "prediction";

export interface Graph {
  name: string;
  nodes: NodeProto[];
  initializers: TensorProto[];
  inputs: ValueInfoProto[];
  outputs: ValueInfoProto[];
}

/** Prefix of the graph's internal value names; user-chosen names may not use it. */
export const INTERNAL_NAME_PREFIX = "fti/";

/**
 * Violations of the options shared by every builder, for a model with
 * `features` input columns whose outputs are named `outputNames`.
 */
export function modelOptionViolations(options: ModelOptions, features: number, outputNames: string[]): FieldViolation[] {
  const violations: FieldViolation[] = [];
  const input = options.inputName ?? DEFAULT_INPUT_NAME;
  if (input === "" || input.startsWith(INTERNAL_NAME_PREFIX)) {
    violations.push({ field: "inputName", description: `must be non-empty and not start with "${INTERNAL_NAME_PREFIX}"` });
  }
  if (outputNames.includes(input)) {
    violations.push({ field: "inputName", description: `"${input}" is also the name of an output` });
  }
  if (options.featureNames !== undefined && options.featureNames.length !== features) {
    violations.push({
      field: "featureNames",
      description: `has ${options.featureNames.length} names but the model has ${features} input features`,
    });
  }
  if (options.modelVersion !== undefined && !(Number.isSafeInteger(options.modelVersion) && options.modelVersion >= 0)) {
    violations.push({ field: "modelVersion", description: "must be a non-negative integer" });
  }
  if (options.properties && FEATURE_NAMES_KEY in options.properties) {
    violations.push({ field: `properties.${FEATURE_NAMES_KEY}`, description: "is reserved; pass featureNames instead" });
  }
  return violations;
}

/** Throws INVALID_ARGUMENT with every violation, if any. */
export function throwIfInvalid(violations: FieldViolation[]): void {
  if (violations.length > 0) throw new InvalidArgumentError(violations);
}

/** Serializes the graph as a complete ONNX model file. */
export function modelBytes(graph: Graph, options: ModelOptions): Uint8Array {
  const metadata: Record<string, string> = { ...options.properties };
  if (options.featureNames) metadata[FEATURE_NAMES_KEY] = JSON.stringify(options.featureNames);
  const model = create(ModelProtoSchema, {
    irVersion: BigInt(IR_VERSION),
    opsetImport: [
      { domain: "", version: BigInt(OPSET_VERSION) },
      { domain: ML_DOMAIN, version: BigInt(ML_OPSET_VERSION) },
    ],
    producerName: PRODUCER_NAME,
    producerVersion: options.producerVersion ?? "",
    modelVersion: BigInt(options.modelVersion ?? 0),
    docString: options.docString ?? "",
    graph: {
      name: graph.name,
      node: graph.nodes,
      initializer: graph.initializers,
      input: graph.inputs,
      output: graph.outputs,
    },
    // Sorted so the same model always serializes to the same bytes (checksums).
    metadataProps: Object.keys(metadata)
      .sort()
      .map((key) => ({ key, value: metadata[key] })),
  });
  return toBinary(ModelProtoSchema, model);
}
