/**
 * Knowledge from outside, and its validation: the zod schemas of Vigil's knowledge files (the
 * normalised shape of data/advisories.json and of every imported file, and data/os-flaws.json),
 * the input formats — CISA KEV catalog, CSAF 2.0 advisories, NVD CVE API 2.0 responses — with
 * their normalisers, and `vigil knowledge import`.
 *
 * zod costs ~0.1 s to load, so the analysis loads this module only when it has a file to validate
 * (a user-imported one: advisories.ts); the shipped files are read without it, and the tests check
 * that these schemas return them unchanged.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';

// ─── The normalised shape ──────────────────────────────────────────────────────────────────────

export const KevEntrySchema = z.object({
  cveID: z.string().min(1),
  vendorProject: z.string(),
  product: z.string(),
  name: z.string(),
  dateAdded: z.string(),
  dueDate: z.string().optional(),
  /** 'Known' or 'Unknown', as CISA writes it. */
  knownRansomwareCampaignUse: z.string(),
  shortDescription: z.string(),
  requiredAction: z.string(),
});
export type KevEntry = z.infer<typeof KevEntrySchema>;

/** One affected product of an advisory, flattened from the CSAF product tree (or an NVD CPE match). */
export const AffectedProductSchema = z.object({
  /** CSAF product_id (or `CVE…#n` for NVD). */
  id: z.string(),
  vendor: z.string(),
  product: z.string(),
  /** Version constraints exactly as the advisory gives them ('<= 4.3', 'vers:all/*', '6.x model 35700BAX', 'vers:generic/>=2.4.49|<2.4.51'). Any one may hold. Empty: not stated. */
  versions: z.array(z.string()),
  cpe: z.string().optional(),
  /** The advisory's full name of the product, when it says more than vendor + product + version. */
  name: z.string().optional(),
});
export type AffectedProduct = z.infer<typeof AffectedProductSchema>;

export const AdvisoryCveSchema = z.object({
  /** A CVE id (or the advisory's own id for a vulnerability that has none). */
  id: z.string(),
  cvss: z.number().min(0).max(10).optional(),
  /** Product ids it affects; absent: all the advisory's products. */
  products: z.array(z.string()).optional(),
});
export type AdvisoryCve = z.infer<typeof AdvisoryCveSchema>;

export const RemediationSchema = z.object({
  category: z.string(),
  text: z.string(),
  products: z.array(z.string()).optional(),
});
export type Remediation = z.infer<typeof RemediationSchema>;

export const AdvisorySchema = z.object({
  id: z.string().min(1),
  source: z.enum(['csaf', 'nvd']),
  title: z.string(),
  url: z.string().optional(),
  /** ISO date (YYYY-MM-DD) of first publication. */
  published: z.string().optional(),
  /** ISO date of the current revision: decides which copy wins when two share an id. */
  updated: z.string().optional(),
  cves: z.array(AdvisoryCveSchema),
  remediations: z.array(RemediationSchema),
  products: z.array(AffectedProductSchema),
});
export type Advisory = z.infer<typeof AdvisorySchema>;

export const KnowledgeSourceSchema = z.object({
  kind: z.enum(['kev', 'csaf', 'nvd']),
  /** What it was: 'CISA KEV catalog 2025.08.25', 'ICSMA-22-251-01', 'NVD CVE API 2.0 (3 CVEs)'. */
  name: z.string(),
  /** Release date of the source (catalog release, advisory revision, NVD timestamp). */
  date: z.string().optional(),
  entries: z.number().int().min(0),
});
export type KnowledgeSource = z.infer<typeof KnowledgeSourceSchema>;

/** The file format of data/advisories.json and of every file saved by `vigil knowledge import`. */
export const KnowledgeFileSchema = z.object({
  format: z.literal('vigil-knowledge'),
  version: z.literal(1),
  sources: z.array(KnowledgeSourceSchema),
  kev: z
    .object({
      catalogVersion: z.string().optional(),
      /** The catalog's release date: a newer catalog's entries win. */
      date: z.string().optional(),
      entries: z.array(KevEntrySchema),
    })
    .optional(),
  advisories: z.array(AdvisorySchema),
});
export type KnowledgeFile = z.infer<typeof KnowledgeFileSchema>;

