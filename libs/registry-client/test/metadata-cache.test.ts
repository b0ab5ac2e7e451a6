// The metadata cache against a real registry (port 0, own schema and stream):
// read-through, invalidation by the registry's own events, error mapping.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as net from "node:net";
import { NotFoundError, UnavailableError } from "@fti/errors";
import { silentLogger } from "@fti/logger";
import { featureGroupSchemaFromWire } from "@fti/record-batch";
import { startRegistry, rpc, type Harness } from "../../../services/registry/test/harness.js";
import { transactionsGroup, scalar } from "../../../services/registry/test/fixtures.js";
import { ScalarType } from "@fti/proto/fti/common/v1/types_pb";
import { createMetadataCache, createRegistryClient, type MetadataCache } from "../src/index.js";

let h: Harness;
let cache: MetadataCache;
const group = "projects/cache/featureGroups/transactions/versions/1";

beforeAll(async () => {
  h = await startRegistry();
  await h.call(rpc.createProject, { projectId: "cache", project: { owner: "platform" } });
  await h.call(rpc.createFeatureGroup, { parent: "projects/cache", featureGroupId: "transactions", featureGroup: transactionsGroup({ ttl: { seconds: 3600n } }) });
  // The registry announces the creations through its outbox a moment later;
  // let those events pass so they cannot invalidate the first reads below.
  await until(async () => (await h.pool.query(`SELECT count(*)::int AS n FROM ${h.schema}.outbox WHERE published_at IS NULL`)).rows[0].n === 0);
  await new Promise((r) => setTimeout(r, 100));
  cache = createMetadataCache({ registry: createRegistryClient(h.server.grpcAddress), nats: h.nats, eventSubjectPrefix: h.subjectPrefix, logger: silentLogger });
});

afterAll(async () => {
  await cache?.close();
  await h?.close();
});

const until = async (cond: () => Promise<boolean>, ms = 5000) => {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error("timed out waiting");
    await new Promise((r) => setTimeout(r, 25));
  }
};

describe("metadata cache", () => {
  it("reads through once, then serves from memory", async () => {
    const first = await cache.featureGroup(group);
    expect(featureGroupSchemaFromWire(first)).toMatchObject({ primaryKey: ["account_id"], eventTime: "ts", ttlSeconds: 3600 });
    expect(await cache.featureGroup(group)).toBe(first);
    expect((await cache.featureGroup("projects/cache/featureGroups/transactions/versions/latest")).version).toBe(1);
  });

  it("drops an entry (and its 'latest' alias) when the registry announces a change", async () => {
    const before = await cache.featureGroup(group);
    await cache.featureGroup("projects/cache/featureGroups/transactions/versions/latest");
    const features = [...before.schema!.features, scalar("channel", ScalarType.STRING, { nullable: true })];
    await h.call(rpc.updateFeatureGroup, { featureGroup: { name: group, schema: { features } }, updateMask: { paths: ["schema"] } });
    await until(async () => (await cache.featureGroup(group)).schema!.features.length === features.length);
    expect((await cache.featureGroup("projects/cache/featureGroups/transactions/versions/latest")).schema!.features.map((f) => f.name)).toContain("channel");
  });

  it("answers NOT_FOUND as a domain error and does not cache it", async () => {
    await expect(cache.featureGroup("projects/cache/featureGroups/nope/versions/1")).rejects.toBeInstanceOf(NotFoundError);
    await h.call(rpc.createFeatureGroup, { parent: "projects/cache", featureGroupId: "nope", featureGroup: transactionsGroup() });
    expect((await cache.featureGroup("projects/cache/featureGroups/nope/versions/1")).version).toBe(1);
  });

  it("answers UNAVAILABLE when the registry cannot be reached", async () => {
    const port = await new Promise<number>((resolve) => {
      const s = net.createServer().listen(0, "127.0.0.1", () => {
        const p = (s.address() as net.AddressInfo).port;
        s.close(() => resolve(p));
      });
    });
    const offline = createMetadataCache({ registry: createRegistryClient(`127.0.0.1:${port}`, { timeoutMs: 1000 }), logger: silentLogger });
    await expect(offline.featureGroup(group)).rejects.toBeInstanceOf(UnavailableError);
  });
});
