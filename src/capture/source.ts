/**
 * Byte sources for the capture reader: a file, stdin, or any readable stream (tcpdump's pipe).
 * Everything arrives as an async iterable of Buffers, so the sensor core never knows where from.
 */
import { open } from 'node:fs/promises';
import type { Readable } from 'node:stream';

/** Chunk size for file reads: large enough to amortise the syscall and await, small enough for cache. */
const CHUNK = 1 << 20;

export interface ByteSource {
  /** Total size when known (files), for progress and time-left estimates. */
  size: number | undefined;
  chunks: AsyncIterable<Buffer>;
  /** Bytes handed out so far. */
  readonly position: number;
}

export async function fileSource(path: string): Promise<ByteSource> {
  const fh = await open(path, 'r');
  const st = await fh.stat();
  if (st.isDirectory()) {
    await fh.close();
    throw new Error(`${path} is a directory, not a capture file`);
  }
  let position = 0;
  async function* gen(): AsyncGenerator<Buffer> {
    try {
      for (;;) {
        // A fresh buffer per read: packets handed on are views into it and must stay valid.
        const buf = Buffer.allocUnsafe(CHUNK);
        const { bytesRead } = await fh.read(buf, 0, CHUNK, null);
        if (bytesRead === 0) return;
        position += bytesRead;
        yield bytesRead === CHUNK ? buf : buf.subarray(0, bytesRead);
      }
    } finally {
      await fh.close();
    }
  }
  return {
    size: st.isFile() ? st.size : undefined,
    chunks: gen(),
    get position() {
      return position;
    },
  };
}

export function streamSource(stream: Readable): ByteSource {
  let position = 0;
  async function* gen(): AsyncGenerator<Buffer> {
    for await (const chunk of stream) {
      const b = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string);
      position += b.length;
      yield b;
    }
  }
  return {
    size: undefined,
    chunks: gen(),
    get position() {
      return position;
    },
  };
}
