// The shape of one `fti` command.
import type { Context } from "./client.js";

export interface OptionSpec {
  type: "string" | "boolean";
  short?: string;
  multiple?: boolean;
  /** One line for `fti <cmd> --help`. */
  description: string;
}

export interface Parsed {
  positionals: string[];
  values: Record<string, string | boolean | string[] | boolean[] | undefined>;
}

export interface Command {
  name: string;
  /** One line for `fti help`. */
  summary: string;
  /** e.g. "fti plan <dir|file>... [--detailed-exitcode]". */
  usage: string;
  /** More help: what it does, examples. */
  help?: string;
  options: Record<string, OptionSpec>;
  /** Resolves to the exit code. */
  run(ctx: Context, args: Parsed): Promise<number>;
}

export const str = (v: Parsed["values"][string]): string | undefined => (typeof v === "string" ? v : undefined);
export const strs = (v: Parsed["values"][string]): string[] => (Array.isArray(v) ? (v as string[]) : typeof v === "string" ? [v] : []);
