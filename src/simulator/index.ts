/**
 * `agentic-otel/simulator`: an OpenAI-compatible engine simulator with a vLLM-like timing
 * model, a block prefix cache, fault knobs and its own ground truth. No GPU, no weights.
 */
export { startSimulator } from './server.js';
export { BlockPrefixCache, tokenize } from './prefix-cache.js';
export type { SimFault, Simulator, SimulatorOptions, SimRequestRecord } from './types.js';
