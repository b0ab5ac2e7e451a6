// The chart's environment must be exactly what the services read: every key it
// sets is a setting of that service (libs/config, services/<name>/src/config.ts),
// every required setting is set, secrets come from Secrets, and the values parse.
import { describe, expect, it } from "vitest";
import { databaseSettings, describeSettings, loadConfig, natsSettings, offlineStoreSettings, onlineStoreSettings, serverSettings, servicePorts, type ServiceName, type SettingsSpec } from "@fti/config";
import { registrySettings } from "@fti/registry/config";
import { ingestionSettings } from "@fti/ingestion/config";
import { offlineQuerySettings } from "@fti/offline-query/config";
import { onlineServingSettings } from "@fti/online-serving/config";
import { trainingRunnerSettings } from "@fti/training-runner/config";
import { monitoringSettings } from "@fti/monitoring/config";
import { parse } from "yaml";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { chartDir, find, render, scenarios, type Manifest } from "./helm.js";

// The settings each service reads. Only the registry exists; the others use the
// shared groups they will compose (ARCHITECTURE.md: who owns the offline root and
// the online store) until their services/<name>/src/config.ts lands, when this
// map should import those instead.
const settingsOf: Record<ServiceName, SettingsSpec> = {
  registry: registrySettings,
  ingestion: ingestionSettings,
  "offline-query": offlineQuerySettings,
  "online-serving": onlineServingSettings,
  "training-runner": trainingRunnerSettings,
  monitoring: monitoringSettings,
};

const valuesKey: Record<ServiceName, string> = {
  registry: "registry",
  ingestion: "ingestion",
  "offline-query": "offlineQuery",
  "online-serving": "onlineServing",
  "training-runner": "trainingRunner",
  monitoring: "monitoring",
};

interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { secretKeyRef?: { name: string; key: string }; configMapKeyRef?: unknown };
}
interface Container {
  name: string;
  command?: string[];
  env?: EnvVar[];
  envFrom?: { configMapRef?: { name: string }; secretRef?: { name: string } }[];
  ports?: { name: string; containerPort: number }[];
  volumeMounts?: { name: string; mountPath: string }[];
}

/** Where each variable of a container comes from, resolved against the rendered objects. */
function environment(manifests: Manifest[], container: Container): Map<string, { from: "literal" | "configMap" | "secret"; value: string }> {
  const env = new Map<string, { from: "literal" | "configMap" | "secret"; value: string }>();
  for (const source of container.envFrom ?? []) {
    expect(source.secretRef, "secrets are referenced key by key, so the keys can be checked").toBeUndefined();
    const data = (find(manifests, "ConfigMap", source.configMapRef!.name).data ?? {}) as Record<string, string>;
    for (const [k, v] of Object.entries(data)) env.set(k, { from: "configMap", value: v });
  }
  for (const e of container.env ?? []) {
    const ref = e.valueFrom?.secretKeyRef;
    if (ref) {
      const secret = (e.valueFrom?.secretKeyRef && renderedSecretValue(manifests, ref.name, ref.key)) ?? placeholderFor(e.name);
      env.set(e.name, { from: "secret", value: secret });
    } else {
      expect(e.valueFrom, `${e.name}: only literals and Secret references`).toBeUndefined();
      env.set(e.name, { from: "literal", value: e.value ?? "" });
    }
  }
  return env;
}

function renderedSecretValue(manifests: Manifest[], name: string, key: string): string | undefined {
  const secret = manifests.find((m) => m.kind === "Secret" && m.metadata.name === name);
  if (!secret) return undefined; // an existing Secret the operator manages
  const data = secret.data as Record<string, string>;
  expect(data[key], `Secret ${name} has key ${key}`).toBeDefined();
  return Buffer.from(data[key]!, "base64").toString();
}

/** Stands in for a value held in an operator-managed Secret. */
function placeholderFor(env: string): string {
  if (env === "FTI_DATABASE_URL") return "postgres://fti:secret@db.example.com:5432/fti";
  throw new Error(`no placeholder for secret ${env}`);
}

