// Events through the transactional outbox: every committed change is
// published once, none for a change that was refused, and none lost while
// NATS is unreachable (a TCP proxy in front of the real NATS is closed, then
// reopened).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { status } from "@grpc/grpc-js";
import { fromBinary } from "@bufbuild/protobuf";
import { DeliverPolicy, jetstream, jetstreamManager } from "@nats-io/jetstream";
import { connectNats, type NatsConnection } from "@fti/events";
import { silentLogger } from "@fti/logger";
import { EventSchema, RegistryResourceChanged_Change as Change, type Event } from "@fti/proto/fti/events/v1/events_pb";
import { ResourceKind } from "@fti/proto/fti/registry/v1/registry_pb";
import { transactionsGroup } from "./fixtures.js";
import { natsUrl, rpc, startProxy, startRegistry, statusOf, until, type Harness } from "./harness.js";

let proxy: Awaited<ReturnType<typeof startProxy>>;
let h: Harness;
let direct: NatsConnection;

beforeAll(async () => {
  const target = new URL(natsUrl);
  proxy = await startProxy({ host: target.hostname, port: Number(target.port || 4222) });
  h = await startRegistry({ natsUrl: `nats://127.0.0.1:${proxy.port}` });
  direct = await connectNats({ url: natsUrl, name: "registry-events-test", logger: silentLogger });
});
afterAll(async () => {
  await proxy?.reopen().catch(() => {});
  await h?.close();
  await direct?.close();
  await proxy?.close();
});

/** Every event in the test's stream, read straight from the real NATS. */
async function storedEvents(): Promise<Event[]> {
  const jsm = await jetstreamManager(direct);
  const info = await jsm.streams.info(h.stream).catch(() => undefined);
  if (!info || info.state.messages === 0) return [];
  const consumer = await jetstream(direct).consumers.get(h.stream, { deliver_policy: DeliverPolicy.All });
  const out: Event[] = [];
  const batch = await consumer.fetch({ max_messages: info.state.messages, expires: 2_000 });
  for await (const m of batch) {
    out.push(fromBinary(EventSchema, m.data));
    if (out.length === info.state.messages) break;
  }
  return out;
}

describe("registry events", () => {
  it("publish each committed change once, and nothing for a refused one", async () => {
    await h.call(rpc.createProject, { projectId: "ev" });
    const fg = (await h.call(rpc.createFeatureGroup, { parent: "projects/ev", featureGroupId: "tx", featureGroup: transactionsGroup() })).featureGroup!;
    const bad = await statusOf(h.call(rpc.createFeatureGroup, { parent: "projects/ev", featureGroupId: "bad", featureGroup: transactionsGroup({ primaryKey: ["nope"] }) }));
    expect(bad.code).toBe(status.INVALID_ARGUMENT);
    const updated = (await h.call(rpc.updateFeatureGroup, { featureGroup: { name: fg.name, description: "new" }, updateMask: { paths: ["description"] } })).featureGroup!;
    await h.server.relay.flush();

    await until(async () => (await storedEvents()).length >= 3);
    const events = await storedEvents();
    expect(events.map((e) => [e.type, e.subject, e.resource])).toEqual([
      ["registry.project.created", `${h.subjectPrefix}.registry.project.created.ev`, "projects/ev"],
      ["registry.feature_group.created", `${h.subjectPrefix}.registry.feature_group.created.ev`, fg.name],
      ["registry.feature_group.updated", `${h.subjectPrefix}.registry.feature_group.updated.ev`, fg.name],
    ]);
    const last = events[2]!.payload;
    expect(last.case).toBe("registryResourceChanged");
    if (last.case === "registryResourceChanged") {
      expect(last.value).toMatchObject({ kind: ResourceKind.FEATURE_GROUP, change: Change.UPDATED, etag: updated.etag, changedFields: ["description"] });
      const first = events[1]!.payload.value as { revision: bigint };
      expect(last.value.revision).toBeGreaterThan(first.revision);
    }
  });

  it("deliver the changes made while NATS was unreachable once it is back", async () => {
    await h.server.relay.flush();
    const before = (await storedEvents()).length;
    await proxy.close();
    // Changes still commit: the events wait in the outbox.
    for (const id of ["down1", "down2", "down3"]) await h.call(rpc.createFeatureGroup, { parent: "projects/ev", featureGroupId: id, featureGroup: transactionsGroup() });
    await new Promise((r) => setTimeout(r, 1_500));
    const waiting = await h.pool.query("SELECT count(*) AS n FROM outbox WHERE published_at IS NULL");
    expect(Number(waiting.rows[0].n)).toBe(3);
    expect((await storedEvents()).length).toBe(before);

    await proxy.reopen();
    await until(async () => (await storedEvents()).length >= before + 3, 20_000);
    const events = await storedEvents();
    expect(events.slice(before).map((e) => e.resource)).toEqual(["down1", "down2", "down3"].map((id) => `projects/ev/featureGroups/${id}/versions/1`));
    // Each exactly once, even if a publish was retried: the outbox id is the Nats-Msg-Id.
    expect(new Set(events.map((e) => e.id)).size).toBe(events.length);
    await until(async () => Number((await h.pool.query("SELECT count(*) AS n FROM outbox WHERE published_at IS NULL")).rows[0].n) === 0);
  }, 60_000);
});
