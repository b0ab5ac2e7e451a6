// The Open Inference Protocol on registered ONNX model versions: metadata from
// the graph's inputs and outputs, and ModelInfer with typed or raw tensors.
// A model is named "projects/{project}/models/{model}" with model_version its
// number (empty: the latest), or by its full version name.
import { create } from "@bufbuild/protobuf";
import { InvalidArgumentError, NotFoundError, type FieldViolation } from "@fti/errors";
import type * as ort from "onnxruntime-node";
import {
  ModelInferResponseSchema,
  ModelMetadataResponseSchema,
  type ModelInferRequest,
  type ModelInferResponse,
  type ModelMetadataRequest,
  type ModelMetadataResponse,
} from "@fti/proto/inference/grpc_predict_v2_pb";
import type { ModelMetrics } from "./model-metrics.js";
import type { LoadedModel, TensorInfo } from "./model-runtime.js";
import { modelVersionName, splitModelVersion } from "./names.js";
import type { ServingCatalog } from "./serving-catalog.js";
import { contentsField, protocolDatatype, rawCount, rawOnly, tensorFromRaw, tensorFromTyped, tensorToRaw, tensorToTyped, typedCount } from "./tensors.js";

export const serverName = "fti-online-serving";
export const serverVersion = "0.1.0";
export const platform = "onnxruntime_onnx";

export function createInference(deps: { catalog: ServingCatalog; metrics: ModelMetrics; ready: () => boolean }) {
  const { catalog, metrics } = deps;
  const load = (name: string, version: string, field: string) => catalog.model(modelVersionName(name, version, field));
  const tensorMetadata = (t: TensorInfo) => ({ name: t.name, datatype: protocolDatatype(t.type), shape: t.shape.map(BigInt) });

  async function modelReady(name: string, version: string): Promise<boolean> {
    try {
      await load(name, version, "name");
      return true;
    } catch (err) {
      if (err instanceof NotFoundError || err instanceof InvalidArgumentError) throw err;
      return false; // registered but not loadable (e.g. a corrupt artifact)
    }
  }

  async function modelMetadata(req: ModelMetadataRequest): Promise<ModelMetadataResponse> {
    const model = await load(req.name, req.version, "name");
    return create(ModelMetadataResponseSchema, {
      name: req.name,
      versions: [splitModelVersion(model.name).version],
      platform,
      inputs: model.inputs.map(tensorMetadata),
      outputs: model.outputs.map(tensorMetadata),
    });
  }

  async function modelInfer(req: ModelInferRequest): Promise<ModelInferResponse> {
    const started = performance.now();
    const model = await load(req.modelName, req.modelVersion, "model_name");
    try {
      const feeds = inputTensors(model, req);
      const fetches = requestedOutputs(model, req);
      const results = await model.run(feeds, fetches.map((o) => o.name));
      const outputs = fetches.map((o) => results[o.name]!);
      // Raw in, raw out (what Triton clients expect); FP16 has no typed field,
      // and the protocol allows raw for all outputs or none.
      const raw = req.rawInputContents.length > 0 || outputs.some((t) => rawOnly(t.type));
      metrics.observe("", model.name, "oip", (performance.now() - started) / 1000);
      return create(ModelInferResponseSchema, {
        modelName: req.modelName,
        modelVersion: splitModelVersion(model.name).version,
        id: req.id,
        outputs: fetches.map((o, i) => ({
          name: o.name,
          datatype: protocolDatatype(outputs[i]!.type),
          shape: outputs[i]!.dims.map(BigInt),
          ...(raw ? {} : { contents: tensorToTyped(outputs[i]!) }),
        })),
        rawOutputContents: raw ? outputs.map(tensorToRaw) : [],
      });
    } catch (err) {
      if (!(err instanceof InvalidArgumentError)) metrics.error("", model.name, "oip");
      throw err;
    }
  }

  return { modelReady, modelMetadata, modelInfer, ready: deps.ready };
}

/** The request's tensors as onnxruntime feeds; every problem named at once. */
function inputTensors(model: LoadedModel, req: ModelInferRequest): Record<string, ort.Tensor> {
  const v: FieldViolation[] = [];
  const raw = req.rawInputContents;
  if (raw.length > 0 && raw.length !== req.inputs.length) v.push({ field: "raw_input_contents", description: `has ${raw.length} entries; one per input (${req.inputs.length}) is required` });
  const feeds: Record<string, ort.Tensor> = {};
  const given = new Set<string>();
  req.inputs.forEach((input, i) => {
    const path = `inputs[${i}]`;
    const spec = model.inputs.find((m) => m.name === input.name);
    if (!spec) {
      v.push({ field: `${path}.name`, description: `"${input.name}" is not an input of ${model.name} (${model.inputs.map((m) => m.name).join(", ")})` });
      return;
    }
    given.add(input.name);
    const expected = protocolDatatype(spec.type);
    if (input.datatype !== expected) {
      v.push({ field: `${path}.datatype`, description: `input "${input.name}" is ${expected}, got "${input.datatype}"` });
      return;
    }
    const dims = input.shape.map(Number);
    const shapeProblem = dims.length !== spec.shape.length
      ? `input "${input.name}" has rank ${spec.shape.length} [${spec.shape.join(", ")}], got [${dims.join(", ")}]`
      : dims.some((d, k) => d < 0 || (spec.shape[k]! > 0 && d !== spec.shape[k]))
        ? `input "${input.name}" has shape [${spec.shape.join(", ")}] (-1: any), got [${dims.join(", ")}]`
        : undefined;
    if (shapeProblem) {
      v.push({ field: `${path}.shape`, description: shapeProblem });
      return;
    }
    const elements = dims.reduce((a, b) => a * b, 1);
    if (raw.length > 0) {
      const bytes = raw[i];
      if (!bytes) return;
      const count = rawCount(spec.type, bytes);
      if (typeof count === "string") v.push({ field: `raw_input_contents[${i}]`, description: count });
      else if (count !== elements) v.push({ field: `raw_input_contents[${i}]`, description: `holds ${count} elements; shape [${dims.join(", ")}] needs ${elements}` });
      else feeds[input.name] = tensorFromRaw(spec.type, dims, bytes);
    } else {
      const count = typedCount(spec.type, input.contents);
      if (rawOnly(spec.type)) v.push({ field: `${path}.contents`, description: `${expected} tensors travel in raw_input_contents` });
      else if (count !== elements) v.push({ field: `${path}.contents.${contentsField(spec.type)}`, description: `holds ${count} elements; shape [${dims.join(", ")}] needs ${elements}` });
      else feeds[input.name] = tensorFromTyped(spec.type, dims, input.contents);
    }
  });
  for (const spec of model.inputs) if (!given.has(spec.name) && !v.some((x) => x.field.endsWith(".name"))) v.push({ field: "inputs", description: `input "${spec.name}" (${protocolDatatype(spec.type)} [${spec.shape.join(", ")}]) is missing` });
  if (v.length) throw new InvalidArgumentError(v);
  return feeds;
}

function requestedOutputs(model: LoadedModel, req: ModelInferRequest): TensorInfo[] {
  if (req.outputs.length === 0) return model.outputs;
  const v: FieldViolation[] = [];
  const chosen = req.outputs.flatMap((o, i) => {
    const spec = model.outputs.find((m) => m.name === o.name);
    if (!spec) v.push({ field: `outputs[${i}].name`, description: `"${o.name}" is not an output of ${model.name} (${model.outputs.map((m) => m.name).join(", ")})` });
    return spec ? [spec] : [];
  });
  if (v.length) throw new InvalidArgumentError(v);
  return chosen;
}
