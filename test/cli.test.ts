/** The CLI as a user meets it: exit codes, one-line errors, stdin, JSON lines, live capture. */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdtempSync, rmSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { corpus } from './helpers/observe.ts';
import { canCaptureOnLoopback } from './helpers/live.ts';

const VIGIL = new URL('../bin/vigil.js', import.meta.url).pathname;
const tmp = mkdtempSync(join(tmpdir(), 'vigil-cli-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

function vigil(args: string[], input?: Buffer) {
  const r = spawnSync(process.execPath, [VIGIL, ...args], { input, encoding: 'utf8', maxBuffer: 64 << 20 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('a file that is not a capture: one clear line naming it, exit 1', () => {
  const f = join(tmp, 'notes.txt');
  writeFileSync(f, 'these are not packets\n');
  const r = vigil(['analyze', f]);
  assert.equal(r.code, 1);
  assert.equal(r.stderr.trim().split('\n').length, 1);
  assert.match(r.stderr, /notes\.txt: not a pcap or pcapng capture .*offset 0/);
  assert.equal(r.stdout, '');
});

test('a missing file and a directory: exit 1', () => {
  assert.equal(vigil(['analyze', join(tmp, 'nope.pcap')]).code, 1);
  assert.match(vigil(['analyze', tmp]).stderr, /directory/);
});

test('a truncated capture: what could be read is reported, with a warning naming offset and frame, exit 0', () => {
  const whole = readFileSync(corpus('pcaps/medical/dicom/dicom-dcmtk-loopback.pcap'));
  const f = join(tmp, 'cut.pcap');
  writeFileSync(f, whole.subarray(0, whole.length - 50));
  const r = vigil(['analyze', f, '--no-progress']);
  assert.equal(r.code, 0);
  assert.match(r.stderr, /cut\.pcap: capture truncated: .*offset \d+, frame 110/);
  assert.match(r.stdout, /109 frames/);
});

test('stdin and --json: JSON lines of observations, flows and a final summary', () => {
  const bytes = readFileSync(corpus('pcaps/medical/dicom/dicom-dcmtk-loopback.pcap'));
  const r = vigil(['analyze', '-', '--json'], bytes);
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { type: string; frames?: number });
  const summary = lines.at(-1);
  assert.equal(summary?.type, 'summary');
  assert.equal(summary?.frames, 110);
  assert.equal(lines.filter((l) => l.type === 'flow').length, 6);
});

test('the installed command finds its reference data (p0f signatures) and reports every protocol without errors', () => {
  const r = vigil(['analyze', new URL('../samples/hospital-sample.pcap', import.meta.url).pathname, '--json']);
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { type: string; protocol?: string; attribute?: string; dissectors?: Record<string, { errors: number }> });
  assert.ok(lines.some((l) => l.type === 'observation' && l.protocol === 'tcp' && l.attribute === 'os'));
  const summary = lines.at(-1);
  for (const [name, s] of Object.entries(summary?.dissectors ?? {})) assert.equal(s.errors, 0, `${name} errors`);
});

test('on a terminal: the progress bar loads and the analysis completes (loaded in the bundle, which cannot import())', { skip: spawnSync('script', ['--version']).status !== 0 && 'needs script(1) from util-linux' }, () => {
  // script(1) gives the command a pseudo-terminal: stderr is a TTY, so analyze draws its progress bar,
  // which it loads on demand.
  const sample = new URL('../samples/hospital-sample.pcap', import.meta.url).pathname;
  const r = spawnSync('script', ['-qec', `${JSON.stringify(process.execPath)} ${JSON.stringify(VIGIL)} analyze ${JSON.stringify(sample)} --no-inventory`, '/dev/null'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stdout);
  assert.match(r.stdout, /observations: [\d,]+ distinct/);
  assert.doesNotMatch(r.stdout, /ERR_VM_DYNAMIC_IMPORT/);
});

test('--flows writes flow records to a file', () => {
  const out = join(tmp, 'flows.jsonl');
  const r = vigil(['analyze', corpus('pcaps/identity/ndpi/netbios.pcap'), '--flows', out]);
  assert.equal(r.code, 0, r.stderr);
  const flows = readFileSync(out, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { proto: string; clientIp: string });
  assert.ok(flows.length > 0);
  assert.ok(flows.every((f) => typeof f.clientIp === 'string' && f.proto !== undefined));
});

test('live capture on the loopback interface through tcpdump (receive-only)', { skip: !canCaptureOnLoopback() && 'needs tcpdump and root' }, async () => {
  const child = spawn(process.execPath, [VIGIL, 'capture', '-i', 'lo', '-c', '6', '-f', 'udp port 47123', '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<number | null>((resolve) => child.on('close', resolve));
  // Traffic only to our own loopback port, until the capture has what it asked for.
  const sock = createSocket('udp4');
  let finished = false;
  void done.then(() => (finished = true));
  const deadline = Date.now() + 15000;
  while (!finished && Date.now() < deadline) {
    sock.send('vigil live capture test', 47123, '127.0.0.1');
    await new Promise((r) => setTimeout(r, 100));
  }
  sock.close();
  if (!finished) child.kill('SIGINT');
  const code = await done;
  assert.equal(code, 0, stderr);
  const summary = JSON.parse(stdout.trim().split('\n').at(-1) as string) as { frames: number; ipPackets: number };
  assert.equal(summary.frames, 6);
  assert.equal(summary.ipPackets, 6);
});

test('vigil runs V8 with its own interrupt budget (bin/v8-tuning.js), unless node is given one', () => {
  const sample = new URL('../samples/hospital-sample.pcap', import.meta.url).pathname;
  // Functions V8 optimises in one analysis of the sample; compiled synchronously, so the count does
  // not depend on how busy the machine is.
  const optimised = (nodeArgs: string[]) => {
    const r = spawnSync(process.execPath, ['--trace-opt', '--no-concurrent-recompilation', ...nodeArgs, VIGIL, 'analyze', sample, '--no-progress'], { encoding: 'utf8', maxBuffer: 64 << 20 });
    assert.equal(r.status, 0, r.stderr);
    return r.stdout.split('\n').filter((l) => l.startsWith('[completed compiling')).length;
  };
  const tuned = optimised([]);
  const atDefault = optimised(['--interrupt-budget=67584']);
  // A larger budget: fewer functions reach the optimising compiler in a short run. If node stops
  // taking the setting at run time, both counts are the same and this fails.
  assert.ok(tuned < atDefault, `${tuned} functions optimised with Vigil's budget, ${atDefault} with V8's default`);
});
