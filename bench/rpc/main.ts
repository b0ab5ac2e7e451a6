// bench/rpc — what the server runtime costs per call.
// The same unary EchoService/Echo call, driven by h2load (an external C load
// generator) against: a bare grpc-js server (baseline), our gRPC listener
// (generic adapter + interceptor on grpc-js), and our web listener
// (connect-node: gRPC over h2c and the Connect protocol). Each server is its own
// Node process (one core); the figure that matters is calls per second of
// server CPU, read from /proc, so a noisy machine does not skew the ratio.
//   npx tsc -b bench && node bench/dist/rpc/main.js [--requests 40000] [--rounds 3]
import { spawn, execFileSync, type ChildProcess } from "node:child_process";
import { writeFileSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { create, toBinary } from "@bufbuild/protobuf";
import { EchoRequestSchema } from "@fti/proto/fti/testing/v1/echo_pb";
import { processCpuSeconds } from "../process-cpu.js";
import { numberOption } from "../options.js";

const requests = numberOption("requests", 40_000);
const rounds = numberOption("rounds", 3);
const here = dirname(fileURLToPath(import.meta.url));

try {
  execFileSync("h2load", ["--version"], { stdio: "ignore" });
} catch {
  console.error("h2load not found: apt-get install nghttp2-client");
  process.exit(2);
}

const dir = mkdtempSync(join(tmpdir(), "bench-rpc-"));
const message = toBinary(EchoRequestSchema, create(EchoRequestSchema, { message: "hello" }));
const grpcFrame = Buffer.concat([Buffer.from([0, 0, 0, 0, message.length]), message]);
writeFileSync(join(dir, "grpc.bin"), grpcFrame);
writeFileSync(join(dir, "connect.bin"), message);

async function startServer(kind: "bare" | "fti"): Promise<{ child: ChildProcess; grpcPort: number; webPort: number }> {
  // Servers run as compiled JavaScript (`tsc -b bench`), as in production.
  const child = spawn(process.execPath, [join(here, "servers.js"), kind], { stdio: ["ignore", "pipe", "inherit"] });
  const line = await new Promise<string>((resolve, reject) => {
    let out = "";
    child.stdout!.on("data", (d) => {
      out += d;
      const m = out.match(/ready \d+ \d+/);
      if (m) resolve(m[0]);
    });
    child.once("exit", (code) => reject(new Error(`server ${kind} exited with ${code}`)));
  });
  const [, grpcPort, webPort] = line.split(" ").map(Number);
  return { child, grpcPort: grpcPort!, webPort: webPort! };
}

interface Result { callsPerSec: number; callsPerCpuSec: number; failed: number }

function load(pid: number, url: string, body: string, headers: string[]): Result {
  const cpu0 = processCpuSeconds(pid);
  const out = execFileSync("h2load", ["-n", String(requests), "-c", "4", "-m", "32", "-d", join(dir, body), ...headers.flatMap((h) => ["-H", h]), url], { encoding: "utf8" });
  const cpu = processCpuSeconds(pid) - cpu0;
  const rps = Number(out.match(/finished in [\d.]+m?s, ([\d.]+) req\/s/)?.[1] ?? NaN);
  const ok = Number(out.match(/(\d+) succeeded/)?.[1] ?? 0);
  const statusOk = Number(out.match(/status codes: (\d+) 2xx/)?.[1] ?? 0);
  return { callsPerSec: rps, callsPerCpuSec: ok / Math.max(cpu, 0.01), failed: requests - Math.min(ok, statusOk) };
}

const grpcHeaders = ["content-type: application/grpc", "te: trailers"];
const connectHeaders = ["content-type: application/proto"];
const path = "/fti.testing.v1.EchoService/Echo";

const cases: { name: string; server: "bare" | "fti"; run: (s: { child: ChildProcess; grpcPort: number; webPort: number }) => Result }[] = [
  { name: "bare grpc-js (baseline)", server: "bare", run: (s) => load(s.child.pid!, `http://127.0.0.1:${s.grpcPort}${path}`, "grpc.bin", grpcHeaders) },
  { name: "fti gRPC port (grpc-js adapter)", server: "fti", run: (s) => load(s.child.pid!, `http://127.0.0.1:${s.grpcPort}${path}`, "grpc.bin", grpcHeaders) },
  { name: "fti web port, gRPC (connect-node)", server: "fti", run: (s) => load(s.child.pid!, `http://127.0.0.1:${s.webPort}${path}`, "grpc.bin", grpcHeaders) },
  { name: "fti web port, Connect (connect-node)", server: "fti", run: (s) => load(s.child.pid!, `http://127.0.0.1:${s.webPort}${path}`, "connect.bin", connectHeaders) },
];

const results = new Map<string, Result[]>();
for (let round = 0; round < rounds; round++) {
  for (const c of cases) {
    const s = await startServer(c.server);
    // Warm up the JIT before measuring.
    load(s.child.pid!, c.name.includes("web") ? `http://127.0.0.1:${s.webPort}${path}` : `http://127.0.0.1:${s.grpcPort}${path}`, c.name.includes("Connect") ? "connect.bin" : "grpc.bin", c.name.includes("Connect") ? connectHeaders : grpcHeaders);
    const r = c.run(s);
    s.child.kill("SIGKILL");
    results.set(c.name, [...(results.get(c.name) ?? []), r]);
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const baseline = median(results.get(cases[0]!.name)!.map((r) => r.callsPerCpuSec));
console.log(`\nbench/rpc: unary Echo, ${requests} calls per run, h2load -c 4 -m 32, median of ${rounds} rounds\n`);
console.log(`${"server".padEnd(40)} ${"calls/s".padStart(9)} ${"calls/CPU-s".padStart(12)} ${"vs bare".padStart(8)} ${"failed".padStart(7)}`);
for (const c of cases) {
  const rs = results.get(c.name)!;
  const perCpu = median(rs.map((r) => r.callsPerCpuSec));
  console.log(`${c.name.padEnd(40)} ${median(rs.map((r) => r.callsPerSec)).toFixed(0).padStart(9)} ${perCpu.toFixed(0).padStart(12)} ${(perCpu / baseline).toFixed(2).padStart(7)}x ${String(rs.reduce((a, r) => a + r.failed, 0)).padStart(7)}`);
}
console.log(`\ntarget: fti gRPC port ≥ 0.90x bare grpc-js per server core`);
