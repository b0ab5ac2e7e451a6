// The ListCommits filter: a conjunction (AND) of comparisons on kind, source,
// commit_id and commit_time, e.g.
//   kind = "DELETE" AND commit_id > 41 AND commit_time >= "2024-05-01T00:00:00Z"
// turned into a SQL condition over the commits table with bound parameters.
import { InvalidArgumentError } from "@fti/errors";
import { Commit_Kind as Kind, Commit_Source as Source } from "@fti/proto/fti/ingestion/v1/ingestion_pb";

const fields = ["kind", "source", "commit_id", "commit_time"] as const;

const kinds: Record<string, Kind> = { INGEST: Kind.INGEST, DELETE: Kind.DELETE };
const sources: Record<string, Source> = { API: Source.API, STREAM: Source.STREAM };

/** SQL conditions (joined by AND) and their values; parameters are numbered from `firstParam`. */
export function commitFilterSql(filter: string, firstParam: number): { conditions: string[]; values: unknown[] } {
  const fail = (why: string): never => {
    throw InvalidArgumentError.field("filter", `${why}; expected terms like commit_id > 41 or kind = "DELETE" joined by AND (fields: ${fields.join(", ")})`);
  };
  const conditions: string[] = [];
  const values: unknown[] = [];
  const text = filter.trim();
  if (!text) return { conditions, values };
  for (const term of text.split(/\s+AND\s+/)) {
    const m = /^([a-z_]+)\s*(<=|>=|!=|=|<|>)\s*(?:"((?:[^"\\]|\\.)*)"|(-?\d+))$/.exec(term.trim());
    if (!m) fail(`cannot read "${term.trim()}"`);
    const [, field, op, quoted, number] = m!;
    const raw = quoted ?? number!;
    // The placeholder of the value pushed just before it.
    const param = () => `$${firstParam + values.length - 1}`;
    switch (field) {
      case "kind":
      case "source": {
        const names = field === "kind" ? kinds : sources;
        const value = names[raw.replace(/^(KIND_|SOURCE_)/, "")];
        if (value === undefined) fail(`${field} must be one of ${Object.keys(names).join(", ")}`);
        if (op !== "=" && op !== "!=") fail(`${field} takes = or !=`);
        values.push(value);
        conditions.push(`${field} ${op === "=" ? "=" : "<>"} ${param()}`);
        break;
      }
      case "commit_id": {
        if (!/^-?\d+$/.test(raw)) fail("commit_id takes an integer");
        values.push(Number(raw));
        conditions.push(`commit_id ${op === "!=" ? "<>" : op} ${param()}`);
        break;
      }
      case "commit_time": {
        const time = new Date(raw);
        if (quoted === undefined || Number.isNaN(time.getTime())) fail('commit_time takes an RFC 3339 time in quotes, e.g. "2024-05-01T00:00:00Z"');
        values.push(time);
        conditions.push(`commit_time ${op === "!=" ? "<>" : op} ${param()}`);
        break;
      }
      default:
        fail(`unknown filter field "${field}"`);
    }
  }
  return { conditions, values };
}
