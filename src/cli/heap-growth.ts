/**
 * How far V8 lets the old generation grow between full collections. By default it picks the factor
 * itself (up to 4x what survived the last one): a 1,000,000-contact plan whose live heap stays near
 * 60 MB then now and then let 130 MB of promoted garbage pile up before collecting it, and peaked
 * at 360 MB instead of 250 MB (2 of 8 fresh processes; the target is 300 MB). A fixed 1.5x kept
 * ten such processes at 248–270 MB, for about a tenth more time in the plan (more full
 * collections); 1.3x cost a fifth, 2x let two of ten reach 292 MB (bench/analysis.md). Set at
 * startup by the command line, and by the benchmark's child processes, which stand in for it.
 */
import v8 from 'node:v8';

const heapGrowingPercent = 50;

export function limitHeapGrowth(): void {
  // Read by V8 at each full collection, so setting it after startup takes effect from the next one.
  v8.setFlagsFromString(`--heap-growing-percent=${heapGrowingPercent}`);
}
