export { ColumnBuilder } from "./column-builder.js";
export { decodeRecordBatch } from "./decode.js";
export {
  encodeRecordBatch,
  fixedWidthArray,
  fixedWidthValues,
  isFixedWidthColumn,
  isFixedWidthType,
  recordBatchMessage,
  utf8Name,
  type FixedWidthArray,
  type FixedWidthColumn,
  type FixedWidthType,
  type TypedColumn,
} from "./encode.js";
export { featureGroupSchemaFromWire, featureTypeFromWire, featureTypeToWire, featuresFromWire } from "./types.js";
export { withEncodedField } from "./embed.js";
