import { randomFillSync } from 'node:crypto';

/**
 * Request ids and W3C trace ids from a block of random bytes refilled 256 ids at a time, each
 * formatted as ASCII into a scratch buffer and read back as one flat string. `randomUUID` builds
 * its string from 20 concatenations (a rope that is flattened again when the header is written):
 * twice the time and about 600 bytes of garbage per request (bench/RESULTS.md, fifth session).
 */
const entropy = Buffer.allocUnsafe(24 * 256);
let offset = entropy.length;
const scratch = Buffer.allocUnsafe(64);
const HEX = Buffer.from('0123456789abcdef', 'latin1');

function take(bytes: number): number {
  if (offset + bytes > entropy.length) {
    randomFillSync(entropy);
    offset = 0;
  }
  const at = offset;
  offset += bytes;
  return at;
}

/** Writes `count` bytes of entropy from `from` as hex at `to`; returns the position after. */
function hex(from: number, count: number, to: number): number {
  for (let i = 0; i < count; i++) {
    const v = entropy[from + i]!;
    scratch[to++] = HEX[v >> 4]!;
    scratch[to++] = HEX[v & 15]!;
  }
  return to;
}

/** A random (version 4) UUID, as `crypto.randomUUID` gives. */
export function newRequestId(): string {
  const at = take(16);
  entropy[at + 6] = (entropy[at + 6]! & 0x0f) | 0x40; // version 4
  entropy[at + 8] = (entropy[at + 8]! & 0x3f) | 0x80; // RFC 9562 variant
  let to = hex(at, 4, 0);
  scratch[to++] = 45; // -
  to = hex(at + 4, 2, to);
  scratch[to++] = 45;
  to = hex(at + 6, 2, to);
  scratch[to++] = 45;
  to = hex(at + 8, 2, to);
  scratch[to++] = 45;
  to = hex(at + 10, 6, to);
  return scratch.toString('latin1', 0, to);
}

/** A new W3C traceparent: version 00, random trace id and parent id, sampled. */
export function newTraceparent(): string {
  const at = take(24);
  scratch[0] = 48; // 0
  scratch[1] = 48;
  scratch[2] = 45;
  let to = hex(at, 16, 3);
  scratch[to++] = 45;
  to = hex(at + 16, 8, to);
  scratch[to++] = 45;
  scratch[to++] = 48;
  scratch[to++] = 49; // 1
  return scratch.toString('latin1', 0, to);
}
