// CPU time of a process on this machine, read from /proc/<pid>/stat (Linux):
// the benchmarks print CPU per call beside their latencies.
import { readFileSync } from "node:fs";

/** utime + stime of process `pid` so far, in seconds. */
export function processCpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100; // clock ticks of 10 ms
}
