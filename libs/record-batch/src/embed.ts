// Puts already-encoded bytes into a generated message as one of its fields:
// protobuf-es writes `$unknown` fields verbatim (tag, then the stored bytes, which
// for a length-delimited field start with the length), so a response carrying a
// large RecordBatch can skip the generic encoder (`encodeRecordBatch` wrote it)
// and still reach clients as an ordinary field. `create()` does not copy
// `$unknown` from an init object, so this sets it on the created message.
import type { Message } from "@bufbuild/protobuf";
import { BinaryWriter, WireType } from "@bufbuild/protobuf/wire";

export function withEncodedField<M extends Message>(message: M, fieldNumber: number, bytes: Uint8Array): M {
  const data = new BinaryWriter().bytes(bytes).finish();
  message.$unknown = [...(message.$unknown ?? []), { no: fieldNumber, wireType: WireType.LengthDelimited, data }];
  return message;
}
