// Plan and apply output, human and JSON.
import { formatLocation } from "./source.js";
import type { Action, Change } from "./plan.js";

const symbols: Record<Action, string> = { create: "+", "new-version": "±", update: "~", "no-change": "=", skip: "!" };

function heading(c: Change): string {
  switch (c.action) {
    case "create":
      return `create ${c.kind} ${c.name}`;
    case "new-version":
      return c.kind === "deployment" ? `new revision of deployment ${c.name} (traffic change)` : `new version ${c.kind} ${c.name} (breaking change)`;
    case "update":
      return `update in place ${c.kind} ${c.name}`;
    case "no-change":
      return `no change ${c.kind} ${c.name}`;
    case "skip":
      return `skip ${c.kind} ${c.name}`;
  }
}

export function summarize(changes: readonly Change[]) {
  const count = (a: Action) => changes.filter((c) => c.action === a).length;
  return { create: count("create"), newVersion: count("new-version"), update: count("update"), noChange: count("no-change"), skip: count("skip") };
}

export function hasChanges(changes: readonly Change[]): boolean {
  return changes.some((c) => c.action === "create" || c.action === "new-version" || c.action === "update");
}

export function summaryLine(changes: readonly Change[]): string {
  const s = summarize(changes);
  const skipped = s.skip ? `, ${s.skip} skipped` : "";
  if (!hasChanges(changes)) return `No changes: the platform matches the definitions (${s.noChange} unchanged${skipped}).`;
  return `Plan: ${s.create} to create, ${s.newVersion} new version${s.newVersion === 1 ? "" : "s"}, ${s.update} to update in place, ${s.noChange} unchanged${skipped}.`;
}

export function formatPlan(changes: readonly Change[]): string {
  const lines = changes.map((c) => {
    const details = c.details.map((d) => `\n      ${d}`).join("");
    return `  ${symbols[c.action]} ${heading(c)}    (${formatLocation(c.at)})${details}`;
  });
  return `${lines.join("\n")}\n\n${summaryLine(changes)}\n`;
}

export function planJson(changes: readonly Change[]) {
  return {
    changes: changes.map((c) => ({ kind: c.kind, name: c.name, action: c.action, details: c.details, source: formatLocation(c.at) })),
    summary: summarize(changes),
    hasChanges: hasChanges(changes),
  };
}