/** The well-known flaws of old Windows releases (data/os-flaws.json). */
export const OsFlawSchema = z.object({
  /** The primary CVE. */
  id: z.string(),
  cves: z.array(z.string()).min(1),
  /** Microsoft bulletin or advisory ('MS17-010'), when there is one. */
  bulletin: z.string().optional(),
  /** The name it is known by ('EternalBlue'). */
  nickname: z.string().optional(),
  /** Used when none of the CVEs is in KEV (KEV's vulnerabilityName wins otherwise). */
  title: z.string(),
  /** endoflife.date product id → the release cycles the flaw affects. */
  affects: z.record(z.string(), z.array(z.string())),
  exposure: z.object({
    /** 'SMB', 'RDP' … */
    service: z.string(),
    transport: z.enum(['tcp', 'udp']),
    ports: z.array(z.number().int().min(1).max(65535)),
    /** Application names a dissector gives the service ('smb', 'rdp'). */
    apps: z.array(z.string()).default([]),
    /** The flaw needs a server role most machines do not run (DNS server, IIS): report only when the service is seen. */
    required: z.boolean().default(false),
  }),
  /** Observation flags that make it likelier (the vulnerable component is in use: 'smb1'). */
  raisedBy: z.array(z.string()).default([]),
  /** Observation flags that confirm it ('ms17-010-vulnerable-response'). */
  confirmedBy: z.array(z.string()).default([]),
  remediation: z.string(),
  url: z.string(),
  sources: z.array(z.string()).default([]),
});
export type OsFlaw = z.infer<typeof OsFlawSchema>;

export const OsFlawFileSchema = z.object({
  format: z.literal('vigil-os-flaws'),
  version: z.literal(1),
  flaws: z.array(OsFlawSchema),
});

/** The merged knowledge the matcher works on. */
// ─── Input formats (validated loosely: only what Vigil reads) ───────────────────────────────────

const KevInputSchema = z.looseObject({
  title: z.string().optional(),
  catalogVersion: z.string().optional(),
  dateReleased: z.string().optional(),
  vulnerabilities: z.array(
    z.looseObject({
      cveID: z.string().regex(/^CVE-\d{4}-\d{4,}$/, 'expected a CVE id'),
      vendorProject: z.string(),
      product: z.string(),
      vulnerabilityName: z.string(),
      dateAdded: z.string(),
      shortDescription: z.string(),
      requiredAction: z.string(),
      dueDate: z.string().optional(),
      knownRansomwareCampaignUse: z.string().optional(),
    }),
  ),
});
type KevInput = z.infer<typeof KevInputSchema>;

