/**
 * Loads everything the inventory needs to know (the I/O edge of the knowledge folder): the IEEE
 * registry, the device profiles, the OS lifecycle table and the advisories (shipped plus any the
 * user imported with `vigil knowledge import`).
 */
import { resolveOs } from '../assess/lifecycle.ts';
import type { InventoryKnowledge } from '../inventory/inventory.ts';
import { defaultKnowledgeDir, loadAdvisories } from './advisories.ts';
import { deviceProfiles } from './device-profiles.ts';
import { isLocallyAdministered, ouiLookup } from './oui.ts';

export interface KnowledgeOptions {
  /** Directory of user-imported advisories; null: shipped data only. */
  knowledgeDir?: string | null;
}

export function loadKnowledge(o: KnowledgeOptions = {}): InventoryKnowledge {
  const profiles = deviceProfiles();
  return {
    oui: ouiLookup,
    isLocalMac: isLocallyAdministered,
    profiles: (facts) => profiles.matchAll(facts),
    resolveOs: (text) => resolveOs(text),
    advisories: loadAdvisories(o.knowledgeDir === undefined ? defaultKnowledgeDir() : o.knowledgeDir),
  };
}
