/**
 * Sensor throughput beside its peers, on the same capture, in one run, each pinned to one core:
 *
 *   - Vigil:    `vigil analyze FILE` (decode + flows + reassembly + every dissector)
 *   - tshark:   `tshark -r FILE -T fields -e …` extracting the same identity fields
 *   - Suricata: `suricata -r FILE --runmode single` with EVE protocol logging on, no rules
 *
 * Prints packets/s for each and Vigil's ratio to each peer, plus Vigil's peak RSS; then the same
 * sensor in a long-running process (bench/sensor-warm.ts: passes over the file in one process, the
 * JIT warm, as `vigil serve` and `vigil capture` run). Writes the figures to bench/out/sensor.json.
 *
 *   node --import tsx bench/sensor.ts FILE.pcap [--runs N] [--skip-tshark] [--skip-suricata]
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const here = new URL('.', import.meta.url).pathname;
const repo = resolve(here, '..');

/** The fields Vigil's dissectors extract, as tshark names them. */
export const TSHARK_FIELDS = [
  'frame.number',
  'ip.src',
  'ip.dst',
  'tcp.srcport',
  'tcp.dstport',
  'udp.srcport',
  'udp.dstport',
  'tcp.flags',
  'tcp.window_size_value',
  'tcp.options.mss_val',
  'ip.ttl',
  'dhcp.option.hostname',
  'dhcp.option.vendor_class_id',
  'dhcp.option.request_list_item',
  'dns.qry.name',
  'dns.ptr.domain_name',
  'dns.txt',
  'nbns.name',
  'http.request.method',
  'http.request.uri',
  'http.host',
  'http.user_agent',
  'http.server',
  'http.response.code',
  'tls.handshake.extensions_server_name',
  'tls.handshake.ja3',
  'tls.handshake.ciphersuite',
  'x509sat.uTF8String',
  'ntlmssp.version.major',
  'ntlmssp.version.minor',
  'ntlmssp.version.build_number',
  'ntlmssp.auth.username',
  'ntlmssp.auth.hostname',
  'smb.native_os',
  'smb2.dialect',
  'dicom.assoc.ae.calling',
  'dicom.assoc.ae.called',
  'dicom.userinfo.uid',
  'dicom.userinfo.version',
  'snmp.name',
  'snmp.value.octets',
];

interface Result {
  tool: string;
  seconds: number;
  packetsPerSecond: number;
  maxRssMb?: number;
  note?: string;
}

function packetsIn(file: string): number {
  const out = execFileSync('capinfos', ['-c', '-M', file], { encoding: 'utf8' });
  const m = /Number of packets:\s+(\d+)/.exec(out);
  if (m === null) throw new Error(`capinfos could not count ${file}`);
  return Number(m[1]);
}

let RUNS = 1;
/** The core every tool is pinned to (VIGIL_BENCH_CPU, default 0): one core each, the same core for all. */
const CPU = process.env['VIGIL_BENCH_CPU'] ?? '0';

interface Tool {
  name: string;
  cmd: string;
  args: string[];
  cwd?: string;
}

/**
 * Runs every tool RUNS times, interleaved (A B C, A B C, …), each pinned to the same CPU; returns each
 * one's median wall time and largest max RSS. Interleaving matters on a shared (virtual) machine whose
 * speed drifts over minutes: each tool meets the same conditions, so the ratios hold even when the
 * seconds do not.
 */
function timedInterleaved(tools: Tool[]): Map<string, { seconds: number; maxRssMb: number }> {
  const runs = new Map<string, { seconds: number; maxRssMb: number }[]>(tools.map((t) => [t.name, []]));
  for (let r = 0; r < RUNS; r++) {
    for (const t of tools) {
      const one = timedOnce(t.cmd, t.args, t.cwd !== undefined ? { cwd: t.cwd } : {});
      runs.get(t.name)?.push(one);
      process.stderr.write(`run ${r + 1}/${RUNS}  ${t.name.padEnd(28)} ${one.seconds.toFixed(2)} s\n`);
    }
  }
  const out = new Map<string, { seconds: number; maxRssMb: number }>();
  for (const [name, rs] of runs) {
    const sorted = rs.map((x) => x.seconds).sort((a, b) => a - b);
    out.set(name, { seconds: sorted[Math.floor(sorted.length / 2)] as number, maxRssMb: Math.max(...rs.map((x) => x.maxRssMb)) });
  }
  return out;
}

/** Runs a command once pinned to one CPU under /usr/bin/time; returns wall seconds and max RSS. */
function timedOnce(cmd: string, args: string[], opts: { cwd?: string } = {}): { seconds: number; maxRssMb: number; stderr: string } {
  const started = process.hrtime.bigint();
  const r = spawnSync('/usr/bin/time', ['-f', 'VIGIL_BENCH_RSS_KB=%M', 'taskset', '-c', CPU, cmd, ...args], {
    cwd: opts.cwd,
    encoding: 'utf8',
    stdio: ['ignore', 'ignore', 'pipe'],
    maxBuffer: 64 << 20,
  });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (r.status !== 0) throw new Error(`${cmd} exited with ${r.status}: ${r.stderr.slice(-2000)}`);
  const m = /VIGIL_BENCH_RSS_KB=(\d+)/.exec(r.stderr);
  return { seconds, maxRssMb: m !== null ? Number(m[1]) / 1024 : NaN, stderr: r.stderr };
}