interface CsafBranch {
  category?: string | undefined;
  name?: string | undefined;
  product?: CsafFullProductName | undefined;
  branches?: CsafBranch[] | undefined;
}
const CsafHelperSchema = z.looseObject({ cpe: z.string().optional(), purl: z.string().optional() });
const CsafFullProductNameSchema = z.looseObject({
  name: z.string(),
  product_id: z.string(),
  product_identification_helper: CsafHelperSchema.optional(),
});
type CsafFullProductName = z.infer<typeof CsafFullProductNameSchema>;
const CsafBranchSchema: z.ZodType<CsafBranch> = z.lazy(() =>
  z.looseObject({
    category: z.string().optional(),
    name: z.string().optional(),
    product: CsafFullProductNameSchema.optional(),
    branches: z.array(CsafBranchSchema).optional(),
  }),
);
const CsafScoreSchema = z.looseObject({
  cvss_v3: z.looseObject({ baseScore: z.number() }).optional(),
  cvss_v2: z.looseObject({ baseScore: z.number() }).optional(),
  products: z.array(z.string()).optional(),
});
const CsafInputSchema = z.looseObject({
  document: z.looseObject({
    category: z.string(),
    csaf_version: z.string(),
    title: z.string(),
    tracking: z.looseObject({
      id: z.string().min(1),
      initial_release_date: z.string().optional(),
      current_release_date: z.string().optional(),
    }),
    references: z.array(z.looseObject({ category: z.string().optional(), url: z.string(), summary: z.string().optional() })).optional(),
  }),
  product_tree: z
    .looseObject({
      branches: z.array(CsafBranchSchema).optional(),
      full_product_names: z.array(CsafFullProductNameSchema).optional(),
      relationships: z
        .array(
          z.looseObject({
            product_reference: z.string(),
            relates_to_product_reference: z.string().optional(),
            full_product_name: CsafFullProductNameSchema,
          }),
        )
        .optional(),
    })
    .optional(),
  vulnerabilities: z
    .array(
      z.looseObject({
        cve: z.string().optional(),
        ids: z.array(z.looseObject({ system_name: z.string().optional(), text: z.string() })).optional(),
        title: z.string().optional(),
        scores: z.array(CsafScoreSchema).optional(),
        product_status: z.record(z.string(), z.array(z.string())).optional(),
        remediations: z.array(z.looseObject({ category: z.string(), details: z.string().optional(), product_ids: z.array(z.string()).optional() })).optional(),
      }),
    )
    .optional(),
});
type CsafInput = z.infer<typeof CsafInputSchema>;

const NvdCvssSchema = z.array(z.looseObject({ cvssData: z.looseObject({ baseScore: z.number() }), type: z.string().optional() }));
interface NvdNode {
  operator?: string | undefined;
  negate?: boolean | undefined;
  cpeMatch?: NvdCpeMatch[] | undefined;
  children?: NvdNode[] | undefined;
}
const NvdCpeMatchSchema = z.looseObject({
  vulnerable: z.boolean(),
  criteria: z.string(),
  versionStartIncluding: z.string().optional(),
  versionStartExcluding: z.string().optional(),
  versionEndIncluding: z.string().optional(),
  versionEndExcluding: z.string().optional(),
});
type NvdCpeMatch = z.infer<typeof NvdCpeMatchSchema>;
const NvdNodeSchema: z.ZodType<NvdNode> = z.lazy(() =>
  z.looseObject({
    operator: z.string().optional(),
    negate: z.boolean().optional(),
    cpeMatch: z.array(NvdCpeMatchSchema).optional(),
    children: z.array(NvdNodeSchema).optional(),
  }),
);
const NvdInputSchema = z.looseObject({
  format: z.string().optional(),
  version: z.string().optional(),
  timestamp: z.string().optional(),
  vulnerabilities: z.array(
    z.looseObject({
      cve: z.looseObject({
        id: z.string().regex(/^CVE-\d{4}-\d{4,}$/, 'expected a CVE id'),
        published: z.string().optional(),
        lastModified: z.string().optional(),
        descriptions: z.array(z.looseObject({ lang: z.string(), value: z.string() })),
        metrics: z
          .looseObject({
            cvssMetricV40: NvdCvssSchema.optional(),
            cvssMetricV31: NvdCvssSchema.optional(),
            cvssMetricV30: NvdCvssSchema.optional(),
            cvssMetricV2: NvdCvssSchema.optional(),
          })
          .optional(),
        configurations: z.array(z.looseObject({ nodes: z.array(NvdNodeSchema) })).optional(),
        references: z.array(z.looseObject({ url: z.string() })).optional(),
      }),
    }),
  ),
});
type NvdInput = z.infer<typeof NvdInputSchema>;

// ─── Normalisers ────────────────────────────────────────────────────────────────────────────────

const day = (iso: string | undefined): string | undefined => (iso === undefined || iso === '' ? undefined : iso.slice(0, 10));
const squash = (s: string): string => s.replace(/\s+/g, ' ').trim();

