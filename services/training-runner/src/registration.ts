// Registers a trained model: the ONNX file under <offline root>/models/, its
// sha256, its input/output signature, metrics, gate verdict and lineage to the
// training dataset. The registry publishes model.version.registered itself
// (through its outbox) when the version is created, so we do not.
import { createHash } from "node:crypto";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { Code, ConnectError } from "@connectrpc/connect";
import type { MessageInitShape } from "@bufbuild/protobuf";
import type { ModelDescription } from "@fti/onnx";
import { TensorDataType, type Model, type ModelSchema, type TensorSpecSchema } from "@fti/proto/fti/registry/v1/model_pb";
import type { RegistryClient } from "@fti/registry-client";
import { names } from "./names.js";

export interface Artifact {
  uri: string;
  checksum: string;
}

/** Writes the model under models/<project>/<model>/<job>/model.onnx; the job id keeps retries from clobbering other versions. */
export async function writeArtifact(offlineRoot: string, modelFamily: string, jobName: string, bytes: Uint8Array): Promise<Artifact> {
  const { project, model } = names.modelFamily.match(modelFamily)!;
  const dir = join(offlineRoot, "models", project, model, jobName.split("/").pop()!);
  await mkdir(dir, { recursive: true });
  const path = join(dir, "model.onnx");
  await writeFile(path, bytes);
  return { uri: pathToFileURL(path).href, checksum: `sha256:${createHash("sha256").update(bytes).digest("hex")}` };
}

const tensorTypes: Record<string, TensorDataType> = {
  FLOAT: TensorDataType.FLOAT,
  DOUBLE: TensorDataType.DOUBLE,
  INT64: TensorDataType.INT64,
  INT32: TensorDataType.INT32,
  BOOL: TensorDataType.BOOL,
  STRING: TensorDataType.STRING,
};

/** The registry's TensorSpecs from the model file; the one input is filled by `features`, in order. */
type TensorSpecInit = MessageInitShape<typeof TensorSpecSchema>;

export function tensorSpecs(description: ModelDescription, features: string[]): { inputs: TensorSpecInit[]; outputs: TensorSpecInit[] } {
  const shapeOf = (shape: (number | string | null)[] | null) => (shape ?? []).map((d) => BigInt(typeof d === "number" && d > 0 ? d : -1));
  const spec = (v: ModelDescription["inputs"][number]) => ({ name: v.name, dataType: tensorTypes[v.elemType] ?? TensorDataType.UNSPECIFIED, shape: shapeOf(v.shape) });
  return {
    inputs: description.inputs.map((v) => ({ ...spec(v), features })),
    outputs: description.outputs.filter((v) => v.kind === "tensor").map(spec),
  };
}

/** Creates the next version of the model family (version 1 when it is new). */
export async function registerModelVersion(registry: RegistryClient, modelFamily: string, model: MessageInitShape<typeof ModelSchema>): Promise<Model> {
  const { project, model: modelId } = names.modelFamily.match(modelFamily)!;
  const code = (err: unknown) => ConnectError.from(err).code;
  try {
    return (await registry.createModelVersion({ parent: modelFamily, model })).model!;
  } catch (err) {
    if (code(err) !== Code.NotFound) throw err;
  }
  try {
    return (await registry.createModel({ parent: `projects/${project}`, modelId, model })).model!;
  } catch (err) {
    // Another job created version 1 meanwhile: ours is the next one.
    if (code(err) !== Code.AlreadyExists) throw err;
    return (await registry.createModelVersion({ parent: modelFamily, model })).model!;
  }
}
