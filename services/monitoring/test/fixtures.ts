// Registry resources and events for monitoring tests: a shop project with a
// transactions group (amount, category), an outcomes label group, a feature
// view, a READY training dataset whose train split is a Parquet file written
// here, a model and deployments — what offline-query, training and the
// registry would have produced.
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import type { MessageInitShape } from "@bufbuild/protobuf";
import { ScalarType } from "@fti/proto/fti/common/v1/types_pb";
import { TrainingDataset_State } from "@fti/proto/fti/registry/v1/training_dataset_pb";
import { TensorDataType } from "@fti/proto/fti/registry/v1/model_pb";
import { RegistryService } from "@fti/proto/fti/registry/v1/registry_pb";
import type { PredictionLogSchema } from "@fti/proto/fti/events/v1/events_pb";
import { Commit_Kind } from "@fti/proto/fti/ingestion/v1/ingestion_pb";
import { featureGroupSchemaFromWire, recordBatchMessage } from "@fti/record-batch";
import type { Row } from "@fti/schema";
import { binCounts } from "../src/drift/distributions.js";
import type { MonitoringHarness } from "./harness.js";

const reg = RegistryService.method;
const scalar = (name: string, type: ScalarType) => ({ name, type: { kind: { case: "scalar" as const, value: type } } });

export const CATEGORIES = ["a", "b", "c"];
export const CATEGORY_WEIGHTS = [0.5, 0.3, 0.2];

export interface Shop {
  project: string;
  transactions: string;
  outcomes: string;
  view: string;
  dataset: string;
  model: string;
  /** The train split's values. */
  reference: { amount: number[]; category: string[]; edges: number[] };
  deployment(id: string): Promise<string>;
}

export async function createShop(h: MonitoringHarness, project: string, draw: { amount(): number; category(): string }): Promise<Shop> {
  const call = h.registry.call.bind(h.registry);
  // The project may exist already (a test sharing it with other fixtures).
  await call(reg.createProject, { projectId: project, project: { owner: "ml" } }).catch((err: { code?: number }) => {
    if (err.code !== 6 /* ALREADY_EXISTS */) throw err;
  });
  const transactions = (await call(reg.createFeatureGroup, {
    parent: `projects/${project}`,
    featureGroupId: "transactions",
    featureGroup: { schema: { features: [scalar("account_id", ScalarType.STRING), scalar("ts", ScalarType.TIMESTAMP), scalar("amount", ScalarType.DOUBLE), scalar("category", ScalarType.STRING)] }, primaryKey: ["account_id"], eventTime: "ts" },
  })).featureGroup!.name;
  const outcomes = (await call(reg.createFeatureGroup, {
    parent: `projects/${project}`,
    featureGroupId: "outcomes",
    featureGroup: { schema: { features: [scalar("account_id", ScalarType.STRING), scalar("ts", ScalarType.TIMESTAMP), scalar("is_fraud", ScalarType.BOOL)] }, primaryKey: ["account_id"], eventTime: "ts" },
  })).featureGroup!.name;
  const view = (await call(reg.createFeatureView, { parent: `projects/${project}`, featureViewId: "scoring", featureView: { root: { featureGroup: transactions, features: ["amount", "category"] } } })).featureView!.name;

  // The train split, as offline-query writes it: Parquet plus statistics with a histogram.
  const amount = Array.from({ length: 5000 }, draw.amount);
  const category = Array.from({ length: 5000 }, draw.category);
  const min = Math.min(...amount);
  const max = Math.max(...amount);
  const edges = Array.from({ length: 11 }, (_, i) => min + ((max - min) * i) / 10);
  const file = join(h.offlineRoot, `${project}-train.parquet`);
  const connection = await h.duckdb.connect();
  const table = `train_${project}`;
  await connection.run(`CREATE TABLE ${table} (amount DOUBLE, category VARCHAR)`);
  const appender = await connection.createAppender(table);
  amount.forEach((x, i) => {
    appender.appendDouble(x);
    appender.appendVarchar(category[i]!);
    appender.endRow();
  });
  appender.closeSync();
  await connection.run(`COPY ${table} TO '${file}' (FORMAT parquet)`);
  await connection.run(`DROP TABLE ${table}`);
  connection.closeSync();
  const td = (await call(reg.createTrainingDataset, { parent: view, trainingDataset: {} })).trainingDataset!;
  const counts = binCounts(amount, edges).counts;
  await call(reg.updateTrainingDataset, {
    trainingDataset: {
      name: td.name,
      state: TrainingDataset_State.READY,
      location: pathToFileURL(h.offlineRoot).href,
      splits: [{ name: "train", rowCount: 5000n, files: [pathToFileURL(file).href], statistics: [{ feature: "amount", count: 5000n, histogram: { edges, counts: counts.map(BigInt) } }] }],
    },
    updateMask: { paths: ["state", "location", "splits"] },
  });
  const model = (await call(reg.createModel, {
    parent: `projects/${project}`,
    modelId: "scorer",
    model: {
      artifactUri: "file:///models/scorer/1/model.onnx",
      checksum: `sha256:${"ab".repeat(32)}`,
      trainingDataset: td.name,
      inputs: [{ name: "x", dataType: TensorDataType.FLOAT, shape: [-1n, 1n], features: ["amount"] }],
      outputs: [{ name: "p", dataType: TensorDataType.FLOAT, shape: [-1n, 1n] }],
    },
  })).model!.name;
  return {
    project,
    transactions,
    outcomes,
    view,
    dataset: td.name,
    model,
    reference: { amount, category, edges },
    async deployment(id) {
      return (await call(reg.createDeployment, { parent: `projects/${project}`, deploymentId: id, deployment: { routes: [{ model, weight: 100 }] } })).deployment!.name;
    },
  };
}

