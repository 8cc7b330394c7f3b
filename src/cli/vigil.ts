/** The `vigil` command line. */
import { Command, InvalidArgumentError } from 'commander';
import { analyzeCommand, captureCommand } from './analyze.ts';
import { parseDuration } from './format.ts';

function positiveInt(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError('expected a positive integer');
  return n;
}

function isoDate(v: string): Date {
  const d = new Date(`${v}T00:00:00Z`);
  if (!/^\d{4}-\d{2}-\d{2}$/.test(v) || Number.isNaN(d.getTime())) throw new InvalidArgumentError('expected a date as YYYY-MM-DD');
  return d;
}

function learnDuration(v: string): number {
  const s = parseDuration(v);
  if (!(s > 0)) throw new InvalidArgumentError('expected a duration such as 90m, 24h or 2d');
  return s;
}

const program = new Command();
program.name('vigil').description('Passive security monitor for connected medical devices: it only listens.').version('0.1.0');

program
  .command('analyze')
  .description('read a pcap or pcapng capture (or - for stdin) and report what each host revealed about itself')
  .argument('<capture>', 'capture file, or - to read stdin (tcpdump -w - | vigil analyze -)')
  .option('--json', 'write observations and flows as JSON lines to stdout (the summary goes to stderr)')
  .option('--flows <file>', 'write flow records as JSON lines to a file')
  .option('--all-observations', 'emit every observation, not only the first of each host/attribute/value')
  .option('--no-progress', 'no progress bar')
  .option('--devices <n>', 'devices to show in the inventory table', positiveInt, 40)
  .option('--csv <file>', 'write the inventory as CSV to a file (- for stdout, instead of the table)')
  .option('--as-of <date>', 'assess end of life as of this date (YYYY-MM-DD; default today)', isoDate)
  .option('--learn <duration>', 'capture time that learns normal behaviour before departures are reported (90m, 24h, 2d)', learnDuration)
  .option('--no-inventory', 'report observations only, without building the device inventory')
  .option('--no-behaviour', 'the inventory and its findings without learning behaviour (no baseline, no online model)')
  .option('--hosts <n>', 'also show the protocol-level view of the first n hosts', positiveInt)
  .action(async (capture: string, opts: { json?: boolean; flows?: string; allObservations?: boolean; progress: boolean; hosts?: number; devices: number; csv?: string; asOf?: Date; inventory: boolean; behaviour: boolean; learn?: number }) => {
    process.exitCode = await analyzeCommand(capture, opts);
  });

program
  .command('capture')
  .description('capture live from an interface (receive-only, via tcpdump) and report as analyze does')
  .requiredOption('-i, --interface <name>', 'interface to listen on (a SPAN or tap port)')
  .option('-c, --count <n>', 'stop after n packets', positiveInt)
  .option('-f, --filter <bpf>', 'capture filter (tcpdump syntax)')
  .option('--json', 'write observations and flows as JSON lines to stdout')
  .option('--flows <file>', 'write flow records as JSON lines to a file')
  .option('--devices <n>', 'devices to show in the inventory table', positiveInt, 40)
  .option('--hosts <n>', 'also show the protocol-level view of the first n hosts', positiveInt)
  .action(async (opts: { interface: string; count?: number; filter?: string; json?: boolean; flows?: string; hosts?: number; devices: number }) => {
    process.exitCode = await captureCommand(opts);
  });

program
  .command('simulate')
  .description('write a capture of a synthetic hospital network and its ground truth (<out>.truth.json)')
  .option('-n, --devices <n>', 'number of devices', positiveInt, 100)
  .option('-d, --duration <time>', 'simulated time: 90s, 30m, 24h, 7d', '1h')
  .option('-s, --seed <seed>', 'random seed: the same seed gives the same capture', 'vigil')
  .option('--start <iso-date>', 'capture start time (UTC)', '2026-11-23T00:00:00Z')
  .option('--catalogue <file>', 'device catalogue (JSON)', 'data/simulator/catalogue.json')
  .option('--max-packets <n>', 'stop after n packets', positiveInt)
  .option('--incidents <list>', 'labelled incidents to inject: all, none, or a comma list (recon-error-pages, port-scan, exfiltration, dicom-unknown-destination, rogue-device, cleartext-credentials)', 'all')
  .option('-o, --out <file>', 'capture to write', 'hospital.pcap')
  .action(async (opts: { devices: number; duration: string; seed: string; start: string; catalogue: string; maxPackets?: number; incidents: string; out: string }) => {
    // Loaded on use: analysing a capture should not pay for the simulator's start-up.
    const { simulateCommand } = await import('./simulate.ts');
    process.exitCode = await simulateCommand(opts);
  });

program
  .command('demo')
  .description('simulate a small hospital (with incidents) and analyse it: Vigil at work in one step')
  .option('-n, --devices <n>', 'number of devices', positiveInt, 60)
  .option('-d, --duration <time>', 'simulated time', '2h')
  .option('-s, --seed <seed>', 'random seed', 'demo')
  .option('--keep <dir>', 'keep the capture and its truth file in this directory')
  .action(async (opts: { devices: number; duration: string; seed: string; keep?: string }) => {
    const { demoCommand } = await import('./simulate.ts');
    process.exitCode = await demoCommand(opts);
  });

