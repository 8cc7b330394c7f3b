/** The interrupt budget Vigil runs V8 with (bin/v8-tuning.js says why). */
export declare const INTERRUPT_BUDGET: number;
/** Applies Vigil's V8 settings, unless node itself was given a budget. */
export declare function tuneV8(): void;
