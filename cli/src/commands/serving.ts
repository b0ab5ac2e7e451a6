// fti features get / fti predict: online feature vectors and predictions for
// entities given on the command line (--entity key=value[,key=value]).
import { create } from "@bufbuild/protobuf";
import { recordBatchToRows, rowsToRecordBatch } from "@fti/client";
import { ColumnSchema, RecordBatchSchema } from "@fti/proto/fti/common/v1/record_batch_pb";
import type { FeatureColumn } from "@fti/proto/fti/serving/v1/serving_pb";
import type { FeatureView } from "@fti/proto/fti/registry/v1/feature_view_pb";
import { featureGroupSchemaFromWire, featuresFromWire } from "@fti/record-batch";
import type { FeatureType, Row } from "@fti/schema";
import type { Command } from "../command.js";
import { str, strs } from "../command.js";
import type { Context } from "../client.js";
import { UsageError } from "../exit-codes.js";
import { resourceNames as n, versionedName } from "../names.js";
import { formatJson, formatTable } from "../output.js";
import { formatValue, parseValue } from "../values.js";

/** "a=1,b=x" → a row typed by `types`; `what` names the flag in errors. */
function parseRow(text: string, types: Map<string, FeatureType>, what: string): Row {
  const row: Row = {};
  for (const pair of text.split(",")) {
    const eq = pair.indexOf("=");
    if (eq < 1) throw new UsageError(`${what} "${text}": use column=value pairs, e.g. account_id=a1`);
    const column = pair.slice(0, eq);
    const type = types.get(column);
    if (!type) throw new UsageError(`${what}: "${column}" is not one of ${[...types.keys()].join(", ")}`);
    try {
      row[column] = parseValue(pair.slice(eq + 1), type);
    } catch (err) {
      throw new UsageError(`${what} ${column}: ${(err as Error).message}`);
    }
  }
  return row;
}

/** The entity and request-parameter column types of a feature view. */
async function viewInputs(ctx: Context, view: FeatureView): Promise<{ keys: Map<string, FeatureType>; request: Map<string, FeatureType> }> {
  const root = await ctx.call("registry", async (c) => (await c.registry.getFeatureGroup({ name: view.root!.featureGroup })).featureGroup!);
  const schema = featureGroupSchemaFromWire(root);
  const types = new Map(schema.features.map((f) => [f.name, f.type]));
  const keys = new Map(view.servingKeys.map((k) => [k, types.get(k)!]));
  const request = new Map(featuresFromWire(view.requestParameters, "request_parameters").map((f) => [f.name, f.type]));
  return { keys, request };
}

function entitiesAndRequest(values: Record<string, unknown>, inputs: { keys: Map<string, FeatureType>; request: Map<string, FeatureType> }) {
  const entityTexts = strs(values.entity as string[]);
  if (entityTexts.length === 0) throw new UsageError(`pass one --entity per entity, e.g. --entity ${[...inputs.keys.keys()].map((k) => `${k}=...`).join(",")}`);
  const entities = entityTexts.map((e) => parseRow(e, inputs.keys, "--entity"));
  const requestTexts = strs(values.request as string[]);
  const request = requestTexts.map((r) => parseRow(r, inputs.request, "--request"));
  return {
    entities: rowsToRecordBatch(entities, Object.fromEntries(inputs.keys)),
    requestData: request.length ? rowsToRecordBatch(request, Object.fromEntries(inputs.request)) : undefined,
    entityRows: entities,
  };
}

/** Feature columns → rows, one per entity. */
function featureRows(columns: FeatureColumn[], rowCount: number): Row[] {
  const batch = create(RecordBatchSchema, { rowCount, columns: columns.map((c) => create(ColumnSchema, c.values!)) });
  return recordBatchToRows(batch);
}

function printRows(ctx: Context, rows: Row[], keys: Row[]): void {
  if (ctx.format === "json") {
    ctx.io.stdout.write(formatJson(rows.map((r, i) => ({ ...keys[i], ...r }))));
    return;
  }
  const all = rows.map((r, i) => ({ ...keys[i], ...r }));
  const headers = Object.keys(all[0] ?? {});
  ctx.io.stdout.write(formatTable(headers, all.map((r) => headers.map((h) => formatValue(r[h])))));
}

const inputOptions = {
  entity: { type: "string" as const, multiple: true, description: "one entity's serving keys, e.g. account_id=a1 (repeat per entity)" },
  request: { type: "string" as const, multiple: true, description: "request parameters, e.g. amount=120.5 (one, or one per entity)" },
};

export const featuresCommand: Command = {
  name: "features",
  summary: "read online feature vectors of a feature view for some entities",
  usage: "fti features get <feature-view[@version]> --entity key=value [--entity ...] [--request name=value] [--transform --training-dataset <view@v/n>]",
  options: {
    ...inputOptions,
    transform: { type: "boolean", description: "apply the model-dependent transformations" },
    "training-dataset": { type: "string", description: "with --transform: whose fitted parameters to use" },
  },
  async run(ctx, { positionals, values }) {
    if (positionals[0] !== "get" || !positionals[1]) throw new UsageError("`fti features get <feature-view> --entity key=value`");
    const name = versionedName(positionals[1], ctx.requireProject, n.featureView);
    const view = await ctx.call("registry", async (c) => (await c.registry.getFeatureView({ name })).featureView!, "fti list feature-view");
    const { entities, requestData, entityRows } = entitiesAndRequest(values, await viewInputs(ctx, view));
    const td = str(values["training-dataset"]);
    const response = await ctx.call("online-serving", (c) =>
      c.serving.getFeatureVectors({
        target: { case: "featureView", value: view.name },
        entities,
        requestData,
        applyTransformations: !!values.transform,
        trainingDataset: td ? (td.startsWith("projects/") ? td : `${versionedName(td.split("/")[0]!, ctx.requireProject, n.featureView)}/trainingDatasets/${td.split("/")[1]}`) : "",
      }),
    );
    printRows(ctx, featureRows(response.features, entityRows.length), entityRows);
    return 0;
  },
};

export const predictCommand: Command = {
  name: "predict",
  summary: "score entities with a deployment (features + transformations + model)",
  usage: "fti predict <deployment> --entity key=value [--entity ...] [--request name=value] [--request-id <id>]",
  options: { ...inputOptions, "request-id": { type: "string", description: "routing key: the same id always reaches the same model version" } },
  async run(ctx, { positionals, values }) {
    if (!positionals[0]) throw new UsageError("which deployment? `fti predict <deployment> --entity key=value`");
    const name = positionals[0].startsWith("projects/") ? positionals[0] : n.deployment(ctx.requireProject(), positionals[0]);
    const deployment = await ctx.call("registry", async (c) => (await c.registry.getDeployment({ name })).deployment!, "fti list deployment");
    const viewName = deployment.routes[0]?.featureView;
    if (!viewName) throw new UsageError(`deployment ${name} routes to no model; \`fti deploy\` one first`);
    const view = await ctx.call("registry", async (c) => (await c.registry.getFeatureView({ name: viewName })).featureView!);
    const { entities, requestData, entityRows } = entitiesAndRequest(values, await viewInputs(ctx, view));
    const response = await ctx.call("online-serving", (c) => c.serving.predict({ deployment: name, entities, requestData, requestId: str(values["request-id"]) ?? "" }));
    const outputs = response.outputs ? recordBatchToRows(response.outputs) : [];
    if (ctx.format !== "json") ctx.io.stdout.write(`model ${response.model} (revision ${response.deploymentRevision}), request ${response.requestId}\n`);
    printRows(ctx, outputs, entityRows);
    return 0;
  },
};
