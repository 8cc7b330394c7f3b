/**
 * The registry of dissectors the sensor runs. Adding a protocol: write src/protocols/<name>.ts
 * exporting a Dissector, and list it here.
 */
import type { Dissector, SynDissector } from './dissector.ts';

export const ALL_DISSECTORS: readonly Dissector[] = [];

export const SYN_DISSECTORS: readonly SynDissector[] = [];