export interface LoggedRows {
  timesMs: number[];
  amount: number[];
  category: string[];
  accounts?: string[];
  scores?: number[];
}

/** Publishes a PredictionLogBatch as online-serving does. */
export async function publishPredictions(h: MonitoringHarness, shop: Shop, deployment: string, rows: LoggedRows): Promise<void> {
  const n = rows.timesMs.length;
  const log: MessageInitShape<typeof PredictionLogSchema> = {
    model: shop.model,
    featureView: shop.view,
    requestIds: rows.timesMs.map((_, i) => `r${i}`),
    timeMicros: rows.timesMs.map((t) => BigInt(t) * 1000n),
    latencyMicros: rows.timesMs.map(() => 100),
    entities: recordBatchMessage(n, [{ name: "account_id", type: "string", values: rows.accounts ?? rows.timesMs.map((_, i) => `acc${i}`) }]),
    features: recordBatchMessage(n, [
      { name: "amount", type: "double", values: rows.amount },
      { name: "category", type: "string", values: rows.category },
    ]),
    outputs: recordBatchMessage(n, [{ name: "p", type: "double", values: rows.scores ?? rows.timesMs.map(() => 0.5) }]),
  };
  const id = deployment.split("/")[3]!;
  await h.publish("serving.predictions", [shop.project, id], { case: "predictionLogBatch", value: { deployment, deploymentRevision: 1n, logs: [log] } });
}

/** Appends rows to a feature group's Delta table and publishes its IngestionCommit, as ingestion does. */
export async function ingest(h: MonitoringHarness, featureGroup: string, rows: Row[]): Promise<void> {
  const [, project, , group, , version] = featureGroup.split("/");
  const id = { project: project!, featureGroup: group!, version: Number(version) };
  const table = h.offlineStore.table(id);
  if (!(await table.exists())) {
    const wire = await h.cache.featureGroup(featureGroup);
    await h.offlineStore.createTable(id, featureGroupSchemaFromWire(wire));
  }
  const result = await table.append(rows);
  await h.publish("ingestion.commit", [project!, group!, version!], {
    case: "ingestionCommit",
    value: { commit: { name: `${featureGroup}/commits/${result.version}`, commitId: BigInt(result.version), featureGroup, kind: Commit_Kind.INGEST, rowsWritten: BigInt(rows.length) } },
  });
}
