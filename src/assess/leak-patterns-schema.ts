/**
 * The schema of leak pattern files (data/leak-patterns.json; zod) and their validation: for the
 * tests and for a pattern file of one's own. The analysis compiles the shipped file without it
 * (leaks.ts): zod costs ~0.1 s to load.
 */
import { z } from 'zod';
import { LEAK_FACT_KINDS, SEVERITIES } from './finding.ts';

const KindSchema = z.enum(LEAK_FACT_KINDS);
const ExtractorSchema = z.object({
  kind: KindSchema,
  /** Constant value, or a template with {group} placeholders. */
  value: z.string().optional(),
  /** Regex (named groups); absent: the fact is constant. A leading "(?i)" means case-insensitive. */
  regex: z.string().optional(),
  /** Constant version (a `version` named group wins). */
  version: z.string().optional(),
  /** Parse the `tokens` group as product tokens ("Apache/2.4.41 (Ubuntu) PHP/7.4.3"): kind from the token table, `kind` for unknown ones. */
  tokens: z.boolean().optional(),
  /** Values matching this are dropped ("Anonymous", "localhost"). */
  exclude: z.string().optional(),
  /** Matches taken at most (default 1 for constant-like, 4 otherwise). */
  max: z.number().int().positive().max(16).optional(),
});
const PatternSchema = z.object({
  id: z.string().regex(/^[a-z0-9-]+$/),
  title: z.string().min(1),
  attributes: z.array(z.string()).min(1),
  /** Lower-case substrings; the pattern is tried only when one occurs (none: always tried). */
  needles: z.array(z.string()),
  detect: z.string(),
  facts: z.array(ExtractorSchema).min(1),
  severity: z.enum(SEVERITIES),
  remediation: z.string().min(1),
  source: z.array(z.string()).min(1),
});
const PatternFileSchema = z.object({
  schema: z.literal(1),
  description: z.string().optional(),
  patterns: z.array(PatternSchema),
  products: z.record(z.string(), z.object({ kind: KindSchema, name: z.string() })),
  osComments: z.array(z.object({ regex: z.string(), value: z.string() })),
  osVersionSuffixes: z.array(z.object({ regex: z.string(), value: z.string(), version: z.string().optional() })),
});
export type LeakPatternFile = z.infer<typeof PatternFileSchema>;

/** Validates a parsed pattern file (throws with the zod message when it is malformed). */
export function parseLeakPatterns(json: unknown): LeakPatternFile {
  return PatternFileSchema.parse(json);
}
