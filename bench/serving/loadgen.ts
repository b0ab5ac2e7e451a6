// Runs bench/serving's open-loop load generator (loadgen/main.go, built here
// on first use with Debian's golang-go and golang-golang-x-net-dev).
import { execFileSync, spawn } from "node:child_process";
import { existsSync, mkdirSync, statSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export interface OpenLoopOptions {
  /** host:port */
  address: string;
  /** /package.Service/Method */
  method: string;
  /** Request messages; calls cycle through them. */
  bodies: Uint8Array[];
  rate: number;
  seconds: number;
  warmupSeconds: number;
}

export interface OpenLoopResult {
  sent: number;
  ok: number;
  errors: number;
  firstError?: string;
  seconds: number;
  /** Milliseconds from send to the end of the response. */
  p50: number;
  p99: number;
  p999: number;
  max: number;
  /** How late the generator's timer sent calls (p99, ms). */
  lateP99: number;
  /** The generator's own CPU per call (µs). */
  cpuMicrosPerCall: number;
}

const source = fileURLToPath(new URL("./loadgen/main.go", import.meta.url));

/** The load generator's binary, built when missing or older than its source. */
export function loadgenBinary(): string {
  const binary = join(tmpdir(), "fti-bench-loadgen", "loadgen");
  if (existsSync(binary) && statSync(binary).mtimeMs >= statSync(source).mtimeMs) return binary;
  mkdirSync(join(tmpdir(), "fti-bench-loadgen"), { recursive: true });
  try {
    execFileSync("go", ["build", "-o", binary, source], {
      env: { ...process.env, GO111MODULE: "off", GOPATH: "/usr/share/gocode", GOCACHE: join(tmpdir(), "fti-bench-loadgen", "cache") },
      stdio: ["ignore", "inherit", "inherit"],
    });
  } catch (err) {
    throw new Error(`building bench/serving/loadgen failed (needs: apt-get install golang-go golang-golang-x-net-dev): ${(err as Error).message}`);
  }
  return binary;
}

export async function openLoop(options: OpenLoopOptions): Promise<OpenLoopResult> {
  const dir = await mkdtemp(join(tmpdir(), "bench-loadgen-"));
  try {
    const bodies = join(dir, "bodies");
    await writeFile(
      bodies,
      Buffer.concat(
        options.bodies.flatMap((b) => {
          const length = Buffer.alloc(4);
          length.writeUInt32BE(b.length);
          return [length, b];
        }),
      ),
    );
    // Asynchronously: this process may be serving the registry the server calls.
    const out = await new Promise<string>((resolve, reject) => {
      // BENCH_LOADGEN_CPUS pins the load generator (taskset), e.g. away from the server's core.
      const pin = process.env.BENCH_LOADGEN_CPUS ? ["taskset", "-c", process.env.BENCH_LOADGEN_CPUS] : [];
      // BENCH_CONNS: HTTP/2 connections the calls are spread over (1, as one client process would).
      const child = spawn(
        pin.length ? "taskset" : loadgenBinary(),
        [...pin.slice(1), ...(pin.length ? [loadgenBinary()] : []), "-addr", options.address, "-method", options.method, "-bodies", bodies, "-rate", String(options.rate), "-seconds", String(options.seconds), "-warmup", String(options.warmupSeconds), "-conns", process.env.BENCH_CONNS ?? "1"],
        { stdio: ["ignore", "pipe", "inherit"] },
      );
      let text = "";
      child.stdout.on("data", (d) => (text += d));
      child.once("error", reject);
      child.once("exit", (code) => (code === 0 ? resolve(text) : reject(new Error(`loadgen exited with ${code}`))));
    });
    return JSON.parse(out.trim().split("\n").at(-1)!) as OpenLoopResult;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