/** Cut long prose at a word boundary. */
export function shorten(s: string, max: number): string {
  const t = squash(s);
  if (t.length <= max) return t;
  const cut = t.slice(0, max - 1);
  const sp = cut.lastIndexOf(' ');
  return `${sp > max * 0.6 ? cut.slice(0, sp) : cut}…`;
}

function emptyFile(): KnowledgeFile {
  return { format: 'vigil-knowledge', version: 1, sources: [], advisories: [] };
}

/** A KEV catalog (cisagov/kev-data JSON) → the normalised file. */
export function normaliseKev(input: KevInput): KnowledgeFile {
  const entries: KevEntry[] = input.vulnerabilities.map((v) => ({
    cveID: v.cveID,
    vendorProject: squash(v.vendorProject),
    product: squash(v.product),
    name: squash(v.vulnerabilityName),
    dateAdded: v.dateAdded,
    ...(v.dueDate !== undefined ? { dueDate: v.dueDate } : {}),
    knownRansomwareCampaignUse: v.knownRansomwareCampaignUse ?? 'Unknown',
    shortDescription: squash(v.shortDescription),
    requiredAction: squash(v.requiredAction),
  }));
  const date = day(input.dateReleased);
  const file = emptyFile();
  file.kev = { ...(input.catalogVersion !== undefined ? { catalogVersion: input.catalogVersion } : {}), ...(date !== undefined ? { date } : {}), entries };
  file.sources.push({
    kind: 'kev',
    name: `CISA KEV catalog${input.catalogVersion !== undefined ? ` ${input.catalogVersion}` : ''}`,
    ...(date !== undefined ? { date } : {}),
    entries: entries.length,
  });
  return file;
}

/** CPE 2.3 formatted string → its parts (handles `\:` escapes). */
export function parseCpe(cpe: string): { part: string; vendor: string; product: string; version: string } | undefined {
  const parts: string[] = [];
  let cur = '';
  for (let i = 0; i < cpe.length; i++) {
    const c = cpe[i] as string;
    if (c === '\\' && i + 1 < cpe.length) {
      cur += cpe[i + 1];
      i++;
    } else if (c === ':') {
      parts.push(cur);
      cur = '';
    } else cur += c;
  }
  parts.push(cur);
  if (parts[0] === 'cpe' && parts[1] === '2.3' && parts.length >= 6) {
    return { part: parts[2] ?? '', vendor: parts[3] ?? '', product: parts[4] ?? '', version: parts[5] ?? '*' };
  }
  // CPE 2.2 URI: cpe:/a:vendor:product:version
  if (parts[0] === 'cpe' && (parts[1] ?? '').startsWith('/') && parts.length >= 4) {
    return { part: (parts[1] ?? '').slice(1), vendor: parts[2] ?? '', product: parts[3] ?? '', version: parts[4] ?? '*' };
  }
  return undefined;
}

const cpeWords = (s: string): string => s.replace(/_/g, ' ').trim();

const AFFECTED_STATUSES = ['known_affected', 'first_affected', 'last_affected'];
const VERSION_CATEGORIES = new Set(['product_version', 'product_version_range']);
const REMEDIATION_ORDER = ['vendor_fix', 'workaround', 'mitigation', 'none_available', 'no_fix_planned'];

