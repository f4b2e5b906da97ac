/** The L1 memory layer's core: a synchronous W-TinyLFU cache and its parts. */
export type { Admittor, TinyLfuOptions } from "./admission.js";
export { AlwaysAdmit, TinyLfuAdmittor } from "./admission.js";
export type { DoorkeeperOptions, SeenFilter } from "./doorkeeper.js";
export { Doorkeeper } from "./doorkeeper.js";
export type { FrequencyEstimator, FrequencySketchOptions } from "./frequency-sketch.js";
export { FrequencySketch, MAX_FREQUENCY } from "./frequency-sketch.js";
export { hashKey } from "./hash.js";
export { SIMULATED_WINDOW_SHARES, WindowTuner } from "./window-tuner.js";
export type { CacheStats, EvictionListener, HotKey, SetOptions, WindowTuning, WTinyLfuOptions } from "./wtinylfu.js";
export { ENTRY_OVERHEAD_BYTES, WTinyLfuCache } from "./wtinylfu.js";
