// The List `filter` grammar documented in registry.proto: a conjunction of
// `field = "value"` terms joined by AND, e.g.
//   owner = "risk-team" AND tags.tier = "gold"
// Fields are dotted identifiers; `tags.<key>` selects a tag. Values are
// double-quoted strings with \" and \\ escapes.
import { InvalidArgumentError } from "@fti/errors";

export interface FilterTerm {
  /** The field as written, e.g. "owner" or "tags.tier". */
  field: string;
  value: string;
}

/**
 * Parses `filter`. `allowed` lists the accepted fields; "tags.*" accepts any
 * `tags.<key>`. Any syntax error or unknown field is INVALID_ARGUMENT naming
 * `fieldName`.
 */
export function parseFilter(filter: string, allowed: readonly string[], fieldName = "filter"): FilterTerm[] {
  const fail = (why: string): never => {
    throw InvalidArgumentError.field(fieldName, `${why}; expected terms like field = "value" joined by AND (fields: ${allowed.join(", ")})`);
  };
  const terms: FilterTerm[] = [];
  let i = 0;
  const skipSpace = () => {
    while (i < filter.length && /\s/.test(filter[i]!)) i++;
  };
  skipSpace();
  if (i === filter.length) return terms;
  for (;;) {
    skipSpace();
    const fieldMatch = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z0-9_-]+)*/.exec(filter.slice(i));
    if (!fieldMatch) fail(`a field name is expected at position ${i}`);
    const field = fieldMatch![0];
    i += field.length;
    skipSpace();
    if (filter[i] !== "=") fail(`"=" is expected after "${field}"`);
    i++;
    skipSpace();
    if (filter[i] !== '"') fail(`a double-quoted value is expected after "${field} ="`);
    i++;
    let value = "";
    for (;;) {
      if (i >= filter.length) fail(`the value of "${field}" is missing its closing quote`);
      const c = filter[i]!;
      if (c === "\\") {
        const next = filter[i + 1];
        if (next !== '"' && next !== "\\") fail(`unknown escape at position ${i}`);
        value += next;
        i += 2;
      } else if (c === '"') {
        i++;
        break;
      } else {
        value += c;
        i++;
      }
    }
    const isTag = field.startsWith("tags.") && field.length > 5;
    if (!(allowed.includes(field) || (isTag && allowed.includes("tags.*")))) fail(`unknown filter field "${field}"`);
    terms.push({ field, value });
    skipSpace();
    if (i === filter.length) return terms;
    const and = /^AND\b/.exec(filter.slice(i));
    if (!and) fail(`"AND" is expected at position ${i}`);
    i += 3;
  }
}

/** The tag key of a `tags.<key>` term, or undefined for other fields. */
export function tagKey(term: FilterTerm): string | undefined {
  return term.field.startsWith("tags.") ? term.field.slice(5) : undefined;
}