/** A CSAF 2.0 document → the normalised file (one advisory). */
export function normaliseCsaf(input: CsafInput): KnowledgeFile {
  const doc = input.document;
  const id = doc.tracking.id.trim();
  const products = new Map<string, AffectedProduct>();

  const walk = (b: CsafBranch, ctx: Record<string, string>): void => {
    const here = { ...ctx };
    if (b.category !== undefined && b.name !== undefined) here[b.category] = squash(b.name);
    if (b.product !== undefined) products.set(b.product.product_id, fromContext(b.product, here));
    for (const c of b.branches ?? []) walk(c, here);
  };
  const fromContext = (p: CsafFullProductName, ctx: Record<string, string>): AffectedProduct => {
    const cpe = p.product_identification_helper?.cpe;
    const parsed = cpe !== undefined ? parseCpe(cpe) : undefined;
    const versions: string[] = [];
    for (const cat of VERSION_CATEGORIES) {
      const v = ctx[cat];
      if (v !== undefined) versions.push(v);
    }
    if (versions.length === 0 && parsed !== undefined && parsed.version !== '*' && parsed.version !== '-') versions.push(parsed.version);
    const productName = [ctx['product_family'], ctx['product_name']].filter((x): x is string => x !== undefined).join(' ') || (parsed !== undefined ? cpeWords(parsed.product) : squash(p.name));
    const vendor = ctx['vendor'] ?? (parsed !== undefined ? cpeWords(parsed.vendor) : '');
    const name = squash(p.name);
    return {
      id: p.product_id,
      vendor,
      product: productName,
      versions,
      ...(cpe !== undefined ? { cpe } : {}),
      ...(name !== productName ? { name } : {}),
    };
  };
  const tree = input.product_tree;
  for (const b of tree?.branches ?? []) walk(b, {});
  for (const p of tree?.full_product_names ?? []) if (!products.has(p.product_id)) products.set(p.product_id, fromContext(p, {}));
  for (const r of tree?.relationships ?? []) {
    const base = products.get(r.product_reference);
    if (base !== undefined && !products.has(r.full_product_name.product_id)) {
      products.set(r.full_product_name.product_id, { ...base, id: r.full_product_name.product_id, name: squash(r.full_product_name.name) });
    }
  }

  const vulns = input.vulnerabilities ?? [];
  const affectedIds = new Set<string>();
  const cves: AdvisoryCve[] = [];
  const remediations: Remediation[] = [];
  const seenRemediation = new Set<string>();
  vulns.forEach((v, i) => {
    const ids = new Set<string>();
    for (const status of AFFECTED_STATUSES) for (const pid of v.product_status?.[status] ?? []) ids.add(pid);
    for (const pid of ids) affectedIds.add(pid);
    let cvss: number | undefined;
    for (const s of v.scores ?? []) {
      const score = s.cvss_v3?.baseScore ?? s.cvss_v2?.baseScore;
      if (score !== undefined && (cvss === undefined || score > cvss)) cvss = score;
    }
    const vid = v.cve ?? v.ids?.[0]?.text ?? `${id}#${i + 1}`;
    cves.push({ id: vid, ...(cvss !== undefined ? { cvss } : {}), ...(ids.size > 0 ? { products: [...ids].sort() } : {}) });
    for (const r of v.remediations ?? []) {
      if (r.details === undefined || r.details.trim() === '') continue;
      const text = shorten(r.details, 300);
      const key = `${r.category}\u0000${text}`;
      if (seenRemediation.has(key)) continue;
      seenRemediation.add(key);
      remediations.push({ category: r.category, text, ...(r.product_ids !== undefined ? { products: [...r.product_ids].sort() } : {}) });
    }
  });
  // Only the products some vulnerability affects; a document that says nothing about status keeps all.
  const kept = affectedIds.size > 0 ? [...products.values()].filter((p) => affectedIds.has(p.id)) : [...products.values()];
  const keptIds = new Set(kept.map((p) => p.id));
  for (const c of cves) {
    if (c.products === undefined) continue;
    const inTree = c.products.filter((p) => keptIds.has(p));
    if (inTree.length === keptIds.size) delete c.products;
    else c.products = inTree;
  }
  for (const r of remediations) {
    if (r.products === undefined) continue;
    const inTree = r.products.filter((p) => keptIds.has(p));
    if (inTree.length === keptIds.size) delete r.products;
    else r.products = inTree;
  }
  const rank = (c: string): number => {
    const i = REMEDIATION_ORDER.indexOf(c);
    return i < 0 ? REMEDIATION_ORDER.length : i;
  };
  const shortList = remediations
    .map((r, i) => ({ r, i }))
    .sort((a, b) => rank(a.r.category) - rank(b.r.category) || a.i - b.i)
    .slice(0, 6)
    .map((x) => x.r);

  const refs = doc.references ?? [];
  const self = refs.filter((r) => r.category === 'self');
  const url = (self.find((r) => !r.url.endsWith('.json')) ?? self[0])?.url;
  const published = day(doc.tracking.initial_release_date);
  const updated = day(doc.tracking.current_release_date) ?? published;
  const advisory: Advisory = {
    id,
    source: 'csaf',
    title: squash(doc.title),
    ...(url !== undefined ? { url } : {}),
    ...(published !== undefined ? { published } : {}),
    ...(updated !== undefined ? { updated } : {}),
    cves,
    remediations: shortList,
    products: kept.sort((a, b) => a.id.localeCompare(b.id, 'en', { numeric: true })),
  };
  const file = emptyFile();
  file.advisories.push(advisory);
  file.sources.push({ kind: 'csaf', name: id, ...(updated !== undefined ? { date: updated } : {}), entries: cves.length });
  return file;
}

