export { decodeRecordBatch } from "./decode.js";
export { encodeRecordBatch, recordBatchMessage, type TypedColumn } from "./encode.js";
export { featureGroupSchemaFromWire, featureTypeFromWire, featureTypeToWire, featuresFromWire } from "./types.js";
export { withEncodedField } from "./embed.js";
