// V8 settings for Vigil's processes, set before any of Vigil's code runs: by bin/vigil.js, and by
// the benchmarks that time Vigil's code in their own process (so they time what `vigil` runs).
import v8 from 'node:v8';

// V8 optimises a function once it has run through its interrupt budget (66 KB of bytecode by
// default, tuned for web pages). Vigil's runs are batch work on one core: a report runs each of ~100
// functions a few thousand times, once. At the default budget V8 compiles them while their feedback
// is young (more functions, more recompiles after deopts), on the core the sensor reads with.
// Eight times the budget compiles fewer, later and better: one-shot `vigil analyze` of the corpus
// replay spends ~0.15 s less on the inventory, of the simulated hospital ~0.1 s, and the sensor
// alone no more (bench/inventory.ts; README, "Inventory"). Long runs reach the same optimised code,
// a little later.
// Node warns that flags set after V8 has started may not take effect. This one does: V8 reads it each
// time it gives a function a fresh budget (test/cli.test.ts counts the functions optimised with and
// without it). Flags read only at start, such as synchronous compiles, are no use here.
export const INTERRUPT_BUDGET = 8 * 66 * 1024;

/** Applies Vigil's V8 settings, unless node itself was given a budget (to try another). */
export function tuneV8() {
  const given = [...process.execArgv, ...(process.env.NODE_OPTIONS ?? '').split(/\s+/)];
  if (!given.some((a) => a.startsWith('--interrupt-budget'))) v8.setFlagsFromString(`--interrupt-budget=${INTERRUPT_BUDGET}`);
}
