// From feature vectors to a model's input tensors, and from its output
// tensors to typed columns. The model version's TensorSpecs say which vector
// columns fill each input's last dimension; this is checked once, when the
// model version is loaded for a deployment, so a mismatch never reaches a
// request and never replaces a working model.
import * as ort from "onnxruntime-node";
import { FailedPreconditionError } from "@fti/errors";
import { TensorDataType } from "@fti/proto/fti/registry/v1/model_pb";
import type { FeatureType, Value } from "@fti/schema";
import type { Column } from "@fti/transforms";
import type { FeatureVectors } from "./feature-vectors.js";
import type { LoadedModel, TensorInfo } from "./model-runtime.js";

export interface InputAssembly {
  /** Feeds for the rows of `vectors`, keyed by ONNX input name. */
  feeds(vectors: FeatureVectors): Record<string, ort.Tensor>;
}

const ortTypes: Partial<Record<TensorDataType, ort.Tensor.Type>> = {
  [TensorDataType.BOOL]: "bool",
  [TensorDataType.INT32]: "int32",
  [TensorDataType.INT64]: "int64",
  [TensorDataType.FLOAT]: "float32",
  [TensorDataType.DOUBLE]: "float64",
  [TensorDataType.STRING]: "string",
};

/** How many positions a column fills in a tensor's last dimension. */
function width(type: FeatureType): number | undefined {
  if (typeof type === "string") return type === "bytes" || type === "timestamp" ? undefined : 1;
  if ("embedding" in type) return type.embedding;
  return undefined; // arrays vary in length per row
}

export function planInputs(model: LoadedModel, columns: readonly Column[]): InputAssembly {
  const byName = new Map(columns.map((c, i) => [c.name, { ...c, index: i }]));
  const specs = model.model.inputs.length
    ? model.model.inputs.map((s) => ({ name: s.name, type: ortTypes[s.dataType], features: s.features.length ? [...s.features] : [s.name] }))
    : // Registered without input specs: one input takes the whole vector in order.
      model.inputs.slice(0, 1).map((i) => ({ name: i.name, type: i.type, features: columns.map((c) => c.name) }));
  const problems: string[] = [];
  const plans = specs.map((spec) => {
    const onnx = model.inputs.find((i) => i.name === spec.name);
    if (!onnx) problems.push(`input "${spec.name}" is not an input of the ONNX graph (${model.inputs.map((i) => i.name).join(", ")})`);
    const type = spec.type ?? onnx?.type;
    if (onnx && type !== onnx.type) problems.push(`input "${spec.name}" is registered as ${type} but the graph takes ${onnx.type}`);
    let k = 0;
    const sources = spec.features.map((f) => {
      const column = byName.get(f);
      const w = column ? width(column.type) : undefined;
      if (!column) problems.push(`input "${spec.name}" needs column "${f}", which the feature vector does not have`);
      else if (w === undefined) problems.push(`input "${spec.name}": column "${f}" cannot fill a tensor`);
      const at = k;
      k += w ?? 0;
      return { index: column?.index ?? -1, at, width: w ?? 0 };
    });
    const last = onnx?.shape[onnx.shape.length - 1];
    if (onnx && onnx.shape.length >= 2 && last !== undefined && last > 0 && last !== k) problems.push(`input "${spec.name}" takes ${last} values per row but its features fill ${k}`);
    return { name: spec.name, type: type ?? "float32", rank: onnx?.shape.length ?? 2, sources, k };
  });
  if (problems.length) throw new FailedPreconditionError(`${model.name} cannot be served with its feature view: ${problems.join("; ")}`);

  return {
    feeds(vectors) {
      const n = vectors.rowCount;
      const feeds: Record<string, ort.Tensor> = {};
      for (const p of plans) {
        const data = allocate(p.type, n * p.k);
        for (const s of p.sources) {
          const values = vectors.columns[s.index]!.values;
          for (let i = 0; i < n; i++) fill(data, i * p.k + s.at, s.width, values[i]!);
        }
        feeds[p.name] = new ort.Tensor(p.type, data as never, p.rank === 1 ? [n] : [n, p.k]);
      }
      return feeds;
    },
  };
}

type TensorData = Float32Array | Float64Array | Int32Array | BigInt64Array | Uint8Array | string[];

function allocate(type: ort.Tensor.Type, size: number): TensorData {
  switch (type) {
    case "float32": return new Float32Array(size);
    case "float64": return new Float64Array(size);
    case "int32": return new Int32Array(size);
    case "int64": return new BigInt64Array(size);
    case "bool": return new Uint8Array(size);
    case "string": return new Array<string>(size).fill("");
    default: throw new FailedPreconditionError(`model inputs of type ${type} cannot be filled from features`);
  }
}

/** Writes one value at `at`; a missing float is NaN (trees route it as missing), a missing integer 0. */
function fill(data: TensorData, at: number, w: number, value: Value): void {
  if (data instanceof Float32Array || data instanceof Float64Array) {
    if (value instanceof Float32Array) data.set(value.subarray(0, w), at);
    else data[at] = value === null ? NaN : Number(value);
  } else if (data instanceof BigInt64Array) {
    data[at] = value === null ? 0n : typeof value === "bigint" ? value : BigInt(Math.trunc(Number(value)));
  } else if (data instanceof Int32Array) {
    data[at] = value === null ? 0 : Number(value);
  } else if (data instanceof Uint8Array) {
    data[at] = value ? 1 : 0;
  } else {
    data[at] = value === null ? "" : String(value);
  }
}

/** A typed output column: [N] → scalar, [N, k] → embedding<k> (float) per the Predict contract. */
export function outputColumns(outputs: readonly TensorInfo[], tensors: Record<string, ort.Tensor>, rowCount: number): { name: string; type: FeatureType; values: Value[] }[] {
  const columns: { name: string; type: FeatureType; values: Value[] }[] = [];
  for (const o of outputs) {
    const t = tensors[o.name];
    if (!t) continue;
    const perRow = rowCount === 0 ? 0 : t.size / rowCount;
    const data = t.data as ArrayLike<unknown>;
    if (t.dims.length >= 2) {
      const flat = Float32Array.from(data as ArrayLike<number>, Number);
      const values: Value[] = new Array(rowCount);
      for (let i = 0; i < rowCount; i++) values[i] = flat.slice(i * perRow, (i + 1) * perRow);
      columns.push({ name: o.name, type: { embedding: perRow }, values });
      continue;
    }
    columns.push({ name: o.name, ...scalarColumn(t.type, data, rowCount) });
  }
  return columns;
}

function scalarColumn(type: ort.Tensor.Type, data: ArrayLike<unknown>, n: number): { type: FeatureType; values: Value[] } {
  const values: Value[] = new Array(n);
  switch (type) {
    case "float32": for (let i = 0; i < n; i++) values[i] = data[i] as number; return { type: "float", values };
    case "float64": for (let i = 0; i < n; i++) values[i] = data[i] as number; return { type: "double", values };
    case "int64": for (let i = 0; i < n; i++) values[i] = BigInt(data[i] as bigint); return { type: "int64", values };
    case "bool": for (let i = 0; i < n; i++) values[i] = Boolean(data[i]); return { type: "bool", values };
    case "string": for (let i = 0; i < n; i++) values[i] = String(data[i]); return { type: "string", values };
    default: for (let i = 0; i < n; i++) values[i] = Number(data[i]); return { type: type === "uint32" || type === "float16" ? "double" : "int32", values };
  }
}
