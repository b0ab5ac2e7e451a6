// Long-running jobs (training dataset builds, training): state names and the
// exit code of a finished job.
import { JobState } from "@fti/proto/fti/common/v1/types_pb";

export const jobStateNames: Record<number, string> = {
  [JobState.QUEUED]: "QUEUED",
  [JobState.RUNNING]: "RUNNING",
  [JobState.SUCCEEDED]: "SUCCEEDED",
  [JobState.FAILED]: "FAILED",
  [JobState.CANCELLED]: "CANCELLED",
};

export const isFinal = (s: JobState) => s === JobState.SUCCEEDED || s === JobState.FAILED || s === JobState.CANCELLED;

/** 0 when the job succeeded, 1 otherwise (failed or cancelled). */
export const jobExitCode = (s: JobState) => (s === JobState.SUCCEEDED ? 0 : 1);

export function parseTime(text: string | undefined, flag: string): Date | undefined {
  if (text === undefined) return undefined;
  const d = new Date(text);
  if (Number.isNaN(d.getTime())) throw new Error(`${flag} "${text}" is not a time; use ISO 8601, e.g. 2024-05-01T00:00:00Z`);
  return d;
}