function nvdScore(metrics: NvdInput['vulnerabilities'][number]['cve']['metrics']): number | undefined {
  if (metrics === undefined) return undefined;
  for (const list of [metrics.cvssMetricV31, metrics.cvssMetricV30, metrics.cvssMetricV40, metrics.cvssMetricV2]) {
    if (list === undefined || list.length === 0) continue;
    const primary = list.find((m) => m.type === 'Primary') ?? list[0];
    if (primary !== undefined) return primary.cvssData.baseScore;
  }
  return undefined;
}

/** An NVD CPE match → a version constraint in vers-like syntax. */
function nvdConstraint(m: NvdCpeMatch, cpeVersion: string): string {
  const parts: string[] = [];
  if (m.versionStartIncluding !== undefined) parts.push(`>=${m.versionStartIncluding}`);
  if (m.versionStartExcluding !== undefined) parts.push(`>${m.versionStartExcluding}`);
  if (m.versionEndIncluding !== undefined) parts.push(`<=${m.versionEndIncluding}`);
  if (m.versionEndExcluding !== undefined) parts.push(`<${m.versionEndExcluding}`);
  if (parts.length > 0) return `vers:generic/${parts.join('|')}`;
  if (cpeVersion === '*' || cpeVersion === '-' || cpeVersion === '') return 'vers:all/*';
  return cpeVersion;
}

/** An NVD CVE API 2.0 response → the normalised file (one advisory per CVE). */
export function normaliseNvd(input: NvdInput): KnowledgeFile {
  const file = emptyFile();
  for (const { cve } of input.vulnerabilities) {
    const products: AffectedProduct[] = [];
    const seen = new Set<string>();
    const visit = (n: NvdNode): void => {
      if (n.negate !== true) {
        for (const m of n.cpeMatch ?? []) {
          if (!m.vulnerable) continue;
          const c = parseCpe(m.criteria);
          if (c === undefined) continue;
          const constraint = nvdConstraint(m, c.version);
          const key = `${c.vendor}:${c.product}:${constraint}`;
          if (seen.has(key)) continue;
          seen.add(key);
          products.push({ id: `${cve.id}#${products.length + 1}`, vendor: cpeWords(c.vendor), product: cpeWords(c.product), versions: [constraint], cpe: m.criteria });
        }
      }
      for (const ch of n.children ?? []) visit(ch);
    };
    for (const conf of cve.configurations ?? []) for (const n of conf.nodes) visit(n);
    const description = (cve.descriptions.find((d) => d.lang === 'en') ?? cve.descriptions[0])?.value ?? cve.id;
    const cvss = nvdScore(cve.metrics);
    const published = day(cve.published);
    const updated = day(cve.lastModified) ?? published;
    file.advisories.push({
      id: cve.id,
      source: 'nvd',
      title: shorten(description, 200),
      url: `https://nvd.nist.gov/vuln/detail/${cve.id}`,
      ...(published !== undefined ? { published } : {}),
      ...(updated !== undefined ? { updated } : {}),
      cves: [{ id: cve.id, ...(cvss !== undefined ? { cvss } : {}) }],
      remediations: [],
      products,
    });
  }
  const date = day(input.timestamp);
  file.sources.push({ kind: 'nvd', name: `NVD CVE API 2.0 (${input.vulnerabilities.length} CVE${input.vulnerabilities.length === 1 ? '' : 's'})`, ...(date !== undefined ? { date } : {}), entries: input.vulnerabilities.length });
  return file;
}

