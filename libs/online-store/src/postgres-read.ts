// The online read's round trip on pg's connection, without pg's generic Query.
//
// One round trip carries the reads of several tables: a Bind and an Execute
// of each table's prepared statement, then one Sync, written at once. A
// feature view over two groups then costs one send and one reply instead of
// two of each (on this kind of machine a loopback send is ~20 µs of CPU).
//
// pg's Query would also describe the portal on every execution, so Postgres
// sends the row description (a few dozen bytes per column) each time and pg
// builds a parser per column for each result. A read plan knows its columns
// and their types already, so there is no Describe; each text field is
// decoded by a decoder chosen once per column: the text parsers pg would pick
// by type OID. Statements are parsed once per connection, as pg does for
// named statements (its bookkeeping, `parsedStatements`, is shared with it).
//
// It follows pg's "submittable" contract (client.query(submittable), as
// pg-cursor does): submit() writes the messages; the client routes the
// backend's replies to the handle* methods; callback() ends it.
import pg from "pg";
import type { FeatureType, ScalarType } from "@fti/schema";

/** Decodes one text-format field (never null). */
export type FieldDecoder = (text: string) => unknown;

// Type OIDs whose text parsers (pg's defaults, pg-types) decode what is not parsed here.
const byteaOid = 17;
const arrayOids: Record<ScalarType, number> = { bool: 1000, int32: 1007, int64: 1016, float: 1021, double: 1022, string: 1009, bytes: 1001, timestamp: 1185 };

/**
 * The decoder of a column of `type`, giving what pg's query would have given
 * (int8 as a string, timestamptz as a Date, bytea as a Buffer, arrays as arrays).
 * Columns read as `timestamp` here are selected as epoch milliseconds (see `selectColumn`).
 */
export function fieldDecoder(type: FeatureType): FieldDecoder {
  if (typeof type === "string") {
    switch (type) {
      case "double":
      case "float":
      case "int32":
        return Number;
      case "int64":
      case "string":
        return (text) => text;
      case "bool":
        return (text) => text === "t";
      case "timestamp":
        return (text) => new Date(Number(text));
      case "bytes":
        return pg.types.getTypeParser(byteaOid, "text") as FieldDecoder;
    }
  }
  return pg.types.getTypeParser("array" in type ? arrayOids[type.array] : arrayOids.float, "text") as FieldDecoder;
}

/** A column in a read's SELECT list: timestamps as epoch milliseconds (cheaper to decode than their text form, and independent of the session's DateStyle). */
export function selectColumn(qualified: string, type: FeatureType): string {
  return type === "timestamp" ? `(extract(epoch from ${qualified}) * 1000)::float8` : qualified;
}

type Callback = (err: Error | null, results?: unknown[][][]) => void;

interface Connection {
  parsedStatements: Record<string, string>;
  submittedNamedStatements: Record<string, string>;
  stream: { cork?: () => void; uncork?: () => void };
  parse(query: { text: string; name: string; types: unknown[] }): void;
  bind(config: { statement: string; values: unknown[]; valueMapper: (value: unknown) => unknown }): void;
  execute(config: object): void;
  sync(): void;
  on(event: "parseComplete", listener: () => void): void;
  off(event: "parseComplete", listener: () => void): void;
}

export interface StatementRead {
  statement: { name: string; text: string };
  values: unknown[];
  decoders: readonly FieldDecoder[];
}

/** Executions of prepared statements in one round trip; each one's rows as arrays of decoded values. */
export class PreparedReads {
  callback?: Callback;
  private readonly results: unknown[][][];
  /** Which result the backend is sending now (an Execute's rows end with its CommandComplete). */
  private current = 0;
  private failure?: Error;
  /** Statements parsed by this round trip, in order, and how many the backend confirmed. */
  private parsing: { name: string; text: string }[] = [];
  private parsed = 0;
  private connection?: Connection;
  private readonly onParseComplete = () => void this.parsed++;

  constructor(private readonly reads: readonly StatementRead[]) {
    this.results = reads.map(() => []);
  }

  submit(connection: Connection): null {
    this.connection = connection;
    for (const { statement } of this.reads)
      if (connection.parsedStatements[statement.name] === undefined && connection.submittedNamedStatements[statement.name] === undefined && !this.parsing.some((p) => p.name === statement.name))
        this.parsing.push(statement);
    if (this.parsing.length) connection.on("parseComplete", this.onParseComplete);
    connection.stream.cork?.();
    try {
      for (const statement of this.parsing) {
        connection.parse({ text: statement.text, name: statement.name, types: [] });
        connection.submittedNamedStatements[statement.name] = statement.text;
      }
      for (const read of this.reads) {
        connection.bind({ statement: read.statement.name, values: read.values, valueMapper: prepareValue });
        connection.execute({});
      }
      connection.sync();
    } finally {
      connection.stream.uncork?.();
    }
    return null;
  }

  handleRowDescription(): void {}

  handleDataRow(msg: { fields: (string | null)[] }): void {
    if (this.failure) return;
    const { fields } = msg;
    const decoders = this.reads[this.current]!.decoders;
    const row = new Array<unknown>(fields.length);
    try {
      for (let i = 0; i < fields.length; i++) {
        const text = fields[i];
        row[i] = text === null || text === undefined ? null : decoders[i]!(text);
      }
    } catch (err) {
      this.failure = err as Error;
      return;
    }
    this.results[this.current]!.push(row);
  }

  handleCommandComplete(): void {
    this.current++;
  }

  handleEmptyQuery(): void {}
  handlePortalSuspended(): void {}

  handleCopyInResponse(connection: { sendCopyFail(message: string): void }): void {
    connection.sendCopyFail("not a COPY");
  }

  handleCopyData(): void {}

  handleError(err: Error): void {
    // The backend skips everything up to the Sync after an error: statements not yet parsed never were.
    this.settleParses();
    this.callback?.(err);
  }

  handleReadyForQuery(): void {
    this.settleParses();
    if (this.failure) this.callback?.(this.failure);
    else this.callback?.(null, this.results);
  }

  /** Records the statements the backend parsed, forgets the ones it did not. */
  private settleParses(): void {
    const connection = this.connection;
    if (!connection || this.parsing.length === 0) return;
    connection.off("parseComplete", this.onParseComplete);
    this.parsing.forEach((statement, i) => {
      delete connection.submittedNamedStatements[statement.name];
      if (i < this.parsed) connection.parsedStatements[statement.name] = statement.text;
    });
    this.parsing = [];
  }
}

/** Parameters as pg's own queries send them (arrays, Buffers, Dates, bigints). */
const prepareValue = (pg as unknown as { utils: { prepareValue(value: unknown): unknown } }).utils.prepareValue;
