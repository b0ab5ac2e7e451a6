// What keeping track of in-flight calls costs the garbage collector: calls come
// and go a few at a time, each holding some kilobytes (a gRPC call's objects)
// while it runs, as on a server at a few thousand calls a second.
// The baseline is a Set, which the server used before: a long-lived Set with
// entries coming and going rehashes into new tables, and a replaced table in
// old space keeps the entries it held reachable for the young-generation GC
// until the next full GC, so finished calls get promoted. The list threaded
// through the calls (InFlightCalls) has no table to replace.
// Prints full GCs, young GCs and GC time per million calls, in alternating rounds.
import { PerformanceObserver, constants } from "node:perf_hooks";
import { InFlightCalls } from "@fti/server";

const calls = Number(process.env.BENCH_CALLS ?? 1_000_000);
const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
const concurrent = 3;

interface Tracker {
  add(call: object): void;
  delete(call: object): void;
}

function setTracker(): Tracker {
  const set = new Set<object>();
  return { add: (c) => void set.add(c), delete: (c) => void set.delete(c) };
}

function listTracker(): Tracker {
  const list = new InFlightCalls();
  return { add: (c) => list.add(c as never), delete: (c) => list.delete(c as never) };
}

let gcs = { major: 0, minor: 0, ms: 0 };
new PerformanceObserver((entries) => {
  for (const e of entries.getEntries()) {
    const kind = (e as unknown as { detail: { kind: number } }).detail.kind;
    if (kind === constants.NODE_PERFORMANCE_GC_MAJOR) gcs.major++;
    else if (kind === constants.NODE_PERFORMANCE_GC_MINOR) gcs.minor++;
    gcs.ms += e.duration;
  }
}).observe({ entryTypes: ["gc"] });

async function run(tracker: Tracker) {
  // Let the tracker's own objects reach old space first, as on a server that has been up a while.
  for (let i = 0; i < 1000; i++) {
    await new Promise((r) => setImmediate(r));
    new Array(10_000).fill(i);
  }
  gcs = { major: 0, minor: 0, ms: 0 };
  const running: ({ payload: number[]; id: number } | undefined)[] = new Array(concurrent).fill(undefined);
  const started = performance.now();
  for (let i = 0; i < calls; i++) {
    const call = { id: i, payload: new Array(250).fill(i) }; // ~2 KB held while the call runs
    tracker.add(call);
    const slot = i % concurrent;
    const finished = running[slot];
    if (finished) tracker.delete(finished);
    running[slot] = call;
    for (let j = 0; j < 10; j++) new Array(64).fill(j); // the call's short-lived garbage
    if (i % 1000 === 0) await new Promise((r) => setImmediate(r)); // let GC observers run
  }
  for (const c of running) if (c) tracker.delete(c);
  await new Promise((r) => setTimeout(r, 50));
  const perMillion = 1e6 / calls;
  return { major: gcs.major * perMillion, minor: gcs.minor * perMillion, gcMs: gcs.ms * perMillion, ms: (performance.now() - started) * perMillion };
}

console.log(`in-flight call tracking under churn: ${concurrent} calls at a time, per million calls, ${rounds} alternating rounds`);
for (let r = 0; r < rounds; r++) {
  for (const [name, make] of [["Set (baseline)", setTracker], ["InFlightCalls", listTracker]] as const) {
    const x = await run(make());
    console.log(`  ${name.padEnd(15)} full GCs ${x.major.toFixed(0).padStart(4)}  young GCs ${x.minor.toFixed(0).padStart(5)}  GC time ${x.gcMs.toFixed(0).padStart(5)} ms  run ${x.ms.toFixed(0).padStart(5)} ms`);
  }
}