const report = program.command('report').description('reports to share: manufacturer disclosure of leaking devices');
report
  .command('disclosure')
  .description('per-vendor disclosure reports (Markdown and HTML) of devices that leak their internals, and a hospital-wide summary')
  .argument('<capture>', 'capture file to analyse')
  .requiredOption('-o, --out <dir>', 'directory to write <vendor>.md/.html and summary.md/.html into')
  .option('--vendor <name>', 'only this vendor (name or file slug)')
  .option('--format <f>', 'md, html or both', 'both')
  .option('--hospital <name>', 'the reporting hospital, as it should appear in the report')
  .option('--contact <text>', 'who the manufacturer should answer')
  .option('--include-addresses', 'keep IP and MAC addresses and host names (internal use: remove before sending)')
  .option('--as-of <date>', 'assess as of this date (YYYY-MM-DD)', isoDate)
  .action(async (capture: string, opts: { out: string; vendor?: string; format: string; hospital?: string; contact?: string; includeAddresses?: boolean; asOf?: Date }) => {
    if (opts.format !== 'md' && opts.format !== 'html' && opts.format !== 'both') {
      process.stderr.write(`vigil report disclosure: --format must be md, html or both\n`);
      process.exitCode = 2;
      return;
    }
    const { reportDisclosureCommand } = await import('./report.ts');
    const { out, format, ...rest } = opts;
    process.exitCode = await reportDisclosureCommand(capture, { outDir: out, format, ...rest });
  });

program
  .command('serve')
  .description('serve the inventory and alerts (REST API) from the embedded database or PostgreSQL; --read analyses a capture into it')
  .option('-p, --port <n>', 'TCP port (0: any free one)', (v: string) => Number(v), 8600)
  .option('--host <address>', 'address to listen on', '127.0.0.1')
  .option('--data-dir <dir>', 'where the embedded database lives (default $VIGIL_DATA_DIR or ~/.local/share/vigil)')
  .option('--database <url>', 'PostgreSQL instead of the embedded database (postgres://…)')
  .option('--read <file>', "analyse this capture into the store ('-': stdin, e.g. tcpdump -w - | vigil serve --read -), then keep serving")
  .option('--watch <dir>', 'analyse each capture file a capture tool finishes in this directory (tcpdump -G, dumpcap -b)')
  .option('--demo', 'load a simulated hospital morning (with labelled incidents) into the store')
  .option('-i, --interface <name>', 'capture live from this interface (receive-only, via tcpdump) and analyse continuously')
  .option('--checkpoint <seconds>', 'seconds between writes of the live analysis to the store', (v: string) => Number(v), 60)
  .option('--learn <duration>', 'capture time that learns normal behaviour before departures are reported (default 24h; the demo 4h)', learnDuration)
  .option('--trust-proxy', 'behind a TLS reverse proxy: trust its X-Forwarded-For/-Proto (per-client login limits, Secure cookies)')
  .option('--retention-days <days>', 'days of traffic summaries (communication peers, volume) kept, counted back from the newest', (v: string) => Number(v), 30)
  .action(async (opts: { port: number; host: string; dataDir?: string; database?: string; read?: string; watch?: string; demo?: boolean; interface?: string; checkpoint: number; retentionDays: number; learn?: number; trustProxy?: boolean }) => {
    if (!Number.isInteger(opts.port) || opts.port < 0 || opts.port > 65535) {
      process.stderr.write('vigil serve: --port must be 0–65535\n');
      process.exitCode = 2;
      return;
    }
    if (!(opts.retentionDays > 0)) {
      process.stderr.write('vigil serve: --retention-days must be a positive number\n');
      process.exitCode = 2;
      return;
    }
    const { serveCommand } = await import('./serve.ts');
    process.exitCode = await serveCommand(opts);
  });

const users = program.command('users').description('accounts for the server: admin, analyst, clinical-engineer, read-only');
users
  .command('add')
  .description('add a user; the password is read from stdin (echo "$PW" | vigil users add jane --role analyst)')
  .argument('<name>', 'user name')
  .requiredOption('--role <role>', 'admin, analyst, clinical-engineer or read-only')
  .option('--data-dir <dir>', 'where the embedded database lives (default $VIGIL_DATA_DIR or ~/.local/share/vigil)')
  .option('--database <url>', 'PostgreSQL instead of the embedded database (postgres://…)')
  .action(async (name: string, opts: { role: string; dataDir?: string; database?: string }) => {
    const { usersAddCommand } = await import('./users.ts');
    process.exitCode = await usersAddCommand(name, opts);
  });

const knowledge = program.command('knowledge').description('reference data: advisories and catalogues Vigil matches devices against');
knowledge
  .command('import')
  .description('load newer CISA KEV, CSAF 2.0 or NVD CVE API 2.0 JSON files you downloaded (kept in the data directory)')
  .argument('<files...>', 'JSON files')
  .option('--data-dir <dir>', 'Vigil data directory (default $VIGIL_DATA_DIR or ~/.local/share/vigil)')
  .action(async (files: string[], opts: { dataDir?: string }) => {
    const { knowledgeImportCommand } = await import('./knowledge.ts');
    process.exitCode = await knowledgeImportCommand(files, opts);
  });

// The pipe may close early (`vigil analyze x --json | head`): that is not an error.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw e;
});

// Not a top-level await: the bundle is CommonJS (see scripts/build.mjs). A rejection still ends the
// process with the error, as an unhandled rejection does.
void program.parseAsync(process.argv);
