// Definition files of a small fraud project, as a user would write them.
export const groupsYaml = (project: string, extra = "") => `project:
  name: ${project}
  description: fraud detection
  owner: risk-team
feature_groups:
  - name: transactions
    description: card transactions
    owner: risk-team
    tags: {tier: gold}
    features:
      - {name: account_id, type: string}
      - {name: ts, type: timestamp}
      - {name: amount, type: double, description: amount in USD}
      - {name: merchant_id, type: int64}
      - {name: is_fraud, type: bool}
${extra}    primary_key: [account_id]
    event_time: ts
    online_enabled: true
    ttl: 30d
    expectation_policy: strict
    expectations:
      - name: amount_positive
        feature: amount
        range: {min: 0}
  - name: merchants
    features:
      - {name: merchant_id, type: int64}
      - {name: ts, type: timestamp}
      - {name: risk_score, type: double}
    primary_key: merchant_id
    event_time: ts
`;

export const viewYaml = (project: string, expression = "amount / 100") => `project: ${project}
feature_views:
  - name: fraud
    owner: risk-team
    root:
      feature_group: transactions
      features: [amount, merchant_id, is_fraud]
    joins:
      - feature_group: merchants
        prefix: merchant_
        on: [merchant_id]
    labels: [is_fraud]
    on_demand_features:
      - {name: amount_hundreds, type: double, expression: "${expression}"}
    transformations:
      - {feature: amount, standard_scaler: {}}
`;

export const monitorYaml = (project: string) => `project: ${project}
monitors:
  - name: fraud_drift
    feature_view: fraud
    window: 1h
    reference: {start_time: "2024-01-01T00:00:00Z", end_time: "2024-02-01T00:00:00Z"}
    thresholds:
      - {metric: psi, threshold: 0.2}
`;
