// A column filled value by value, for batches assembled over time (the
// prediction log buffers a few hundred requests before it publishes). A
// fixed-width column grows a typed array and a validity bitmap, which live
// outside the JS heap: buffered values cost the garbage collector nothing,
// where a Value[] holding numbers and nulls is one heap object per number, all
// of them promoted to old space while they wait.
import type { FeatureType, Value } from "@fti/schema";
import { fixedWidthArray, isFixedWidthType, type FixedWidthArray, type FixedWidthColumn, type FixedWidthType, type TypedColumn } from "./encode.js";

export class ColumnBuilder {
  private rows = 0;
  private nulls = 0;
  private data: FixedWidthArray | undefined;
  private validity: Uint8Array | undefined;
  private readonly values: Value[] | undefined;

  constructor(
    readonly name: string,
    readonly type: FeatureType,
    capacity = 64,
  ) {
    if (isFixedWidthType(type)) {
      this.data = fixedWidthArray(type, capacity);
      this.validity = new Uint8Array(Math.ceil(capacity / 8));
    } else {
      this.values = [];
    }
  }

  get length(): number {
    return this.rows;
  }

  /** Appends one row's value (null for none). */
  append(value: Value): void {
    if (this.values) {
      this.values.push(value);
      this.rows++;
      return;
    }
    if (this.rows === this.data!.length) this.grow();
    const i = this.rows++;
    if (value === null || value === undefined) {
      this.nulls++;
      return; // data stays 0, the validity bit stays clear
    }
    this.validity![i >> 3]! |= 1 << (i & 7);
    const data = this.data!;
    switch (this.type as FixedWidthType) {
      case "bool":
        data[i] = value === true ? 1 : 0;
        break;
      case "timestamp":
        data[i] = BigInt((value as Date).getTime()) * 1000n;
        break;
      default:
        data[i] = value as number & bigint;
    }
  }

  /** The column so far, for encodeRecordBatch (fixed-width columns share this builder's arrays: encode before appending more). */
  column(): TypedColumn | FixedWidthColumn {
    if (this.values) return { name: this.name, type: this.type, values: this.values };
    const column: FixedWidthColumn = { name: this.name, type: this.type as FixedWidthType, data: this.data!.subarray(0, this.rows) as FixedWidthArray };
    if (this.nulls > 0) column.validity = this.validity!.subarray(0, Math.ceil(this.rows / 8));
    return column;
  }

  private grow() {
    const data = fixedWidthArray(this.type as FixedWidthType, Math.max(8, this.data!.length * 2));
    data.set(this.data! as never);
    this.data = data;
    const validity = new Uint8Array(Math.ceil(data.length / 8));
    validity.set(this.validity!);
    this.validity = validity;
  }
}
