// The chart as CI sees it: lint and render every ci/ scenario, validate every
// rendered object against the Kubernetes schemas, and make sure values that
// cannot work fail at render time naming the value to set.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { Deployment, StatefulSet } from "kubernetes-models/apps/v1";
import { HorizontalPodAutoscaler } from "kubernetes-models/autoscaling/v2";
import { Job } from "kubernetes-models/batch/v1";
import { PodDisruptionBudget } from "kubernetes-models/policy/v1";
import { Role, RoleBinding } from "kubernetes-models/rbac.authorization.k8s.io/v1";
import { ConfigMap, PersistentVolumeClaim, Secret, Service, ServiceAccount } from "kubernetes-models/v1";
import { chartDir, find, lint, render, scenarios, template, type Manifest } from "./helm.js";

interface Validatable {
  validate(): void;
}
const models: Record<string, new (data: never) => Validatable> = {
  "apps/v1/Deployment": Deployment,
  "apps/v1/StatefulSet": StatefulSet,
  "autoscaling/v2/HorizontalPodAutoscaler": HorizontalPodAutoscaler,
  "batch/v1/Job": Job,
  "policy/v1/PodDisruptionBudget": PodDisruptionBudget,
  "rbac.authorization.k8s.io/v1/Role": Role,
  "rbac.authorization.k8s.io/v1/RoleBinding": RoleBinding,
  "v1/ConfigMap": ConfigMap,
  "v1/PersistentVolumeClaim": PersistentVolumeClaim,
  "v1/Secret": Secret,
  "v1/Service": Service,
  "v1/ServiceAccount": ServiceAccount,
};

/** kubernetes-models has no Prometheus Operator CRDs: check the fields Prometheus needs. */
function validateServiceMonitor(m: Manifest): void {
  const spec = m.spec as { selector?: { matchLabels?: Record<string, string> }; endpoints?: { port?: string; path?: string }[] };
  expect(spec.selector?.matchLabels, "ServiceMonitor selector").toBeTruthy();
  expect(spec.endpoints?.length, "ServiceMonitor endpoints").toBeGreaterThan(0);
  for (const endpoint of spec.endpoints ?? []) {
    expect(endpoint.port).toBe("http");
    expect(endpoint.path).toBe("/metrics");
  }
}

function validateAll(manifests: Manifest[]): void {
  for (const m of manifests) {
    const id = `${m.apiVersion}/${m.kind}`;
    if (id === "monitoring.coreos.com/v1/ServiceMonitor") {
      validateServiceMonitor(m);
      continue;
    }
    const Model = models[id];
    if (!Model) throw new Error(`${m.kind} ${m.metadata.name}: no schema for ${id}; add it to the test`);
    try {
      new Model(m as never).validate();
    } catch (err) {
      throw new Error(`${m.kind} ${m.metadata.name} is not a valid ${id}: ${(err as Error).message}`);
    }
    expect(m.metadata.name.length, `${m.kind} ${m.metadata.name}`).toBeLessThanOrEqual(63);
  }
}

describe.each(scenarios)("scenario ci/%s", (scenario) => {
  it("passes helm lint --strict", () => {
    const result = lint({ valuesFiles: [`ci/${scenario}`] });
    expect(result.stderr + result.stdout).toContain("0 chart(s) failed");
    expect(result.status).toBe(0);
  });

  it("renders objects that match the Kubernetes schemas", () => {
    const manifests = render({ valuesFiles: [`ci/${scenario}`] });
    expect(manifests.length).toBeGreaterThan(0);
    validateAll(manifests);
  });

  it("runs every service non-root, read-only, with gRPC readiness and a drain period", () => {
    const manifests = render({ valuesFiles: [`ci/${scenario}`] });
    const workloads = manifests.filter((m) => m.kind === "Deployment" || m.kind === "Job");
    expect(workloads.length).toBeGreaterThan(0);
    for (const w of workloads) {
      const pod = (w.spec as { template: { spec: PodSpec } }).template.spec;
      expect(pod.securityContext?.runAsNonRoot, w.metadata.name).toBe(true);
      for (const c of pod.containers) {
        expect(c.securityContext?.readOnlyRootFilesystem, c.name).toBe(true);
        expect(c.securityContext?.allowPrivilegeEscalation, c.name).toBe(false);
        expect(c.resources?.limits?.memory, c.name).toBeTruthy();
        if (w.kind === "Deployment") {
          const grpcPort = c.ports?.find((p) => p.name === "grpc")?.containerPort;
          expect(c.readinessProbe?.grpc?.port, `${c.name} readiness is a native grpc probe on the gRPC port`).toBe(grpcPort);
          expect(c.livenessProbe?.httpGet?.path).toBe("/healthz");
        }
      }
    }
  });
});