function serviceOf(container: Container): ServiceName {
  const match = /^services\/([a-z-]+)\/dist\/main\.js$/.exec(container.command?.[1] ?? "");
  expect(container.command?.[0]).toBe("node");
  expect(match, `command ${container.command?.join(" ")}`).toBeTruthy();
  return match![1] as ServiceName;
}

const values = parse(readFileSync(join(chartDir, "values.yaml"), "utf8")) as Record<string, { grpcPort: number; webPort: number }> & { offlineStore?: { mountPath: string } };

describe.each(scenarios)("environment in ci/%s", (scenario) => {
  const scenarioValues = (parse(readFileSync(join(chartDir, "ci", scenario), "utf8")) ?? {}) as Record<string, { extraEnv?: { name: string }[] }>;
  const manifests = render({ valuesFiles: [`ci/${scenario}`] });
  const workloads = manifests.filter((m) => m.kind === "Deployment" || m.kind === "Job");

  it.each(workloads.map((w) => [`${w.kind} ${w.metadata.name}`, w] as const))("%s sets only settings its service reads, and every required one", (_id, workload) => {
    const pod = (workload.spec as { template: { spec: { containers: Container[] } } }).template.spec;
    for (const container of pod.containers) {
      const service = serviceOf(container);
      const spec = settingsOf[service];
      const described = describeSettings(spec);
      const known = new Map(described.map((s) => [s.env, s]));
      const extra = new Set((scenarioValues[valuesKey[service]]?.extraEnv ?? []).map((e) => e.name));
      const env = environment(manifests, container);

      const unknown = [...env.keys()].filter((k) => !known.has(k) && !extra.has(k) && !(k === "FTI_MIGRATE_ONLY" && workload.kind === "Job"));
      expect(unknown, `${service} does not read these`).toEqual([]);
      const missing = described.filter((s) => s.required && !env.has(s.env)).map((s) => s.env);
      expect(missing, `${service} requires these`).toEqual([]);
      for (const [k, source] of env) {
        if (known.get(k)?.secret) expect(source.from, `${k} is a secret`).toBe("secret");
      }

      // What the process would load: fails here the way it would fail at start.
      const config = loadConfig(spec, Object.fromEntries([...env].map(([k, v]) => [k, v.value]))) as Record<string, unknown>;
      if (workload.kind === "Job") {
        expect(env.get("FTI_MIGRATE_ONLY")?.value).toBe("true");
        expect(service).toBe("registry");
        expect(config.migrateOnly).toBe(true);
        continue;
      }
      expect(container.ports?.find((p) => p.name === "grpc")?.containerPort).toBe(config.grpcPort);
      expect(container.ports?.find((p) => p.name === "http")?.containerPort).toBe(config.webPort);
      if ("offlineRoot" in config) {
        // Every service names the same root, and those that touch files have it mounted there.
        expect(config.offlineRoot, "FTI_OFFLINE_ROOT is offlineStore.mountPath").toBe(values.offlineStore!.mountPath);
        const mount = container.volumeMounts?.find((m) => m.name === "offline");
        if (mount) expect(mount.mountPath).toBe(config.offlineRoot);
        else expect(service, "only the registry, which just names table locations, runs without the volume").toBe("registry");
      }
    }
  });
});

describe("settings the chart depends on", () => {
  it("uses each service's default ports", () => {
    for (const [service, ports] of Object.entries(servicePorts)) {
      const v = values[valuesKey[service as ServiceName]]!;
      expect({ grpc: v.grpcPort, web: v.webPort }, service).toEqual(ports);
    }
  });

  it("registry reads FTI_MIGRATE_ONLY, off by default, for the migrations Job", () => {
    expect(describeSettings(registrySettings).find((s) => s.env === "FTI_MIGRATE_ONLY")).toMatchObject({ required: false, default: "false" });
  });

  it("offers exactly the online store types the config accepts", () => {
    const store = onlineStoreSettings.onlineStore;
    expect(() => store.parse("postgres")).not.toThrow();
    expect(() => store.parse("cassandra")).not.toThrow();
    expect(() => store.parse("redis")).toThrow(/expected one of postgres, cassandra/);
  });
});
