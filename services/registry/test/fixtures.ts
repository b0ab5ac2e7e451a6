// Small builders for registry resources in their protobuf-es init shapes.
import type { MessageInitShape } from "@bufbuild/protobuf";
import { ScalarType, type FeatureSchema$ } from "@fti/proto/fti/common/v1/types_pb";
import type { FeatureGroupSchema } from "@fti/proto/fti/registry/v1/feature_group_pb";
import type { FeatureViewSchema } from "@fti/proto/fti/registry/v1/feature_view_pb";
import type { ModelSchema } from "@fti/proto/fti/registry/v1/model_pb";
import { TensorDataType } from "@fti/proto/fti/registry/v1/model_pb";

export type FeatureInit = MessageInitShape<typeof FeatureSchema$>;

export const scalar = (name: string, type: ScalarType, extra: { nullable?: boolean; description?: string; tags?: Record<string, string> } = {}): FeatureInit => ({ name, type: { kind: { case: "scalar", value: type } }, ...extra });

/** A transactions group: account_id (string key), ts (event time), amount, merchant_id. */
export function transactionsGroup(extra: Record<string, unknown> = {}): MessageInitShape<typeof FeatureGroupSchema> {
  return {
    description: "card transactions",
    owner: "risk-team",
    tags: { tier: "gold" },
    schema: {
      features: [
        scalar("account_id", ScalarType.STRING),
        scalar("ts", ScalarType.TIMESTAMP),
        scalar("amount", ScalarType.DOUBLE, { description: "transaction amount in USD", tags: { unit: "usd" } }),
        scalar("merchant_id", ScalarType.INT64),
        scalar("is_fraud", ScalarType.BOOL),
      ],
    },
    primaryKey: ["account_id"],
    eventTime: "ts",
    onlineEnabled: true,
    ...extra,
  } as MessageInitShape<typeof FeatureGroupSchema>;
}

/** A merchants group keyed by merchant_id (int64). */
export function merchantsGroup(keyType = ScalarType.INT64): MessageInitShape<typeof FeatureGroupSchema> {
  return {
    owner: "merchant-team",
    schema: { features: [scalar("merchant_id", keyType), scalar("ts", ScalarType.TIMESTAMP), scalar("risk_score", ScalarType.DOUBLE, { description: "merchant risk score" })] },
    primaryKey: ["merchant_id"],
    eventTime: "ts",
  };
}

export function fraudView(project: string, extra: Record<string, unknown> = {}): MessageInitShape<typeof FeatureViewSchema> {
  return {
    owner: "risk-team",
    root: { featureGroup: `projects/${project}/featureGroups/transactions/versions/latest`, features: ["amount", "merchant_id", "is_fraud"] },
    joins: [{ selection: { featureGroup: `projects/${project}/featureGroups/merchants/versions/1`, prefix: "merchant_" }, keys: [{ left: "merchant_id", right: "merchant_id" }] }],
    labelColumns: ["is_fraud"],
    ...extra,
  } as MessageInitShape<typeof FeatureViewSchema>;
}

export function model(trainingDataset: string, extra: Record<string, unknown> = {}): MessageInitShape<typeof ModelSchema> {
  return {
    owner: "risk-team",
    artifactUri: "file:///var/fti/models/fraud/scorer/1/model.onnx",
    checksum: `sha256:${"ab".repeat(32)}`,
    trainingDataset,
    inputs: [{ name: "x", dataType: TensorDataType.FLOAT, shape: [-1n, 2n], features: ["amount", "merchant_risk_score"] }],
    outputs: [{ name: "p", dataType: TensorDataType.FLOAT, shape: [-1n, 1n] }],
    metrics: { auc: 0.91 },
    ...extra,
  } as MessageInitShape<typeof ModelSchema>;
}
