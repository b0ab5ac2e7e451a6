// Applies planned changes in order. On the first failure it stops: what was
// applied stays applied (every step is a complete registry call), and the
// report lists what was not, so a re-run — which plans again — completes it.
import type { Context } from "../client.js";
import { CliError } from "../exit-codes.js";
import { explainRpcError, isUnavailable } from "../rpc-errors.js";
import type { Change } from "./plan.js";

export interface ApplyResult {
  applied: { change: Change; result: string }[];
  skipped: { change: Change; reason: string }[];
  failed?: { change: Change; error: CliError };
  notApplied: Change[];
}

export async function applyChanges(ctx: Context, changes: readonly Change[]): Promise<ApplyResult> {
  const result: ApplyResult = { applied: [], skipped: [], notApplied: [] };
  for (const change of changes) {
    if (result.failed) {
      if (change.apply) result.notApplied.push(change);
      continue;
    }
    if (change.action === "skip") {
      result.skipped.push({ change, reason: change.details[0] ?? "skipped" });
      continue;
    }
    if (!change.apply) continue;
    try {
      result.applied.push({ change, result: await change.apply() });
    } catch (err) {
      // The monitoring service may go away between plan and apply; a monitor is then skipped, not failed.
      if (change.kind === "monitor" && isUnavailable(err)) {
        result.skipped.push({ change, reason: "monitoring service not reachable (not built or not running); re-run apply once it runs" });
        continue;
      }
      result.failed = { change, error: explainRpcError(err, ctx.callContext(change.kind === "monitor" ? "monitoring" : "registry")) };
    }
  }
  return result;
}

export function formatApply(r: ApplyResult): string {
  const out: string[] = [];
  for (const a of r.applied) out.push(`  ✓ ${a.result}`);
  for (const s of r.skipped) out.push(`  ! skipped ${s.change.kind} ${s.change.name}: ${s.reason}`);
  if (r.failed) {
    out.push(`  ✗ failed ${r.failed.change.kind} ${r.failed.change.name}: ${r.failed.error.message.replace(/\n/g, "\n      ")}`);
    for (const c of r.notApplied) out.push(`  - not applied ${c.kind} ${c.name}`);
    out.push("");
    out.push(`Apply stopped: ${r.applied.length} applied, 1 failed, ${r.notApplied.length} not applied. Fix the problem and run fti apply again; it plans again and completes the rest.`);
  } else {
    out.push("");
    out.push(`Apply complete: ${r.applied.length} applied${r.skipped.length ? `, ${r.skipped.length} skipped` : ""}.`);
  }
  return out.join("\n") + "\n";
}

export function applyJson(r: ApplyResult) {
  return {
    applied: r.applied.map((a) => ({ kind: a.change.kind, name: a.change.name, action: a.change.action, result: a.result })),
    skipped: r.skipped.map((s) => ({ kind: s.change.kind, name: s.change.name, reason: s.reason })),
    failed: r.failed ? { kind: r.failed.change.kind, name: r.failed.change.name, error: r.failed.error.message } : null,
    notApplied: r.notApplied.map((c) => ({ kind: c.kind, name: c.name, action: c.action })),
  };
}
