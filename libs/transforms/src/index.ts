// @fti/transforms: the one implementation of on-demand features and
// model-dependent transformations, shared by offline-query, training-runner
// and online-serving so that training and serving cannot skew.
export { compileOnDemandFeatures, type OnDemandFeatures, type OnDemandFeatureSpec } from "./on-demand.js";
export { fitTransformations } from "./transformations/fit.js";
export { compileTransformations, type TransformationPipeline } from "./transformations/pipeline.js";
export { transformationViolations, outputName } from "./transformations/rules.js";
export { functions as expressionFunctions } from "./expression/functions.js";
export { batchLength, copyToExtend, featureTypeFromProto, valueFromProto, valueToProto, type Column, type Columns } from "./values.js";
