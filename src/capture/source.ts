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
  let readAt = 0;
  const read = async (): Promise<Buffer | undefined> => {
    // A fresh buffer per read: packets handed on are views into it and must stay valid.
    const buf = Buffer.allocUnsafe(CHUNK);
    const { bytesRead } = await fh.read(buf, 0, CHUNK, readAt);
    readAt += bytesRead;
    return bytesRead === 0 ? undefined : bytesRead === CHUNK ? buf : buf.subarray(0, bytesRead);
  };
  async function* gen(): AsyncGenerator<Buffer> {
    // Read ahead: the next chunk loads while the sensor works on this one.
    let next: Promise<Buffer | undefined> = read();
    try {
      for (;;) {
        const cur = await next;
        if (cur === undefined) return;
        next = read();
        position += cur.length;
        yield cur;
      }
    } finally {
      // A consumer that stops early leaves one read in flight: let it settle before closing.
      await next.catch(() => undefined);
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
