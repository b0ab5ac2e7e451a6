// Starts, stops and reports the platform's services on this machine.
//   tsx scripts/services.ts up|down|status
// Each built service (services/<name>/dist/main.js) runs as its own process on
// its default ports, logging to .run/<name>.log, against local Postgres and NATS.
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import * as grpc from "@grpc/grpc-js";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { Health, HealthCheckResponse_ServingStatus as S } from "@fti/proto/grpc/health/v1/health_pb";
import { servicePorts, type ServiceName } from "@fti/config";

const root = fileURLToPath(new URL("..", import.meta.url));
const runDir = join(root, ".run");
const services = (Object.keys(servicePorts) as ServiceName[]).filter((s) => existsSync(join(root, "services", s, "dist", "main.js")));
const pidFile = (s: string) => join(runDir, `${s}.pid`);

function running(service: string): number | undefined {
  if (!existsSync(pidFile(service))) return undefined;
  const pid = Number(readFileSync(pidFile(service), "utf8"));
  try {
    process.kill(pid, 0);
    return pid;
  } catch {
    return undefined;
  }
}

function checkHealth(service: ServiceName, timeoutMs = 1000): Promise<string> {
  const client = new grpc.Client(`127.0.0.1:${servicePorts[service].grpc}`, grpc.credentials.createInsecure());
  return new Promise<string>((resolve) => {
    client.makeUnaryRequest(
      "/grpc.health.v1.Health/Check",
      (v: { service: string }) => Buffer.from(toBinary(Health.method.check.input, create(Health.method.check.input, v))),
      (b: Buffer) => fromBinary(Health.method.check.output, b),
      { service: "" },
      { deadline: Date.now() + timeoutMs },
      (err, res) => resolve(err ? (err.code === grpc.status.UNAVAILABLE || err.code === grpc.status.DEADLINE_EXCEEDED ? "DOWN" : grpc.status[err.code]) : S[res!.status]),
    );
  }).finally(() => client.close());
}

async function up() {
  mkdirSync(runDir, { recursive: true });
  for (const service of services) {
    if (running(service)) {
      console.log(`${service}: already running`);
      continue;
    }
    const log = openSync(join(runDir, `${service}.log`), "a");
    const child = spawn(process.execPath, [join(root, "services", service, "dist", "main.js")], { detached: true, stdio: ["ignore", log, log], env: process.env });
    writeFileSync(pidFile(service), String(child.pid));
    child.unref();
    console.log(`${service}: started (pid ${child.pid}, gRPC :${servicePorts[service].grpc}, web :${servicePorts[service].web}, log .run/${service}.log)`);
  }
  // Wait until every service reports SERVING (or give up after 30 s).
  const deadline = Date.now() + 30_000;
  for (const service of services) {
    while ((await checkHealth(service)) !== "SERVING" && Date.now() < deadline) await new Promise((r) => setTimeout(r, 250));
  }
}

async function down() {
  for (const service of services) {
    const pid = running(service);
    if (!pid) continue;
    process.kill(pid, "SIGTERM");
    const deadline = Date.now() + 15_000;
    while (running(service) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    if (running(service)) process.kill(pid, "SIGKILL");
    rmSync(pidFile(service), { force: true });
    console.log(`${service}: stopped`);
  }
}

async function status(): Promise<boolean> {
  console.log(`${"service".padEnd(16)} ${"gRPC".padEnd(16)} ${"web".padEnd(22)} health`);
  let allServing = services.length > 0;
  for (const service of services) {
    const health = await checkHealth(service);
    allServing &&= health === "SERVING";
    const { grpc: g, web: w } = servicePorts[service];
    console.log(`${service.padEnd(16)} ${`127.0.0.1:${g}`.padEnd(16)} ${`http://127.0.0.1:${w}`.padEnd(22)} ${health}`);
  }
  return allServing;
}

const command = process.argv[2];
if (command === "up") {
  await up();
  process.exitCode = (await status()) ? 0 : 1;
} else if (command === "down") await down();
else if (command === "status") process.exitCode = (await status()) ? 0 : 1;
else {
  console.error("usage: services.ts up|down|status");
  process.exitCode = 2;
}
