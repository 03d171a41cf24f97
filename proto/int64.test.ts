import { describe, expect, test } from 'vitest';
import { AdjustInfo } from './gen/trans.ts';

// int64 on the wire without precision loss: AdjustInfo's fields are bigint (ts-proto forceLong=bigint), so every
// int64 a Go peer sends decodes exactly, and what we encode is what Go's protobuf encodes.
// The hex strings are Go's bytes for AdjustInfo{Amount, UserID} (google.golang.org/protobuf, protowire varints).
const GO_BYTES: [bigint, bigint, string][] = [
  [30n, 1n, '081e1001'],
  [9007199254740993n, 1n, '0881808080808080101001'], // 2^53 + 1: the first integer a double cannot hold
  [9223372036854775807n, 2n, '08ffffffffffffffff7f1002'], // 2^63 - 1
  [-30n, 1n, '08e2ffffffffffffffff011001'], // a negative int64 is ten bytes: it decodes, the bank refuses it
];

describe('AdjustInfo int64 fields', () => {
  test.each(GO_BYTES)(
    'Amount %s, UserID %s: Go’s bytes decode exactly and encode back the same',
    (amount, user, hex) => {
      const decoded = AdjustInfo.decode(Buffer.from(hex, 'hex'));
      expect(decoded).toEqual({ Amount: amount, UserID: user });
      expect(Buffer.from(AdjustInfo.encode({ Amount: amount, UserID: user }).finish()).toString('hex')).toBe(hex);
    },
  );
});
