/**
 * `vigil report disclosure <capture> --out DIR`: the manufacturer disclosure reports (one per vendor
 * whose devices leak their internals) and the hospital-wide leak summary, as Markdown and/or HTML.
 * Runs the same pipeline as `vigil analyze` (sensor → inventory → assessment).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import pc from 'picocolors';
import type { LeakFinding } from '../assess/finding.ts';
import { fileSource, type ByteSource } from '../capture/source.ts';
import type { AssessedDevice } from '../inventory/inventory.ts';
import { analyse } from './pipeline.ts';
import { disclosureReports, leakSummary, renderHtml, renderMarkdown, renderSummaryHtml, renderSummaryMarkdown, type DeviceWithLeaks, type VendorReport } from '../report/disclosure.ts';

export interface ReportDisclosureOptions {
  outDir: string;
  /** Only this vendor's report (name, case-insensitive, or its file slug); the summary is always written. */
  vendor?: string;
  format: 'md' | 'html' | 'both';
  /** Show addresses and host names (internal use only). */
  includeAddresses?: boolean;
  asOf?: Date;
  hospital?: string;
  contact?: string;
  /** Directory of imported advisories; default the user's data directory. */
  knowledgeDir?: string;
}

/** Until assessInventory attaches leak findings, a device without them has none. */
function withLeaks(d: AssessedDevice & { leaks?: readonly LeakFinding[] }): DeviceWithLeaks {
  return { ...d, leaks: d.leaks ?? [] };
}

function matchesVendor(r: VendorReport, wanted: string): boolean {
  const w = wanted.trim().toLowerCase();
  return r.vendor.toLowerCase() === w || r.slug === w;
}

/** Exit codes: 0 written, 1 the capture could not be read, 2 no report for the vendor asked for. */
export async function reportDisclosureCommand(capture: string, o: ReportDisclosureOptions): Promise<number> {
  let source: ByteSource;
  try {
    source = await fileSource(capture);
  } catch (e) {
    process.stderr.write(`vigil: ${capture}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}\n`);
    return 1;
  }
  const asOf = o.asOf ?? new Date();
  const a = await analyse(source, { asOf, ...(o.knowledgeDir !== undefined ? { knowledgeDir: o.knowledgeDir } : {}) });
  const { report, error } = a.run;
  if (error !== undefined) {
    const where = error.frame > 0 ? `offset ${error.offset}, frame ${error.frame}` : `offset ${error.offset}`;
    process.stderr.write(`${pc.yellow('vigil:')} ${capture}: ${error.message} (${where})\n`);
    if (report.frames === 0) return 1;
  }
  const inv = a.inventory;
  const devices = inv.devices.map(withLeaks);
  const opts = {
    asOf,
    ...(o.hospital !== undefined ? { hospital: o.hospital } : {}),
    ...(o.contact !== undefined ? { contact: o.contact } : {}),
    ...(o.includeAddresses === true ? { includeAddresses: true } : {}),
  };
  let reports = disclosureReports(devices, opts);
  let code = 0;
  if (o.vendor !== undefined) {
    const wanted = o.vendor;
    reports = reports.filter((r) => matchesVendor(r, wanted));
    if (reports.length === 0) {
      process.stderr.write(`vigil: no device of '${wanted}' leaked its internals in ${capture}\n`);
      code = 2;
    }
  }
  await mkdir(o.outDir, { recursive: true });
  const md = o.format === 'md' || o.format === 'both';
  const html = o.format === 'html' || o.format === 'both';
  const out = process.stdout;
  const write = async (name: string, text: string, what: string): Promise<void> => {
    const path = join(o.outDir, name);
    await writeFile(path, text);
    out.write(`${path}  ${pc.dim(what)}\n`);
  };
  for (const r of reports) {
    const what = `${r.vendor}: ${r.devices.length} device${r.devices.length === 1 ? '' : 's'}, ${r.issues.length} leak pattern${r.issues.length === 1 ? '' : 's'}, highest ${r.highestSeverity}`;
    if (md) await write(`${r.slug}.md`, renderMarkdown(r), what);
    if (html) await write(`${r.slug}.html`, renderHtml(r), what);
  }
  const summary = leakSummary(devices, opts);
  const what = `summary: ${summary.leakingDevices} of ${summary.devices} devices leak, ${summary.byVendor.length} manufacturer${summary.byVendor.length === 1 ? '' : 's'}`;
  if (md) await write('summary.md', renderSummaryMarkdown(summary), what);
  if (html) await write('summary.html', renderSummaryHtml(summary), what);
  return code;
}
