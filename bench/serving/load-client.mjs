// The load generator of bench/serving, in its own process so the server's CPU
// is measured alone: open loop at a fixed rate (each request is sent at its
// scheduled time whether or not earlier ones finished), latency measured from
// the scheduled time, so a stall shows up in the tail instead of hiding it.
// Requests arrive pre-encoded from the parent; this only sends bytes.
import * as grpc from "@grpc/grpc-js";
import { PerformanceObserver } from "node:perf_hooks";

process.on("message", async ({ address, path, requests, rate, durationMs, warmupMs }) => {
  const client = new grpc.Client(address, grpc.credentials.createInsecure());
  const bodies = requests.map((r) => Buffer.from(r, "base64"));
  const identity = (b) => b;
  const send = (body) =>
    new Promise((resolve) => client.makeUnaryRequest(path, identity, identity, body, new grpc.Metadata(), { deadline: Date.now() + 5_000 }, (err) => resolve(err)));

  async function run(ms, record) {
    const total = Math.floor((rate * ms) / 1000);
    const latencies = [];
    let errors = 0;
    let firstError;
    const start = performance.now();
    const pending = [];
    const late = [];
    const gcs = [];
    const obs = new PerformanceObserver((l) => { for (const e of l.getEntries()) gcs.push(e.duration); });
    if (record) obs.observe({ entryTypes: ["gc"] });
    const cpu0 = process.cpuUsage();
    for (let k = 0; k < total; k++) {
      const scheduled = start + (k * 1000) / rate;
      const wait = scheduled - performance.now();
      if (wait > 1) await new Promise((r) => setTimeout(r, wait - 0.5));
      while (performance.now() < scheduled) await new Promise((r) => setImmediate(r));
      if (record) late.push(performance.now() - scheduled);
      pending.push(
        send(bodies[k % bodies.length]).then((err) => {
          if (err) {
            errors++;
            firstError ??= err.message;
          } else if (record) latencies.push(performance.now() - scheduled);
        }),
      );
    }
    await Promise.all(pending);
    obs.disconnect();
    const cpu = process.cpuUsage(cpu0);
    late.sort((a, b) => a - b);
    const q = (p) => late[Math.min(late.length - 1, Math.floor(p * late.length))]?.toFixed(2);
    const diag = `send lateness p50 ${q(0.5)} p99 ${q(0.99)} p99.9 ${q(0.999)} max ${late.at(-1)?.toFixed(1)} ms; client gc n=${gcs.length} total=${gcs.reduce((a, b) => a + b, 0).toFixed(0)}ms max=${Math.max(0, ...gcs).toFixed(1)}; client cpu ${((cpu.user + cpu.system) / 1e3 / ms * 100).toFixed(0)}%`;
    return { diag, latencies, errors, firstError, sent: total, seconds: (performance.now() - start) / 1000 };
  }

  await run(warmupMs, false);
  const result = await run(durationMs, true);
  client.close();
  process.send(result);
});