// ─── Format detection ───────────────────────────────────────────────────────────────────────────

export type KnowledgeKind = 'kev' | 'csaf' | 'nvd' | 'vigil';

const isObject = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);

/** What a parsed JSON document looks like, before validation. */
export function detectFormat(json: unknown): KnowledgeKind | undefined {
  if (!isObject(json)) return undefined;
  if (json['format'] === 'vigil-knowledge') return 'vigil';
  const doc = json['document'];
  if (isObject(doc) && typeof doc['csaf_version'] === 'string') return 'csaf';
  if (json['format'] === 'NVD_CVE') return 'nvd';
  const vulns = json['vulnerabilities'];
  if (Array.isArray(vulns)) {
    const first: unknown = vulns[0];
    if (typeof json['catalogVersion'] === 'string' || (isObject(first) && 'cveID' in first)) return 'kev';
    if (isObject(first) && isObject(first['cve'])) return 'nvd';
  }
  return undefined;
}

function issues(error: z.ZodError): string {
  const list = error.issues.slice(0, 3).map((i) => `${i.path.length > 0 ? i.path.join('.') : '(root)'}: ${i.message}`);
  const more = error.issues.length > 3 ? ` (+${error.issues.length - 3} more)` : '';
  return `${list.join('; ')}${more}`;
}

const KIND_NAMES: Record<KnowledgeKind, string> = {
  kev: 'KEV catalog',
  csaf: 'CSAF advisory',
  nvd: 'NVD CVE API 2.0 response',
  vigil: 'Vigil knowledge file',
};

/** Parse, detect, validate and normalise one document. Never throws: the error says what was wrong. */
export function normaliseDocument(json: unknown): { ok: true; kind: KnowledgeKind; file: KnowledgeFile } | { ok: false; error: string } {
  const kind = detectFormat(json);
  if (kind === undefined) return { ok: false, error: 'not a KEV catalog, CSAF 2.0 advisory or NVD CVE API 2.0 response' };
  switch (kind) {
    case 'kev': {
      const r = KevInputSchema.safeParse(json);
      return r.success ? { ok: true, kind, file: normaliseKev(r.data) } : { ok: false, error: `invalid ${KIND_NAMES[kind]}: ${issues(r.error)}` };
    }
    case 'csaf': {
      const r = CsafInputSchema.safeParse(json);
      if (!r.success) return { ok: false, error: `invalid ${KIND_NAMES[kind]}: ${issues(r.error)}` };
      if (!r.data.document.csaf_version.startsWith('2.')) return { ok: false, error: `CSAF version ${r.data.document.csaf_version} is not supported (2.0 is)` };
      return { ok: true, kind, file: normaliseCsaf(r.data) };
    }
    case 'nvd': {
      const r = NvdInputSchema.safeParse(json);
      return r.success ? { ok: true, kind, file: normaliseNvd(r.data) } : { ok: false, error: `invalid ${KIND_NAMES[kind]}: ${issues(r.error)}` };
    }
    case 'vigil': {
      const r = KnowledgeFileSchema.safeParse(json);
      return r.success ? { ok: true, kind, file: r.data } : { ok: false, error: `invalid ${KIND_NAMES[kind]}: ${issues(r.error)}` };
    }
  }
}

