/**
 * Live capture from a network interface, receive-only.
 *
 * Vigil runs Debian's tcpdump as a child process and reads the pcap stream it writes to stdout
 * (`tcpdump -w -`). Why a child process and not a Node libpcap binding: the capture privilege
 * (CAP_NET_RAW) stays in a small, audited, maintained program instead of the analysis process;
 * a crash on either side cannot take the other down; and the maintained bindings were unreliable
 * here (`cap` corrupted its heap under load, `pcap` is NAN-era). tcpdump opens the interface for
 * reading only — it has no way to transmit — and `-w -` with `-U` hands packets over as they arrive.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { streamSource, type ByteSource } from './source.ts';

export interface LiveOptions {
  interface: string;
  /** Stop after this many packets. */
  count?: number;
  /** BPF filter expression (tcpdump syntax). */
  filter?: string;
  /** Snap length; 0 = whole frames. */
  snapLen?: number;
  /** The kernel's capture buffer, MiB (tcpdump -B; default 64). */
  bufferMiB?: number;
  /** Program to run (default tcpdump from PATH). */
  tcpdump?: string;
}

export interface LiveCapture {
  source: ByteSource;
  process: ChildProcess;
  /** Stops the capture; the source then ends after the buffered packets. */
  stop(): void;
  /** Resolves with tcpdump's stderr and exit code once it exits. */
  exited: Promise<{ code: number | null; stderr: string }>;
}

export function tcpdumpArgs(o: LiveOptions): string[] {
  // -n: no name lookups (a passive sensor must not emit DNS queries of its own).
  // -B: Vigil reads nothing while it is busy otherwise (grouping a checkpoint's devices, a slice of
  // its report, a collection: tens of milliseconds), and what the kernel's buffer cannot hold
  // meanwhile is dropped; libpcap's default 2 MiB fills in ~20 ms at 1 Gb/s, 64 MiB in ~0.5 s.
  const args = ['-i', o.interface, '-n', '-U', '-B', String((o.bufferMiB ?? 64) * 1024), '-s', String(o.snapLen ?? 0), '-w', '-'];
  if (o.count !== undefined) args.push('-c', String(o.count));
  if (o.filter !== undefined && o.filter.length > 0) args.push(o.filter);
  return args;
}

export function startLiveCapture(o: LiveOptions): LiveCapture {
  const child = spawn(o.tcpdump ?? 'tcpdump', tcpdumpArgs(o), { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (d: string) => {
    // Keep only the tail: tcpdump is quiet, but a flood of warnings must not grow memory.
    stderr = (stderr + d).slice(-4096);
  });
  const exited = new Promise<{ code: number | null; stderr: string }>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stderr }));
  });
  return {
    source: streamSource(child.stdout),
    process: child,
    stop: () => {
      if (child.exitCode === null) child.kill('SIGINT');
    },
    exited,
  };
}
