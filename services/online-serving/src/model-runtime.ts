// Loading a registered model version into onnxruntime: the artifact must sit
// under the offline root and match the registered checksum, and the session
// must answer a warm-up run before anyone routes traffic to it, so a corrupt
// or mismatched file is rejected at load and never replaces a working model.
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { isAbsolute, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import * as ort from "onnxruntime-node";
import { FailedPreconditionError } from "@fti/errors";
import type { Model } from "@fti/proto/fti/registry/v1/model_pb";

/** An ONNX input or output as the graph declares it. */
export interface TensorInfo {
  name: string;
  /** onnxruntime's element type, e.g. "float32", "int64", "string". */
  type: ort.Tensor.Type;
  /** Dimensions; -1 for a symbolic or unknown one. */
  shape: number[];
}

export interface LoadedModel {
  /** The model version name. */
  name: string;
  model: Model;
  inputs: TensorInfo[];
  /** Tensor outputs only (a sequence or map output, e.g. a ZipMap, is not served). */
  outputs: TensorInfo[];
  run(feeds: Record<string, ort.Tensor>, outputs?: readonly string[]): Promise<Record<string, ort.Tensor>>;
  /** Runs in progress: a retired model is released only when none are left. */
  readonly inFlight: number;
  release(): Promise<void>;
}

/** The ONNX file of a model version: a file:// URI or a path relative to the offline root, inside that root. */
export function artifactPath(artifactUri: string, offlineRoot: string): string {
  const root = resolve(offlineRoot);
  const path = artifactUri.startsWith("file:") ? fileURLToPath(artifactUri) : resolve(root, artifactUri);
  const inside = relative(root, path);
  if (inside.startsWith("..") || isAbsolute(inside)) throw new FailedPreconditionError(`the artifact of the model is outside the offline root (${artifactUri})`);
  return path;
}

export async function loadModel(model: Model, offlineRoot: string): Promise<LoadedModel> {
  const path = artifactPath(model.artifactUri, offlineRoot);
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (err) {
    throw new FailedPreconditionError(`cannot read the artifact of ${model.name} (${model.artifactUri}): ${(err as NodeJS.ErrnoException).code ?? "unreadable"}`);
  }
  const checksum = `sha256:${createHash("sha256").update(bytes).digest("hex")}`;
  if (checksum !== model.checksum) throw new FailedPreconditionError(`the artifact of ${model.name} does not match its checksum (registered ${model.checksum}, file ${checksum})`);
  let session: ort.InferenceSession;
  try {
    session = await ort.InferenceSession.create(bytes, { graphOptimizationLevel: "all", intraOpNumThreads: 1, interOpNumThreads: 1 });
  } catch (err) {
    throw new FailedPreconditionError(`the artifact of ${model.name} is not a loadable ONNX model: ${(err as Error).message.split("\n")[0]}`);
  }
  const describe = (m: ort.InferenceSession.ValueMetadata): TensorInfo[] =>
    m.isTensor ? [{ name: m.name, type: m.type, shape: m.shape.map((d) => (typeof d === "number" && d > 0 ? d : -1)) }] : [];
  const inputs = session.inputMetadata.flatMap(describe);
  const outputs = session.outputMetadata.flatMap(describe);
  let inFlight = 0;
  const loaded: LoadedModel = {
    name: model.name,
    model,
    inputs,
    outputs,
    get inFlight() {
      return inFlight;
    },
    async run(feeds, fetches = outputs.map((o) => o.name)) {
      inFlight++;
      try {
        return await session.run(feeds, fetches as string[]);
      } finally {
        inFlight--;
      }
    },
    release: () => session.release(),
  };
  try {
    await warmUp(loaded);
  } catch (err) {
    await session.release().catch(() => {});
    throw new FailedPreconditionError(`${model.name} failed its warm-up run: ${(err as Error).message.split("\n")[0]}`);
  }
  return loaded;
}

/** One run on a one-row batch of zeros: the first run allocates and is slow; it must not be a user's. */
async function warmUp(model: LoadedModel): Promise<void> {
  const feeds: Record<string, ort.Tensor> = {};
  for (const input of model.inputs) {
    const dims = input.shape.map((d) => (d > 0 ? d : 1));
    feeds[input.name] = zeros(input.type, dims);
  }
  await model.run(feeds);
}

export function zeros(type: ort.Tensor.Type, dims: number[]): ort.Tensor {
  const size = dims.reduce((a, b) => a * b, 1);
  switch (type) {
    case "float32": return new ort.Tensor(type, new Float32Array(size), dims);
    case "float64": return new ort.Tensor(type, new Float64Array(size), dims);
    case "int32": return new ort.Tensor(type, new Int32Array(size), dims);
    case "int64": return new ort.Tensor(type, new BigInt64Array(size), dims);
    case "bool": return new ort.Tensor(type, new Uint8Array(size), dims);
    case "string": return new ort.Tensor(type, new Array<string>(size).fill(""), dims);
    case "int8": return new ort.Tensor(type, new Int8Array(size), dims);
    case "uint8": return new ort.Tensor(type, new Uint8Array(size), dims);
    case "int16": return new ort.Tensor(type, new Int16Array(size), dims);
    case "uint16": return new ort.Tensor(type, new Uint16Array(size), dims);
    case "uint32": return new ort.Tensor(type, new Uint32Array(size), dims);
    case "uint64": return new ort.Tensor(type, new BigUint64Array(size), dims);
    default: throw new Error(`unsupported input type ${type}`);
  }
}
