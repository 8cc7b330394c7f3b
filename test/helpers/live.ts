/** Whether this machine can capture on the loopback interface: tcpdump installed and running as root. */
import { execFileSync } from 'node:child_process';

export function canCaptureOnLoopback(): boolean {
  try {
    execFileSync('tcpdump', ['--version'], { stdio: 'ignore' });
    return process.getuid?.() === 0;
  } catch {
    return false;
  }
}
