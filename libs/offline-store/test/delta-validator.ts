// An independent check of our log entries against the Delta protocol
// (PROTOCOL.md of delta-io/delta, reader 1 / writer 2): required fields and
// their types per action, and the rules that span one version's actions.
// Written from the protocol, not from the library's types, on purpose.

const primitiveTypes = new Set(["string", "long", "integer", "short", "byte", "float", "double", "boolean", "binary", "date", "timestamp"]);
const actionNames = new Set(["protocol", "metaData", "add", "remove", "commitInfo", "txn", "cdc", "domainMetadata"]);

type Json = Record<string, unknown>;

function isStringMap(v: unknown): boolean {
  return typeof v === "object" && v !== null && !Array.isArray(v) && Object.values(v).every((x) => typeof x === "string" || x === null);
}
const isLong = (v: unknown) => typeof v === "number" && Number.isInteger(v) && v >= 0;

function typeProblems(type: unknown, path: string): string[] {
  if (typeof type === "string") return primitiveTypes.has(type) ? [] : [`${path}: unknown primitive type ${type}`];
  const t = type as Json;
  if (t?.type === "array") {
    const p = typeProblems(t.elementType, `${path}.elementType`);
    if (typeof t.containsNull !== "boolean") p.push(`${path}.containsNull must be a boolean`);
    return p;
  }
  if (t?.type === "struct") return structProblems(t, path);
  return [`${path}: unsupported type ${JSON.stringify(type)}`];
}

function structProblems(struct: Json, path: string): string[] {
  if (struct.type !== "struct" || !Array.isArray(struct.fields)) return [`${path}: schema must be a struct with fields`];
  return (struct.fields as Json[]).flatMap((f, i) => {
    const p: string[] = [];
    if (typeof f.name !== "string") p.push(`${path}.fields[${i}].name must be a string`);
    if (typeof f.nullable !== "boolean") p.push(`${path}.fields[${i}].nullable must be a boolean`);
    if (typeof f.metadata !== "object" || f.metadata === null) p.push(`${path}.fields[${i}].metadata must be an object`);
    return [...p, ...typeProblems(f.type, `${path}.fields[${i}].type`)];
  });
}

function actionProblems(name: string, a: Json, where: string): string[] {
  const p: string[] = [];
  const need = (cond: boolean, what: string) => {
    if (!cond) p.push(`${where}.${name}: ${what}`);
  };
  switch (name) {
    case "protocol":
      need(Number.isInteger(a.minReaderVersion) && (a.minReaderVersion as number) >= 1, "minReaderVersion must be an integer ≥ 1");
      need(Number.isInteger(a.minWriterVersion) && (a.minWriterVersion as number) >= 1, "minWriterVersion must be an integer ≥ 1");
      need(a.readerFeatures === undefined && a.writerFeatures === undefined, "reader 1 / writer 2 tables have no table features");
      break;
    case "metaData": {
      need(typeof a.id === "string" && a.id.length > 0, "id must be a non-empty string");
      const format = a.format as Json | undefined;
      need(typeof format?.provider === "string", "format.provider must be a string");
      need(format?.options === undefined || isStringMap(format.options), "format.options must be a map of strings");
      need(typeof a.schemaString === "string", "schemaString must be a string");
      if (typeof a.schemaString === "string") p.push(...structProblems(JSON.parse(a.schemaString) as Json, `${where}.metaData.schemaString`));
      need(Array.isArray(a.partitionColumns) && (a.partitionColumns as unknown[]).every((c) => typeof c === "string"), "partitionColumns must be an array of strings");
      need(a.createdTime === undefined || isLong(a.createdTime), "createdTime must be a long");
      need(isStringMap(a.configuration), "configuration must be a map of strings");
      break;
    }
    case "add": {
      need(typeof a.path === "string" && a.path.length > 0, "path must be a non-empty string");
      need(isStringMap(a.partitionValues), "partitionValues must be a map");
      need(isLong(a.size), "size must be a long");
      need(isLong(a.modificationTime), "modificationTime must be a long");
      need(typeof a.dataChange === "boolean", "dataChange must be a boolean");
      need(a.tags === undefined || isStringMap(a.tags), "tags must be a map of strings");
      if (a.stats !== undefined) {
        need(typeof a.stats === "string", "stats must be a JSON string");
        const stats = JSON.parse(a.stats as string) as Json;
        need(isLong(stats.numRecords), "stats.numRecords must be a long");
        for (const k of ["minValues", "maxValues", "nullCount"]) need(typeof stats[k] === "object" && stats[k] !== null, `stats.${k} must be an object`);
        need(Object.values((stats.nullCount ?? {}) as Json).every(isLong), "stats.nullCount values must be longs");
      }
      break;
    }
    case "remove":
      need(typeof a.path === "string" && a.path.length > 0, "path must be a non-empty string");
      need(typeof a.dataChange === "boolean", "dataChange must be a boolean");
      need(a.deletionTimestamp === undefined || isLong(a.deletionTimestamp), "deletionTimestamp must be a long");
      break;
    case "commitInfo":
      need(isLong(a.timestamp), "timestamp must be a long (we always write it)");
      need(typeof a.operation === "string", "operation must be a string");
      need(isStringMap(a.operationParameters), "operationParameters must be a map of strings");
      break;
  }
  return p;
}

/** Every problem with one commit file's text; `version` 0 must hold protocol and metaData. */
export function commitProblems(version: number, text: string): string[] {
  const where = `version ${version}`;
  const p: string[] = [];
  if (!text.endsWith("\n")) p.push(`${where}: must end with a newline`);
  const lines = text.split("\n").filter((l) => l !== "");
  const count: Record<string, number> = {};
  const paths = new Set<string>();
  lines.forEach((line, i) => {
    let action: Json;
    try {
      action = JSON.parse(line) as Json;
    } catch {
      p.push(`${where} line ${i}: not JSON`);
      return;
    }
    const keys = Object.keys(action);
    if (keys.length !== 1 || !actionNames.has(keys[0]!)) {
      p.push(`${where} line ${i}: must hold exactly one action, got ${keys.join(",")}`);
      return;
    }
    const name = keys[0]!;
    count[name] = (count[name] ?? 0) + 1;
    const body = action[name] as Json;
    p.push(...actionProblems(name, body, `${where} line ${i}`));
    if (name === "add" || name === "remove") {
      if (paths.has(body.path as string)) p.push(`${where}: path ${body.path} appears in more than one add/remove`);
      paths.add(body.path as string);
    }
  });
  if ((count.metaData ?? 0) > 1) p.push(`${where}: more than one metaData`);
  if ((count.protocol ?? 0) > 1) p.push(`${where}: more than one protocol`);
  if ((count.commitInfo ?? 0) > 1) p.push(`${where}: more than one commitInfo`);
  if (version === 0 && (!count.metaData || !count.protocol)) p.push(`${where}: the first commit must hold protocol and metaData`);
  return p;
}
