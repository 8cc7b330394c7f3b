/**
 * Big-endian reads straight from the bytes. Buffer.readUInt16BE and friends validate their
 * argument on every call; on the per-packet path that check costs more than the read. Callers
 * bound-check before reading (an index past the end yields 0 here, never an exception).
 */
export function u16(b: Uint8Array, o: number): number {
  return (((b[o] as number) << 8) | (b[o + 1] as number)) >>> 0;
}

export function u32(b: Uint8Array, o: number): number {
  return (((b[o] as number) << 24) | ((b[o + 1] as number) << 16) | ((b[o + 2] as number) << 8) | (b[o + 3] as number)) >>> 0;
}

export function u16le(b: Uint8Array, o: number): number {
  return ((b[o] as number) | ((b[o + 1] as number) << 8)) >>> 0;
}

export function u32le(b: Uint8Array, o: number): number {
  return ((b[o] as number) | ((b[o + 1] as number) << 8) | ((b[o + 2] as number) << 16) | ((b[o + 3] as number) << 24)) >>> 0;
}
