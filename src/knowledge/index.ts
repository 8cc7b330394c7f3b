/**
 * Loads everything the inventory needs to know (the I/O edge of the knowledge folder): the IEEE
 * registry, the device profiles, the OS lifecycle table and the advisories (shipped plus any the
 * user imported with `vigil knowledge import`).
 */
import { resolveOs, type ResolvedOs } from '../assess/lifecycle.ts';
import type { InventoryKnowledge } from '../inventory/inventory.ts';
import { defaultKnowledgeDir, loadAdvisories } from './advisories.ts';
import { deviceProfiles } from './device-profiles.ts';
import { isLocallyAdministered, ouiLookup } from './oui.ts';

export interface KnowledgeOptions {
  /** Directory of user-imported advisories; null: shipped data only. */
  knowledgeDir?: string | null;
}

/**
 * OS statements repeat across a hospital (every PC of one image states the same build) and
 * resolving one builds a resolver and runs dozens of patterns: each text is resolved once against
 * the shipped lifecycle table, and its result shared (read-only) by the devices that state it.
 */
const resolved = new Map<string, ResolvedOs | null>();
function resolveOsOnce(text: string): ResolvedOs | undefined {
  let r = resolved.get(text);
  if (r === undefined) {
    r = resolveOs(text) ?? null;
    if (resolved.size >= 10_000) resolved.clear();
    resolved.set(text, r);
  }
  return r ?? undefined;
}

/** Asynchronous because user-imported advisories are validated, with a validator loaded only when there are some (advisories.ts). */
export async function loadKnowledge(o: KnowledgeOptions = {}): Promise<InventoryKnowledge> {
  const advisories = await loadAdvisories(o.knowledgeDir === undefined ? defaultKnowledgeDir() : o.knowledgeDir);
  const profiles = deviceProfiles();
  return {
    oui: ouiLookup,
    isLocalMac: isLocallyAdministered,
    profiles: (facts) => profiles.matchAll(facts),
    resolveOs: resolveOsOnce,
    advisories,
  };
}