interface Container {
  name: string;
  ports?: { name?: string; containerPort: number }[];
  readinessProbe?: { grpc?: { port: number } };
  livenessProbe?: { httpGet?: { path: string } };
  securityContext?: { readOnlyRootFilesystem?: boolean; allowPrivilegeEscalation?: boolean };
  resources?: { limits?: { memory?: string } };
}
interface PodSpec {
  securityContext?: { runAsNonRoot?: boolean };
  serviceAccountName?: string;
  automountServiceAccountToken?: boolean;
  containers: Container[];
  volumes?: { name: string; persistentVolumeClaim?: { claimName: string } }[];
}

describe("render-time validation", () => {
  const cases: [string, Record<string, unknown>, RegExp][] = [
    ["no Postgres at all", { "postgresql.enabled": false }, /no Postgres: set postgresql\.enabled=true .* or externalDatabase\.url/],
    ["bundled and external Postgres", { "externalDatabase.url": "postgres://u:p@db:5432/fti" }, /two Postgres: set postgresql\.enabled=false/],
    ["an external database URL that is not Postgres", { "postgresql.enabled": false, "externalDatabase.url": "mysql://db/fti" }, /externalDatabase\.url must be a postgres:\/\//],
    ["no NATS at all", { "nats.enabled": false }, /no NATS: set nats\.enabled=true .* or externalNats\.url/],
    ["negative replicas", { "registry.replicaCount": -1 }, /registry\.replicaCount must be 0 or more, got -1/],
    ["negative replicas of a later service", { "onlineServing.enabled": true, "onlineServing.replicaCount": -3 }, /onlineServing\.replicaCount must be 0 or more/],
    ["an online store type that does not exist", { "config.onlineStore.type": "redis" }, /config\.onlineStore\.type must be postgres or cassandra, got "redis"/],
    ["Cassandra online store without a Cassandra", { "config.onlineStore.type": "cassandra" }, /set cassandra\.enabled=true .* or externalCassandra\.contactPoints/],
    ["an unknown Cassandra consistency", { "config.onlineStore.cassandra.consistency": "SOME" }, /config\.onlineStore\.cassandra\.consistency must be one of/],
    ["an unknown log level", { "config.logLevel": "verbose" }, /config\.logLevel must be one of/],
    ["a grace period shorter than the drain", { terminationGracePeriodSeconds: 5 }, /terminationGracePeriodSeconds .* must be longer than config\.shutdownGraceMs/],
    ["autoscaling min above max", { "registry.autoscaling.enabled": true, "registry.autoscaling.minReplicas": 5, "registry.autoscaling.maxReplicas": 2 }, /registry\.autoscaling\.maxReplicas \(2\) must be at least registry\.autoscaling\.minReplicas/],
  ];
  it.each(cases)("fails for %s, naming the value to set", (_name, setJson, message) => {
    const result = template({ setJson });
    expect(result.status).not.toBe(0);
    expect(result.stderr).toMatch(message);
  });

  const wrongTypes: [string, Record<string, unknown>, RegExp][] = [
    ["replicas as a string", { "registry.replicaCount": "two" }, /registry.*replicaCount/],
    ["enabled as a string", { "ingestion.enabled": "yes" }, /ingestion.*enabled/],
    ["a port out of range", { "registry.grpcPort": 70000 }, /registry.*grpcPort/],
    ["a misspelt key", { "registry.replicas": 3 }, /replicas/],
    ["contact points as a string", { "externalCassandra.contactPoints": "a,b" }, /contactPoints/],
    ["pool size as a float", { "config.database.poolSize": 2.5 }, /poolSize/],
  ];
  it.each(wrongTypes)("values.schema.json rejects %s", (_name, setJson, message) => {
    const result = template({ setJson });
    expect(result.status).not.toBe(0);
    expect(result.stderr).toMatch(/schema/i);
    expect(result.stderr).toMatch(message);
  });
});

describe("what the scenarios deploy", () => {
  it("minimal: the registry, ingestion, offline-query, online-serving, training-runner and monitoring, with the bundled Postgres and NATS, migrating after install", () => {
    const manifests = render({ valuesFiles: ["ci/minimal-values.yaml"] });
    expect(manifests.filter((m) => m.kind === "Deployment").map((m) => m.metadata.name).sort()).toEqual(["fti-ingestion", "fti-monitoring", "fti-offline-query", "fti-online-serving", "fti-registry", "fti-training-runner"]);
    expect(manifests.filter((m) => m.kind === "StatefulSet").map((m) => m.metadata.name).sort()).toEqual(["fti-nats", "fti-postgresql"]);
    // The bundled database does not exist before install, so the first migration runs after it.
    expect(find(manifests, "Job", "fti-migrations").metadata.annotations?.["helm.sh/hook"]).toBe("post-install,pre-upgrade");
    // offline-query and online-serving read the offline root, so the shared volume is created.
    expect(manifests.filter((m) => m.kind === "PersistentVolumeClaim").map((m) => m.metadata.name)).toEqual(["fti-offline"]);
  });

  it("bundled: the database URL, the migrations URL and the Postgres password agree", () => {
    const manifests = render({ valuesFiles: ["ci/bundled-values.yaml"] });
    const decode = (name: string, key: string) => Buffer.from((find(manifests, "Secret", name).data as Record<string, string>)[key]!, "base64").toString();
    const password = decode("fti-postgresql-auth", "password");
    expect(decode("fti-database", "FTI_DATABASE_URL")).toBe(`postgres://fti:${password}@fti-postgresql.fti.svc:5432/fti`);
    expect(decode("fti-database-migrations", "FTI_DATABASE_URL")).toBe(decode("fti-database", "FTI_DATABASE_URL"));
    const cassandra = find(manifests, "StatefulSet", "fti-cassandra");
    expect(JSON.stringify(cassandra)).toContain('"CASSANDRA_DC","value":"datacenter1"');
    expect((find(manifests, "ConfigMap", "fti-online-serving").data as Record<string, string>).FTI_CASSANDRA_CONTACT_POINTS).toBe("fti-cassandra.fti.svc:9042");
  });

  it("production: external stores only, existing Secret, migrations before install, HPA instead of replicas", () => {
    const manifests = render({ valuesFiles: ["ci/production-values.yaml"] });
    expect(manifests.filter((m) => m.kind === "StatefulSet")).toEqual([]);
    expect(manifests.filter((m) => m.kind === "Secret"), "the chart stores no credentials").toEqual([]);
    const job = find(manifests, "Job", "fti-migrations");
    expect(job.metadata.annotations?.["helm.sh/hook"]).toBe("pre-install,pre-upgrade");
    expect(JSON.stringify(job)).toContain('"secretKeyRef":{"name":"fti-database","key":"url"}');
    const serving = find(manifests, "Deployment", "fti-online-serving");
    expect((serving.spec as { replicas?: number }).replicas).toBeUndefined();
    expect((find(manifests, "HorizontalPodAutoscaler", "fti-online-serving").spec as { minReplicas: number }).minReplicas).toBe(3);
    expect(find(manifests, "PersistentVolumeClaim", "fti-offline").spec).toMatchObject({ accessModes: ["ReadWriteMany"], storageClassName: "efs-sc" });
    expect((find(manifests, "Deployment", "fti-registry").spec as { template: { spec: PodSpec } }).template.spec.containers[0]!).toMatchObject({
      image: "registry.example.com/fti/fti@sha256:0000000000000000000000000000000000000000000000000000000000000000",
    });
    find(manifests, "ServiceMonitor", "fti");
  });

  it("gives only training-runner a Kubernetes API token, allowed to manage Jobs in its namespace", () => {
    const manifests = render({ valuesFiles: ["ci/production-values.yaml"] });
    for (const d of manifests.filter((m) => m.kind === "Deployment")) {
      const pod = (d.spec as { template: { spec: PodSpec } }).template.spec;
      if (d.metadata.name === "fti-training-runner") {
        expect(pod.serviceAccountName).toBe("fti-training-runner");
        expect(pod.automountServiceAccountToken).toBe(true);
      } else {
        expect(pod.automountServiceAccountToken, d.metadata.name).toBe(false);
      }
    }
    const rules = (find(manifests, "Role", "fti-training-runner") as unknown as { rules: { apiGroups: string[]; resources: string[]; verbs: string[] }[] }).rules;
    expect(rules).toContainEqual(expect.objectContaining({ apiGroups: ["batch"], resources: ["jobs"], verbs: expect.arrayContaining(["create", "delete", "watch"]) }));
    expect(find(manifests, "RoleBinding", "fti-training-runner")).toMatchObject({ subjects: [{ kind: "ServiceAccount", name: "fti-training-runner", namespace: "fti" }] });
  });

  it("mounts the offline root only into the services that read it", () => {
    const manifests = render({ valuesFiles: ["ci/bundled-values.yaml"] });
    for (const d of manifests.filter((m) => m.kind === "Deployment")) {
      const volumes = (d.spec as { template: { spec: PodSpec } }).template.spec.volumes ?? [];
      const claim = volumes.find((v) => v.name === "offline")?.persistentVolumeClaim?.claimName;
      expect(claim, d.metadata.name).toBe(d.metadata.name === "fti-registry" ? undefined : "fti-offline");
    }
  });
});

describe("values documentation", () => {
  const valuesText = readFileSync(join(chartDir, "values.yaml"), "utf8");
  const values = parse(valuesText) as Record<string, unknown>;
  const params = new Set([...valuesText.matchAll(/^## @param (\S+)/gm)].map((m) => m[1]!));

  function leaves(node: unknown, path: string[] = []): string[] {
    if (node && typeof node === "object" && !Array.isArray(node) && Object.keys(node).length > 0) {
      return Object.entries(node).flatMap(([k, v]) => leaves(v, [...path, k]));
    }
    return [path.join(".")];
  }

  it("documents every value with ## @param (itself or an enclosing object)", () => {
    const undocumented = leaves(values).filter((leaf) => {
      const parts = leaf.split(".");
      return !parts.some((_, i) => params.has(parts.slice(0, i + 1).join(".")));
    });
    expect(undocumented).toEqual([]);
  });

  it("documents no value that does not exist", () => {
    const get = (path: string) => path.split(".").reduce<unknown>((node, k) => (node && typeof node === "object" ? (node as Record<string, unknown>)[k] : undefined), values);
    expect([...params].filter((p) => get(p) === undefined)).toEqual([]);
  });

  it("types every value in values.schema.json", () => {
    const schema = JSON.parse(readFileSync(join(chartDir, "values.schema.json"), "utf8")) as SchemaNode;
    const untyped = leaves(values).filter((leaf) => {
      let node: SchemaNode | undefined = schema;
      for (const k of leaf.split(".")) {
        if (!node) return true;
        if (node.type === "object" && !node.properties) return false; // a free-form map, typed as a whole
        node = node.properties?.[k];
      }
      return !node?.type;
    });
    expect(untyped).toEqual([]);
  });
});

interface SchemaNode {
  type?: string | string[];
  properties?: Record<string, SchemaNode>;
}
