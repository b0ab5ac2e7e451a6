// Five-field cron expressions (minute hour day-of-month month day-of-week)
// with `*`, lists, ranges and steps, read in an IANA time zone. As in Vixie
// cron, when both day fields are restricted a day matching either one runs.
import { InvalidArgumentError } from "@fti/errors";

export interface CronExpression {
  minutes: Set<number>;
  hours: Set<number>;
  daysOfMonth: Set<number>;
  months: Set<number>;
  daysOfWeek: Set<number>;
  anyDayOfMonth: boolean;
  anyDayOfWeek: boolean;
}

const fields = [
  { name: "minute", min: 0, max: 59 },
  { name: "hour", min: 0, max: 23 },
  { name: "day of month", min: 1, max: 31 },
  { name: "month", min: 1, max: 12 },
  { name: "day of week", min: 0, max: 7 },
] as const;

export function parseCron(expression: string, field = "cron"): CronExpression {
  const parts = expression.trim().split(/\s+/);
  if (parts.length !== 5) throw InvalidArgumentError.field(field, `"${expression}" must have 5 fields: minute hour day-of-month month day-of-week`);
  const sets = parts.map((part, i) => parseField(part, fields[i]!, field));
  // 7 is Sunday too.
  if (sets[4]!.delete(7)) sets[4]!.add(0);
  return { minutes: sets[0]!, hours: sets[1]!, daysOfMonth: sets[2]!, months: sets[3]!, daysOfWeek: sets[4]!, anyDayOfMonth: parts[2] === "*", anyDayOfWeek: parts[4] === "*" };
}

function parseField(text: string, spec: (typeof fields)[number], field: string): Set<number> {
  const out = new Set<number>();
  const fail = (why: string): never => {
    throw InvalidArgumentError.field(field, `${spec.name} "${text}": ${why}`);
  };
  for (const item of text.split(",")) {
    const m = /^(\*|(\d+)(?:-(\d+))?)(?:\/(\d+))?$/.exec(item);
    if (!m) fail("expected *, a number, a range a-b, a list, or a step /n");
    const step = m![4] === undefined ? 1 : Number(m![4]);
    if (step < 1) fail("a step must be at least 1");
    let lo: number = spec.min;
    let hi: number = spec.max;
    if (m![1] !== "*") {
      lo = Number(m![2]);
      hi = m![3] === undefined ? (m![4] === undefined ? lo : spec.max) : Number(m![3]);
    }
    if (lo < spec.min || hi > spec.max || lo > hi) fail(`values must be within ${spec.min}-${spec.max}`);
    for (let v = lo; v <= hi; v += step) out.add(v);
  }
  return out;
}

export function assertTimeZone(timeZone: string, field = "time_zone"): string {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone });
    return timeZone;
  } catch {
    throw InvalidArgumentError.field(field, `"${timeZone}" is not an IANA time zone, e.g. "UTC" or "Europe/Paris"`);
  }
}

const formats = new Map<string, Intl.DateTimeFormat>();
function localFields(date: Date, timeZone: string) {
  let format = formats.get(timeZone);
  if (!format) {
    format = new Intl.DateTimeFormat("en-US", { timeZone, hourCycle: "h23", year: "numeric", month: "numeric", day: "numeric", hour: "numeric", minute: "numeric", weekday: "short" });
    formats.set(timeZone, format);
  }
  const parts = Object.fromEntries(format.formatToParts(date).map((p) => [p.type, p.value]));
  return {
    month: Number(parts.month),
    day: Number(parts.day),
    hour: Number(parts.hour),
    minute: Number(parts.minute),
    weekday: ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"].indexOf(parts.weekday!),
  };
}

/** The first minute strictly after `after` that the expression matches, in `timeZone`. */
export function nextRun(cron: CronExpression, after: Date, timeZone = "UTC"): Date {
  let t = Math.floor(after.getTime() / 60_000) * 60_000 + 60_000;
  for (let i = 0; i < 200_000; i++) {
    const local = localFields(new Date(t), timeZone);
    const dayOk =
      cron.anyDayOfMonth && cron.anyDayOfWeek
        ? true
        : cron.anyDayOfMonth
          ? cron.daysOfWeek.has(local.weekday)
          : cron.anyDayOfWeek
            ? cron.daysOfMonth.has(local.day)
            : cron.daysOfMonth.has(local.day) || cron.daysOfWeek.has(local.weekday);
    if (!cron.months.has(local.month) || !dayOk) {
      t += (24 * 60 - (local.hour * 60 + local.minute)) * 60_000; // next local midnight
      continue;
    }
    if (!cron.hours.has(local.hour)) {
      t += (60 - local.minute) * 60_000;
      continue;
    }
    if (cron.minutes.has(local.minute)) return new Date(t);
    t += 60_000;
  }
  throw new Error("cron expression never matches"); // e.g. "0 0 31 2 *"
}
