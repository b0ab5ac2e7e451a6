// Generic helpers for Google API design conventions (aip.dev): resource names,
// pagination with opaque keyset tokens, the List filter grammar, update masks
// and etags. No knowledge of any particular service's resources.
export { assertId, idProblem, isValidId, namePattern, parseName, parseVersion, type NamePattern } from "./names.js";
export { decodePageToken, defaultPageSize, encodePageToken, maxPageSize, pageSize, paginate, requestFingerprint, type CursorValue } from "./page-token.js";
export { parseFilter, tagKey, type FilterTerm } from "./filter.js";
export { applyMask, maskPaths, propertyOf } from "./update-mask.js";
export { checkEtag, formatEtag } from "./etag.js";
