/**
 * The schema of data/os-lifecycle.json (zod) and its validation: for the tests and for
 * scripts/build-os-lifecycle.ts. The analysis reads the shipped table without it (see
 * os-lifecycle.ts): zod costs ~0.1 s to load, more than the whole table takes to read.
 */
import { z } from 'zod';

const IsoDate = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'YYYY-MM-DD');

export const LifecycleCycleSchema = z.strictObject({
  /** endoflife.date release cycle ('7-sp1', '2008-r2-sp1', '12'), or the supplement's id. */
  cycle: z.string().min(1),
  label: z.string().min(1),
  releaseDate: IsoDate.optional(),
  /**
   * End of security support: a date; `true` when it has ended but the source gives no date
   * (old Android releases); absent when no end is announced.
   */
  eol: z.union([IsoDate, z.literal(true)]).optional(),
  /** End of paid extended security support (endoflife.date's `eoes`). */
  extendedEol: IsoDate.optional(),
  /** Latest version of the cycle as endoflife.date gives it ('6.1.7601', '10.0.19045', '12.15'). */
  latest: z.string().optional(),
  /** Where the dates come from (the vendor page endoflife.date cites, else the product's policy page). */
  source: z.string().min(1),
  /** Where the extended date comes from, when the supplement added it. */
  extendedSource: z.string().optional(),
  /** Not from endoflife.date's product page: 'supplement' (hand-kept, sourced) or 'derived' (see the product's note). */
  origin: z.enum(['supplement', 'derived']).optional(),
});
export type LifecycleCycle = z.infer<typeof LifecycleCycleSchema>;

export const LifecycleProductSchema = z.strictObject({
  /** endoflife.date's title ('Microsoft Windows'). */
  title: z.string(),
  /** Short name used in labels ('Windows'). */
  name: z.string(),
  /** The endoflife.date page. */
  page: z.string(),
  /** The vendor's lifecycle policy page endoflife.date links. */
  policy: z.string().optional(),
  /** What `eol` means for this product, in endoflife.date's column title ('Maintenance Support'), if it says. */
  eolMeaning: z.string().optional(),
  /** What `extendedEol` means ('Extended Security Updates', 'Expanded Security Maintenance'). */
  extendedMeaning: z.string().optional(),
  note: z.string().optional(),
  cycles: z.array(LifecycleCycleSchema).min(1),
});
export type LifecycleProduct = z.infer<typeof LifecycleProductSchema>;

export const OsLifecycleSchema = z.strictObject({
  format: z.literal(1),
  /** When the file was generated (YYYY-MM-DD). */
  generated: IsoDate,
  /** The corpus snapshot the data was read from (SOURCES.md's collection date). */
  snapshot: IsoDate.optional(),
  sources: z.array(
    z.strictObject({
      name: z.string(),
      repo: z.string().optional(),
      commit: z.string().optional(),
      licence: z.string().optional(),
      files: z.string(),
    }),
  ),
  products: z.record(z.string(), LifecycleProductSchema),
});
export type OsLifecycleTable = z.infer<typeof OsLifecycleSchema>;

/** Validates a parsed os-lifecycle.json (throws a readable error naming the bad path). */
export function parseOsLifecycle(json: unknown): OsLifecycleTable {
  const r = OsLifecycleSchema.safeParse(json);
  if (!r.success) {
    const first = r.error.issues[0];
    throw new Error(`os-lifecycle.json: ${first?.path.join('.') ?? ''}: ${first?.message ?? 'invalid'} (${r.error.issues.length} issue(s))`);
  }
  for (const [id, p] of Object.entries(r.data.products)) {
    const seen = new Set<string>();
    for (const c of p.cycles) {
      if (seen.has(c.cycle)) throw new Error(`os-lifecycle.json: products.${id}: cycle "${c.cycle}" twice`);
      seen.add(c.cycle);
    }
  }
  return r.data;
}