/** A parsed Vigil knowledge file, validated. Never throws: the error says what was wrong. */
export function validateKnowledgeFile(json: unknown): { ok: true; file: KnowledgeFile } | { ok: false; error: string } {
  const r = KnowledgeFileSchema.safeParse(json);
  return r.success ? { ok: true, file: r.data } : { ok: false, error: issues(r.error) };
}

/** A knowledge file (the normalised shape) read from a path and validated. Throws on a broken file. */
export function readKnowledgeFile(path: string): KnowledgeFile {
  const r = validateKnowledgeFile(JSON.parse(readFileSync(path, 'utf8')));
  if (!r.ok) throw new Error(`${path}: invalid knowledge file: ${r.error}`);
  return r.file;
}

/** An OS flaw list read from a path and validated. Throws on a broken file. */
export function readOsFlawFile(path: string): OsFlaw[] {
  const r = OsFlawFileSchema.safeParse(JSON.parse(readFileSync(path, 'utf8')));
  if (!r.success) throw new Error(`${path}: invalid OS flaw list: ${issues(r.error)}`);
  return r.data.flaws;
}

// ─── Import ─────────────────────────────────────────────────────────────────────────────────────

export type ImportResult =
  /** entries: KEV entries for a catalog, CVEs for an advisory or NVD response. */
  | { file: string; ok: true; kind: KnowledgeKind; what: string; entries: number; savedAs: string }
  | { file: string; ok: false; error: string };

function savedName(kind: KnowledgeKind, file: KnowledgeFile, text: string): string {
  const hash = createHash('sha256').update(text).digest('hex').slice(0, 10);
  const first = file.advisories[0]?.id ?? file.kev?.catalogVersion ?? 'file';
  const slug = first.toLowerCase().replace(/[^a-z0-9.-]+/g, '-').slice(0, 60);
  return `${kind === 'vigil' ? 'imported' : kind}-${slug}-${hash}.json`;
}

/**
 * Read each file, detect KEV / CSAF 2.0 / NVD CVE API 2.0 (or a Vigil knowledge file), validate,
 * normalise and save it into `dir`. One result per file; a bad file is reported, never thrown.
 */
export async function importKnowledge(files: string[], dir: string): Promise<ImportResult[]> {
  const results: ImportResult[] = [];
  let made = false;
  for (const path of files) {
    let json: unknown;
    try {
      const text = await readFile(path, 'utf8');
      try {
        json = JSON.parse(text);
      } catch (e) {
        results.push({ file: path, ok: false, error: `not JSON (${(e as Error).message})` });
        continue;
      }
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      results.push({ file: path, ok: false, error: err.code === 'ENOENT' ? 'no such file' : err.code === 'EISDIR' ? 'is a directory' : err.message });
      continue;
    }
    const n = normaliseDocument(json);
    if (!n.ok) {
      results.push({ file: path, ok: false, error: n.error });
      continue;
    }
    // Entries: KEV entries, or the CVEs an advisory / NVD response describes.
    const entries = n.file.sources.reduce((sum, src) => sum + src.entries, 0);
    if ((n.file.kev?.entries.length ?? 0) + n.file.advisories.length === 0) {
      results.push({ file: path, ok: false, error: `${KIND_NAMES[n.kind]} with no entries` });
      continue;
    }
    try {
      if (!made) {
        await mkdir(dir, { recursive: true });
        made = true;
      }
      const text = `${JSON.stringify(n.file)}\n`;
      const name = savedName(n.kind, n.file, text);
      const target = join(dir, name);
      const tmp = `${target}.${process.pid}.tmp`;
      await writeFile(tmp, text);
      await rename(tmp, target);
      const what = n.kind === 'csaf' ? `CSAF advisory ${n.file.advisories[0]?.id ?? ''}` : n.file.sources.map((s) => s.name).join(', ') || KIND_NAMES[n.kind];
      results.push({ file: path, ok: true, kind: n.kind, what, entries, savedAs: target });
    } catch (e) {
      results.push({ file: path, ok: false, error: `could not save into ${dir}: ${(e as Error).message}` });
    }
  }
  return results;
}
