// Time ranges of requests: half-open [start, end), either side optional.
import { timestampMs } from "@bufbuild/protobuf/wkt";
import { InvalidArgumentError } from "@fti/errors";
import type { TimeRange } from "@fti/proto/fti/common/v1/types_pb";

export interface RangeMs {
  startMs?: number;
  endMs?: number;
}

/** The range in epoch milliseconds; INVALID_ARGUMENT naming `field` when it ends before it starts. */
export function rangeOf(range: TimeRange | undefined, field: string): RangeMs {
  const startMs = range?.startTime ? timestampMs(range.startTime) : undefined;
  const endMs = range?.endTime ? timestampMs(range.endTime) : undefined;
  if (startMs !== undefined && endMs !== undefined && endMs <= startMs)
    throw InvalidArgumentError.field(`${field}.end_time`, `must be after start_time (${new Date(startMs).toISOString()}), got ${new Date(endMs).toISOString()}`);
  return { ...(startMs !== undefined ? { startMs } : {}), ...(endMs !== undefined ? { endMs } : {}) };
}
