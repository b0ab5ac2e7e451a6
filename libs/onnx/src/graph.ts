// Small constructors for the pieces of an ONNX graph (attributes, constant
// tensors, typed values, nodes), so the model builders read like the graph
// they produce instead of like protobuf plumbing.
import { create } from "@bufbuild/protobuf";
import {
  AttributeProtoSchema,
  AttributeProto_AttributeType,
  NodeProtoSchema,
  TensorProtoSchema,
  TensorProto_DataType,
  TensorShapeProto_DimensionSchema,
  ValueInfoProtoSchema,
  type AttributeProto,
  type NodeProto,
  type TensorProto,
  type ValueInfoProto,
} from "@fti/proto/onnx/onnx_pb";

/** The symbolic batch dimension of every input and output we write. */
export const BATCH_DIMENSION = "N";

/** The domain of the classical ML operators (TreeEnsembleRegressor, ...). */
export const ML_DOMAIN = "ai.onnx.ml";

const encoder = new TextEncoder();

export function intAttribute(name: string, value: number): AttributeProto {
  return create(AttributeProtoSchema, { name, type: AttributeProto_AttributeType.INT, i: BigInt(value) });
}

export function stringAttribute(name: string, value: string): AttributeProto {
  return create(AttributeProtoSchema, { name, type: AttributeProto_AttributeType.STRING, s: encoder.encode(value) });
}

/** Values are stored as float32, as the operators define them. */
export function floatsAttribute(name: string, values: number[]): AttributeProto {
  return create(AttributeProtoSchema, { name, type: AttributeProto_AttributeType.FLOATS, floats: values });
}

export function intsAttribute(name: string, values: number[]): AttributeProto {
  return create(AttributeProtoSchema, { name, type: AttributeProto_AttributeType.INTS, ints: values.map(BigInt) });
}

export function stringsAttribute(name: string, values: string[]): AttributeProto {
  return create(AttributeProtoSchema, {
    name,
    type: AttributeProto_AttributeType.STRINGS,
    strings: values.map((v) => encoder.encode(v)),
  });
}

/** A constant float32 tensor (a graph initializer). */
export function floatTensor(name: string, dims: number[], values: number[]): TensorProto {
  return create(TensorProtoSchema, {
    name,
    dims: dims.map(BigInt),
    dataType: TensorProto_DataType.FLOAT,
    floatData: values,
  });
}

/** A constant int64 tensor (a graph initializer), e.g. the axes of a Squeeze. */
export function int64Tensor(name: string, dims: number[], values: number[]): TensorProto {
  return create(TensorProtoSchema, {
    name,
    dims: dims.map(BigInt),
    dataType: TensorProto_DataType.INT64,
    int64Data: values.map(BigInt),
  });
}

/**
 * A typed graph input or output. A string dimension is symbolic (the batch
 * size "N"), a number is fixed.
 */
export function tensorValue(name: string, elemType: TensorProto_DataType, shape: (number | string)[]): ValueInfoProto {
  return create(ValueInfoProtoSchema, {
    name,
    type: {
      value: {
        case: "tensorType",
        value: {
          elemType,
          shape: {
            dim: shape.map((d) =>
              create(TensorShapeProto_DimensionSchema, {
                value: typeof d === "string" ? { case: "dimParam", value: d } : { case: "dimValue", value: BigInt(d) },
              }),
            ),
          },
        },
      },
    },
  });
}

/** One operator call; domain "" is the default ONNX operator set. */
export function node(
  opType: string,
  inputs: string[],
  outputs: string[],
  attributes: AttributeProto[] = [],
  domain = "",
): NodeProto {
  return create(NodeProtoSchema, {
    opType,
    domain,
    name: outputs[0],
    input: inputs,
    output: outputs,
    attribute: attributes,
  });
}
