// fti ingest <feature-group> <file>: one Ingest call per chunk of rows, each
// with a batch id derived from the file's content and the chunk number, so a
// re-run (after a failure half-way) writes only what is missing.
import { featureGroupSchemaFromWire, recordBatchMessage } from "@fti/record-batch";
import type { Command } from "../command.js";
import { str } from "../command.js";
import { CliError, UsageError } from "../exit-codes.js";
import { resourceNames as n, versionedName } from "../names.js";
import { formatJson, ProgressBar } from "../output.js";
import { explainRpcError } from "../rpc-errors.js";
import { batchId, fileFingerprint, openFile } from "../ingest/read-file.js";

export const ingestCommand: Command = {
  name: "ingest",
  summary: "write a CSV or Parquet file into a feature group, in idempotent batches, with a progress bar",
  usage: "fti ingest <feature-group[@version]> <file.csv|file.parquet> [--batch-size N] [--validate-only]",
  help: "Columns are matched to features by name; nullable features may be missing. CSV values are converted to the feature types (timestamps as ISO 8601). Each batch has an id derived from the file's content, so running the command again after a failure writes only the batches that are missing.",
  options: {
    "batch-size": { type: "string", description: "rows per Ingest call (default 10000)" },
    "validate-only": { type: "boolean", description: "check types and expectations, write nothing" },
  },
  async run(ctx, { positionals, values }) {
    const [groupText, path] = positionals;
    if (!groupText || !path) throw new UsageError("`fti ingest <feature-group> <file.csv|file.parquet>`");
    const chunkRows = Number(str(values["batch-size"]) ?? 10_000);
    if (!Number.isInteger(chunkRows) || chunkRows < 1) throw new UsageError("--batch-size must be a positive whole number");
    const group = await ctx.call("registry", async (c) => (await c.registry.getFeatureGroup({ name: versionedName(groupText, ctx.requireProject, n.featureGroup) })).featureGroup!, "fti list feature-group");
    const schema = featureGroupSchemaFromWire(group);
    const file = await openFile(path, schema.features, [...schema.primaryKey, schema.eventTime]);
    const fingerprint = await fileFingerprint(path);
    const bar = new ProgressBar(ctx.io.stderr, `ingesting ${path}`);
    const summary = { featureGroup: group.name, file: path, rows: file.rowCount, rowsWritten: 0, batches: 0, duplicateBatches: 0, commitIds: [] as string[], validateOnly: !!values["validate-only"] };
    let sent = 0;
    try {
      for await (const chunk of file.chunks(chunkRows)) {
        let response;
        try {
          response = await ctx.client.ingestion.ingest({ featureGroup: group.name, batchId: batchId(fingerprint, chunkRows, chunk.index), rows: recordBatchMessage(chunk.rowCount, chunk.columns), validateOnly: summary.validateOnly });
        } catch (err) {
          const e = explainRpcError(err, ctx.callContext("ingestion"));
          const done = summary.batches ? ` Batches 1-${summary.batches} (${sent} rows) were ingested; re-running the same command skips them.` : "";
          throw new CliError(`batch ${chunk.index + 1} (rows ${sent + 1}-${sent + chunk.rowCount}) was not ingested: ${e.message}${done}`, e.exitCode);
        }
        summary.batches++;
        sent += chunk.rowCount;
        if (response.duplicate) summary.duplicateBatches++;
        else summary.rowsWritten += Number(response.commit?.rowsWritten ?? 0);
        if (response.commit && !summary.validateOnly) summary.commitIds.push(String(response.commit.commitId));
        bar.update(file.rowCount ? sent / file.rowCount : 1, `${sent}/${file.rowCount} rows`);
      }
    } catch (err) {
      if (err instanceof CliError) throw err;
      throw new CliError(`${path}: reading failed after ${sent} rows (${(err as Error).message.split("\n")[0]}); fix the file and run the command again`);
    } finally {
      bar.clear();
      file.close();
    }
    if (ctx.format === "json") {
      ctx.io.stdout.write(formatJson(summary));
      return 0;
    }
    const verb = summary.validateOnly ? "validated" : "ingested";
    const dup = summary.duplicateBatches ? ` (${summary.duplicateBatches} batch${summary.duplicateBatches > 1 ? "es were" : " was"} already ingested and skipped)` : "";
    ctx.io.stdout.write(`${verb} ${sent} rows into ${group.name} in ${summary.batches} batch${summary.batches === 1 ? "" : "es"}: ${summary.rowsWritten} rows written${dup}\n`);
    return 0;
  },
};
