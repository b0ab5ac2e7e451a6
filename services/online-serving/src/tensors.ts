// Open Inference Protocol tensors ↔ onnxruntime tensors: the protocol's
// datatype names, typed contents (one repeated field per element family) and
// raw little-endian bytes (BYTES elements as 4-byte length + data).
import * as ort from "onnxruntime-node";
import type { InferTensorContents } from "@fti/proto/inference/grpc_predict_v2_pb";
import type { MessageInitShape } from "@bufbuild/protobuf";
import type { InferTensorContentsSchema } from "@fti/proto/inference/grpc_predict_v2_pb";

const toProtocol: Partial<Record<ort.Tensor.Type, string>> = {
  float32: "FP32", float64: "FP64", float16: "FP16", int8: "INT8", int16: "INT16", int32: "INT32", int64: "INT64",
  uint8: "UINT8", uint16: "UINT16", uint32: "UINT32", uint64: "UINT64", bool: "BOOL", string: "BYTES",
};

/** The protocol's datatype name of an onnxruntime element type. */
export function protocolDatatype(type: ort.Tensor.Type): string {
  return toProtocol[type] ?? type.toUpperCase();
}

type Typed = Float32Array | Float64Array | Int8Array | Int16Array | Int32Array | BigInt64Array | Uint8Array | Uint16Array | Uint32Array | BigUint64Array;
const arrays: Partial<Record<ort.Tensor.Type, { new (buffer: ArrayBuffer): Typed; new (length: number): Typed; BYTES_PER_ELEMENT: number }>> = {
  float32: Float32Array, float64: Float64Array, float16: Uint16Array, int8: Int8Array, int16: Int16Array, int32: Int32Array, int64: BigInt64Array,
  uint8: Uint8Array, uint16: Uint16Array, uint32: Uint32Array, uint64: BigUint64Array, bool: Uint8Array,
};

/** Which typed-contents field carries a type, and its values. */
function typedValues(type: ort.Tensor.Type, contents: InferTensorContents | undefined): ArrayLike<unknown> {
  if (!contents) return [];
  switch (type) {
    case "bool": return contents.boolContents;
    case "int8": case "int16": case "int32": return contents.intContents;
    case "int64": return contents.int64Contents;
    case "uint8": case "uint16": case "uint32": return contents.uintContents;
    case "uint64": return contents.uint64Contents;
    case "float32": return contents.fp32Contents;
    case "float64": return contents.fp64Contents;
    case "string": return contents.bytesContents;
    default: return [];
  }
}

const typedField: Partial<Record<ort.Tensor.Type, string>> = {
  bool: "bool_contents", int8: "int_contents", int16: "int_contents", int32: "int_contents", int64: "int64_contents",
  uint8: "uint_contents", uint16: "uint_contents", uint32: "uint_contents", uint64: "uint64_contents",
  float32: "fp32_contents", float64: "fp64_contents", string: "bytes_contents",
};

/** The field a client must fill for `type` ("raw_input_contents" for FP16). */
export const contentsField = (type: ort.Tensor.Type) => typedField[type] ?? "raw_input_contents";

/** Element count of typed contents, to check against the shape. */
export const typedCount = (type: ort.Tensor.Type, contents: InferTensorContents | undefined) => typedValues(type, contents).length;

export function tensorFromTyped(type: ort.Tensor.Type, dims: number[], contents: InferTensorContents | undefined): ort.Tensor {
  const values = typedValues(type, contents);
  if (type === "string") return new ort.Tensor("string", Array.from(values as ArrayLike<Uint8Array>, (b) => Buffer.from(b).toString("utf8")), dims);
  const Array_ = arrays[type]!;
  const data = new Array_(values.length);
  if (data instanceof BigInt64Array || data instanceof BigUint64Array) for (let i = 0; i < values.length; i++) data[i] = BigInt(values[i] as bigint);
  else for (let i = 0; i < values.length; i++) (data as Float64Array)[i] = Number(values[i]);
  return new ort.Tensor(type, data as never, dims);
}

/** Element count of raw contents, or why they cannot be this type. */
export function rawCount(type: ort.Tensor.Type, raw: Uint8Array): number | string {
  if (type === "string") {
    let count = 0;
    for (let at = 0; at < raw.length; count++) {
      if (at + 4 > raw.length) return "a BYTES element's 4-byte length is cut off";
      at += 4 + Buffer.from(raw.buffer, raw.byteOffset + at, 4).readUInt32LE(0);
      if (at > raw.length) return "a BYTES element is longer than the contents";
    }
    return count;
  }
  const size = arrays[type]!.BYTES_PER_ELEMENT;
  if (raw.length % size !== 0) return `${raw.length} bytes is not a whole number of ${size}-byte elements`;
  return raw.length / size;
}

export function tensorFromRaw(type: ort.Tensor.Type, dims: number[], raw: Uint8Array): ort.Tensor {
  if (type === "string") {
    const values: string[] = [];
    for (let at = 0; at < raw.length; ) {
      const length = Buffer.from(raw.buffer, raw.byteOffset + at, 4).readUInt32LE(0);
      values.push(Buffer.from(raw.buffer, raw.byteOffset + at + 4, length).toString("utf8"));
      at += 4 + length;
    }
    return new ort.Tensor("string", values, dims);
  }
  // A copy (new Uint8Array, not Buffer.slice, which shares): the protobuf bytes are not aligned for a typed array view.
  const data = new arrays[type]!(new Uint8Array(raw).buffer as ArrayBuffer);
  return new ort.Tensor(type, data as never, dims);
}

export function tensorToRaw(tensor: ort.Tensor): Uint8Array {
  if (tensor.type === "string") {
    const parts = (tensor.data as string[]).flatMap((s) => {
      const bytes = Buffer.from(s, "utf8");
      const length = Buffer.alloc(4);
      length.writeUInt32LE(bytes.length, 0);
      return [length, bytes];
    });
    return Buffer.concat(parts);
  }
  const data = tensor.data as Typed;
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength).slice();
}

export function tensorToTyped(tensor: ort.Tensor): MessageInitShape<typeof InferTensorContentsSchema> {
  const data = tensor.data as ArrayLike<unknown>;
  switch (tensor.type) {
    case "bool": return { boolContents: Array.from(data, Boolean) };
    case "int8": case "int16": case "int32": return { intContents: Array.from(data as ArrayLike<number>) };
    case "int64": return { int64Contents: Array.from(data as ArrayLike<bigint>) };
    case "uint8": case "uint16": case "uint32": return { uintContents: Array.from(data as ArrayLike<number>) };
    case "uint64": return { uint64Contents: Array.from(data as ArrayLike<bigint>) };
    case "float32": return { fp32Contents: Array.from(data as ArrayLike<number>) };
    case "float64": return { fp64Contents: Array.from(data as ArrayLike<number>) };
    case "string": return { bytesContents: Array.from(data as ArrayLike<string>, (s) => Buffer.from(s, "utf8")) };
    default: return {};
  }
}

/** Types only raw contents can carry. */
export const rawOnly = (type: ort.Tensor.Type) => typedField[type] === undefined;
