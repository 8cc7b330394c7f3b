/**
 * Byte sources for the capture reader: a file, stdin, or any readable stream (tcpdump's pipe).
 * Everything arrives as an async iterable of Buffers, so the sensor core never knows where from.
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { open } from 'node:fs/promises';
import type { Readable } from 'node:stream';

/** Chunk size for file reads: large enough to amortise the syscall and the thread-pool hop. */
const CHUNK = 4 << 20;
/** Reads in flight ahead of the one being analysed (libuv's pool has four threads). */
const READ_AHEAD = 2;

export interface ByteSource {
  /** Total size when known (files), for progress and time-left estimates. */
  size: number | undefined;
  chunks: AsyncIterable<Buffer>;
  /**
   * Files only: the next chunk read synchronously (undefined at the end). From the page cache a
   * blocking read is cheaper than a hop through libuv's thread pool; the driver yields to the event
   * loop between batches of chunks.
   */
  nextSync?(): Buffer | undefined;
  close?(): void;
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
    // Claim the file range before awaiting: several reads are in flight at once.
    const at = readAt;
    readAt += CHUNK;
    const { bytesRead } = await fh.read(buf, 0, CHUNK, at);
    return bytesRead === 0 ? undefined : bytesRead === CHUNK ? buf : buf.subarray(0, bytesRead);
  };
  async function* gen(): AsyncGenerator<Buffer> {
    // Read ahead: the next chunks load while the sensor works on this one.
    const queue: Array<Promise<Buffer | undefined>> = [];
    for (let i = 0; i < READ_AHEAD; i++) queue.push(read());
    try {
      for (;;) {
        const cur = await (queue.shift() as Promise<Buffer | undefined>);
        if (cur === undefined) return;
        queue.push(read());
        position += cur.length;
        yield cur;
      }
    } finally {
      // A consumer that stops early leaves reads in flight: let them settle before closing.
      await Promise.allSettled(queue);
      await fh.close();
    }
  }
  // The synchronous path uses its own descriptor, so the async generator's handle is never touched.
  // It reuses one buffer: the sensor keeps no view of a chunk beyond push() (whatever it holds on
  // to, it copies), and a fresh 4 MiB buffer per read costs a page fault per 4 KiB.
  let fd = -1;
  let syncAt = 0;
  let syncBuf: Buffer | undefined;
  return {
    size: st.isFile() ? st.size : undefined,
    chunks: gen(),
    get position() {
      return position;
    },
    nextSync(): Buffer | undefined {
      if (fd < 0) {
        fd = openSync(path, 'r');
        void fh.close();
      }
      syncBuf ??= Buffer.allocUnsafe(CHUNK);
      const buf = syncBuf;
      const n = readSync(fd, buf, 0, CHUNK, syncAt);
      syncAt += n;
      position += n;
      return n === 0 ? undefined : n === CHUNK ? buf : buf.subarray(0, n);
    },
    close(): void {
      if (fd >= 0) closeSync(fd);
      fd = -1;
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
