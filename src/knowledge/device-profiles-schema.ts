/**
 * The schema of data/device-profiles.json (zod) and its validation: the zod schema, then what zod
 * cannot see (unique ids, regexes that compile, templates that refer to real groups). For the tests
 * and for a profile file given by hand; the analysis reads the shipped file without it
 * (device-profiles.ts): zod costs ~0.1 s to load.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { CATEGORIES, CRITICALITIES } from '../inventory/device.ts';
import { attributesOf, CLAIMS, conditionsOf, TEMPLATE, UIDS } from './device-profiles.ts';

const ConditionSchema = z
  .object({
    attribute: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]),
    equals: z.string().min(1).optional(),
    prefix: z.string().min(1).optional(),
    regex: z.string().min(1).optional(),
    sopModality: z.string().min(1).optional(),
  })
  .strict()
  .refine((c) => [c.equals, c.prefix, c.regex, c.sopModality].filter((v) => v !== undefined).length === 1, {
    message: 'a condition needs exactly one of equals, prefix, regex, sopModality',
  });

const ProfileSchema = z
  .object({
    id: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'lower-case id with dashes'),
    match: z
      .object({ any: z.array(ConditionSchema).min(1).optional(), all: z.array(ConditionSchema).min(2).optional() })
      .strict()
      .refine((m) => (m.any === undefined) !== (m.all === undefined), { message: 'match needs exactly one of any, all' }),
    vendor: z.string().min(1).optional(),
    productLine: z.string().min(1).optional(),
    model: z.string().min(1).optional(),
    type: z.string().min(1).optional(),
    modality: z.string().min(1).optional(),
    software: z.string().min(1).optional(),
    softwareVersion: z.string().min(1).optional(),
    category: z.enum(CATEGORIES).optional(),
    criticality: z.enum(CRITICALITIES).optional(),
    /** How sure a match makes us of the profile's strongest claim (usually the vendor or software). */
    confidence: z.number().min(0).max(1),
    /** How sure of type / modality / category, when weaker than `confidence` (a vendor's OUI says little about which of its products). */
    typeConfidence: z.number().min(0).max(1).optional(),
    /** Why, in words; `{value}` is replaced by the observed value. */
    rule: z.string().min(1),
    /** The public fact the profile rests on (document, URL). */
    source: z.string().min(10),
    /** Values that must match this profile (checked by the tests). */
    examples: z.array(z.string().min(1)).optional(),
  })
  .strict();

const FileSchema = z
  .object({
    version: z.literal(1),
    description: z.string(),
    sopClasses: z.object({
      source: z.string().min(10),
      classes: z.record(z.string().regex(/^[0-9.]+$/), z.object({ name: z.string().min(1), modality: z.string().min(1) }).strict()),
    }),
    profiles: z.array(ProfileSchema).min(1),
  })
  .strict();

export type DeviceProfileCondition = z.infer<typeof ConditionSchema>;
export type DeviceProfile = z.infer<typeof ProfileSchema>;
export type DeviceProfileData = z.infer<typeof FileSchema>;

/** Validates parsed JSON: the zod schema, then what zod cannot see (unique ids, regexes that compile, templates that refer to real groups). */
export function parseDeviceProfileData(json: unknown, where = 'device profiles'): DeviceProfileData {
  const r = FileSchema.safeParse(json);
  if (!r.success) {
    const lines = r.error.issues.slice(0, 20).map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new Error(`${where}: invalid\n${lines.join('\n')}`);
  }
  const problems = semanticProblems(r.data);
  if (problems.length > 0) throw new Error(`${where}: invalid\n${problems.slice(0, 20).map((p) => `  ${p}`).join('\n')}`);
  return r.data;
}

/** Reads and validates a profile file (throws with every problem listed). */
export function readDeviceProfileData(path: string): DeviceProfileData {
  return parseDeviceProfileData(JSON.parse(readFileSync(path, 'utf8')) as unknown, path);
}

function semanticProblems(d: DeviceProfileData): string[] {
  const out: string[] = [];
  const ids = new Set<string>();
  const modalities = new Set<string>(Object.values(d.sopClasses.classes).map((c) => c.modality));
  for (const e of Object.values(UIDS)) if (e.modality !== undefined) modalities.add(e.modality);
  for (const p of d.profiles) {
    if (ids.has(p.id)) out.push(`${p.id}: duplicate id`);
    ids.add(p.id);
    const conds = conditionsOf(p);
    let groups = -1; // fewest groups among the conditions, -1 when some condition is not a regex
    let allRegex = true;
    for (const c of conds) {
      for (const a of attributesOf(c)) if (!/^[a-z0-9_]+(\.[a-z0-9_]+)*$/.test(a)) out.push(`${p.id}: odd attribute name "${a}"`);
      if (c.regex !== undefined) {
        try {
          const n = new RegExp(`${c.regex}|`).exec('')?.length ?? 1;
          groups = groups < 0 ? n - 1 : Math.min(groups, n - 1);
        } catch (e) {
          out.push(`${p.id}: regex ${c.regex} does not compile: ${(e as Error).message}`);
        }
      } else allRegex = false;
      if (c.sopModality !== undefined && !modalities.has(c.sopModality)) out.push(`${p.id}: no SOP class has modality ${c.sopModality}`);
    }
    for (const k of CLAIMS) {
      const v = p[k];
      if (v === undefined) continue;
      for (const m of v.matchAll(TEMPLATE)) {
        const n = Number(m[1]);
        if (p.match.all !== undefined) out.push(`${p.id}: ${k} uses $${n}, but "all of" profiles cannot use groups`);
        else if (!allRegex) out.push(`${p.id}: ${k} uses $${n}, but not every condition is a regex`);
        else if (n > groups) out.push(`${p.id}: ${k} uses $${n}, but a regex has only ${groups} group(s)`);
      }
    }
    if (p.typeConfidence !== undefined && p.typeConfidence > p.confidence) out.push(`${p.id}: typeConfidence above confidence`);
  }
  return out;
}
