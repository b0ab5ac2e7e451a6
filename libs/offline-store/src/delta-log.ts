// Reading and writing one table's `_delta_log`. Commits are immutable once
// written, so a handle caches the ones it has parsed and only probes for newer
// versions (N+1, N+2, … until one is missing) instead of listing the folder.
import { parseActions, logFileName, serializeActions, type Action, type CommitInfoAction } from "./delta-protocol.js";
import type { ObjectStore } from "./object-store.js";

export interface Commit {
  version: number;
  actions: Action[];
  info: CommitInfoAction | undefined;
}

export class DeltaLog {
  private readonly commits: Commit[] = [];

  constructor(
    private readonly store: ObjectStore,
    /** The table's key prefix, without a trailing '/'. */
    readonly tableKey: string,
  ) {}

  logKey(version: number): string {
    return `${this.tableKey}/_delta_log/${logFileName(version)}`;
  }

  /** Loads commits written since the last call; returns every commit, oldest first. */
  async refresh(): Promise<readonly Commit[]> {
    for (;;) {
      const version = this.commits.length;
      const bytes = await this.store.get(this.logKey(version));
      // A concurrent refresh of this handle may have loaded it meanwhile.
      if (this.commits.length !== version) continue;
      if (!bytes) return this.commits;
      const actions = parseActions(bytes.toString("utf8"));
      const info = actions.find((a): a is { commitInfo: CommitInfoAction } => "commitInfo" in a)?.commitInfo;
      this.commits.push({ version, actions, info });
    }
  }

  /** The latest version seen by the last refresh; -1 when the table does not exist. */
  get latestVersion(): number {
    return this.commits.length - 1;
  }

  /**
   * Writes `actions` as `version` if no other writer has; false when one has,
   * and the caller re-reads the log and retries on the newer snapshot.
   */
  async tryCommit(version: number, actions: readonly Action[]): Promise<boolean> {
    return this.store.putIfAbsent(this.logKey(version), serializeActions(actions));
  }
}
