/**
 * NodeSDK with the status server on, then sdk.shutdown() and nothing else: the process must
 * end by itself (the status server's socket does not keep it alive).
 */
import { NodeSDK } from '@opentelemetry/sdk-node';
import { AgenticInstrumentation } from '../../../src/index.js';

const instrumentation = new AgenticInstrumentation({ statusServer: { port: 0 } });
const sdk = new NodeSDK({ instrumentations: [instrumentation], traceExporter: undefined });
sdk.start();
const port = await instrumentation.statusServerPort();
process.stdout.write(`listening ${String(port)}\n`);
await sdk.shutdown();
process.stdout.write('shut down\n');