function suricataConfig(dir: string): string {
  // Minimal config: EVE JSON with the protocol loggers that match Vigil's dissectors; no rules.
  const yaml = `%YAML 1.1
---
default-log-dir: ${dir}
outputs:
  - eve-log:
      enabled: yes
      filetype: regular
      filename: eve.json
      types:
        - dns
        - http:
            extended: yes
        - tls:
            extended: yes
        - smb
        - dhcp:
            extended: yes
        - snmp
        - ssh
        - flow
app-layer:
  protocols:
    tls: { enabled: yes }
    http: { enabled: yes }
    smb: { enabled: yes }
    dns: { tcp: { enabled: yes }, udp: { enabled: yes } }
    dhcp: { enabled: yes }
    snmp: { enabled: yes }
    krb5: { enabled: yes }
    ssh: { enabled: yes }
stream:
  memcap: 1gb
  reassembly:
    memcap: 2gb
flow:
  memcap: 1gb
pcap-file:
  checksum-checks: no
logging:
  default-log-level: warning
  outputs:
    - console:
        enabled: yes
`;
  const path = join(dir, 'suricata.yaml');
  writeFileSync(path, yaml);
  return path;
}

function main(): void {
  const args = process.argv.slice(2);
  const file = args.find((a, i) => !a.startsWith('--') && args[i - 1] !== '--runs');
  if (file === undefined) throw new Error('usage: sensor.ts FILE.pcap [--runs N] [--skip-tshark] [--skip-suricata]');
  const ri = args.indexOf('--runs');
  if (ri >= 0) RUNS = Math.max(1, Number(args[ri + 1]));
  const packets = packetsIn(file);
  const results: Result[] = [];
  process.stderr.write(`capture: ${file}, ${packets.toLocaleString('en')} packets\n`);

  // Vigil: the CLI as a user runs it (startup included), all dissectors, summary output; the sensor
  // alone, as the peers are (bench/inventory.ts measures what the inventory adds).
  const tools: Tool[] = [{ name: 'vigil', cmd: process.execPath, args: [join(repo, 'bin/vigil.js'), 'analyze', file, '--no-progress', '--no-inventory'], cwd: repo }];
  if (!args.includes('--skip-tshark')) {
    const fieldArgs = ['-n', '-r', file, '-T', 'fields'];
    for (const f of TSHARK_FIELDS) fieldArgs.push('-e', f);
    // Decode DICOM on its registered ports as well as by heuristics.
    fieldArgs.push('-d', 'tcp.port==11112,dicom');
    tools.push({ name: 'tshark -T fields', cmd: 'tshark', args: fieldArgs });
  }
  const dir = mkdtempSync(join(tmpdir(), 'vigil-bench-suricata-'));
  try {
    if (!args.includes('--skip-suricata')) {
      const conf = suricataConfig(dir);
      tools.push({ name: 'suricata --runmode single', cmd: 'suricata', args: ['-c', conf, '-r', file, '--runmode', 'single', '-l', dir, '-S', '/dev/null', '-k', 'none'] });
    }
    for (const [tool, t] of timedInterleaved(tools)) results.push({ tool, seconds: t.seconds, packetsPerSecond: packets / t.seconds, maxRssMb: t.maxRssMb });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }

  // The same sensor in a long-running process (serve, capture): start-up and JIT warm-up paid once.
  const w = spawnSync('taskset', ['-c', CPU, process.execPath, '--import', 'tsx', join(here, 'sensor-warm.ts'), file, '--passes', '4'], { cwd: repo, encoding: 'utf8', maxBuffer: 16 << 20 });
  if (w.status !== 0) throw new Error(`sensor-warm.ts exited with ${w.status}: ${w.stderr.slice(-2000)}`);
  const warm = JSON.parse(w.stdout.trim().split('\n').pop() ?? '{}') as { passes: number[] };
  const later = warm.passes.slice(1).sort((a, b) => a - b);
  const warmSeconds = later[Math.floor(later.length / 2)] ?? NaN;
  process.stderr.write(`vigil warm ${warmSeconds.toFixed(2)} s (passes ${warm.passes.map((x) => x.toFixed(2)).join(', ')})\n`);

  const vigil = results[0] as Result;
  console.log(`\nSensor throughput on ${packets.toLocaleString('en')} packets (one core, the same for all, runs interleaved, median of ${RUNS})\n`);
  console.log('| tool | seconds | packets/s | Vigil is | peak RSS |');
  console.log('|---|---:|---:|---:|---:|');
  for (const r of results) {
    const ratio = r === vigil ? '—' : `${(vigil.packetsPerSecond / r.packetsPerSecond).toFixed(2)}×`;
    console.log(`| ${r.tool} | ${r.seconds.toFixed(2)} | ${Math.round(r.packetsPerSecond).toLocaleString('en')} | ${ratio} | ${r.maxRssMb?.toFixed(0) ?? '?'} MB |`);
  }
  console.log(
    `\nVigil in a long-running process (vigil serve, vigil capture): ${warmSeconds.toFixed(2)} s a pass, ${Math.round(packets / warmSeconds).toLocaleString('en')} packets/s ` +
      `(median of passes 2–${warm.passes.length} over the same file in one process; the first, with the JIT still cold, ${(warm.passes[0] ?? NaN).toFixed(2)} s)`,
  );
  mkdirSync(join(here, 'out'), { recursive: true });
  writeFileSync(join(here, 'out', 'sensor.json'), JSON.stringify({ file, packets, date: new Date().toISOString(), results, warm: { passes: warm.passes, seconds: warmSeconds } }, null, 2));
}

main();
