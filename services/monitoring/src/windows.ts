// Tumbling windows aligned to the Unix epoch (monitoring.proto), identified by
// their start and size.
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { MessageInitShape } from "@bufbuild/protobuf";
import type { TimeRangeSchema } from "@fti/proto/fti/common/v1/types_pb";

export interface Window {
  start: Date;
  end: Date;
}

export function windowStartOf(timeMs: number, windowMs: number): number {
  return Math.floor(timeMs / windowMs) * windowMs;
}

export function windowAt(startMs: number, windowMs: number): Window {
  return { start: new Date(startMs), end: new Date(startMs + windowMs) };
}

/** The wire TimeRange of a window. */
export function timeRangeOf(window: Window): MessageInitShape<typeof TimeRangeSchema> {
  return { startTime: timestampFromDate(window.start), endTime: timestampFromDate(window.end) };
}

/** Groups row indexes by the window their time falls in. */
export function rowsByWindow(timesMs: ArrayLike<number>, windowMs: number): Map<number, number[]> {
  const out = new Map<number, number[]>();
  for (let i = 0; i < timesMs.length; i++) {
    const start = windowStartOf(timesMs[i]!, windowMs);
    (out.get(start) ?? out.set(start, []).get(start)!).push(i);
  }
  return out;
}
