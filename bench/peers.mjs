// The openai instrumentations a user would pick instead of ours, and the `openai` release all of
// them patch on Node 20, from the nested package bench/peers (its own package.json and lockfile:
// openai 6.49, @opentelemetry/instrumentation-openai 0.21 — 0.22 needs Node 22 —,
// @traceloop/instrumentation-openai 0.27, @arizeai/openinference-instrumentation-openai 4.2),
// installed on first use, outside the root install and CI. They patch the module at
// `node_modules/openai`, and only `openai` < 7: an npm alias would not be patched, and they
// would silently do nothing.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const peersDir = new URL('./peers/', import.meta.url).pathname;

/** Installs bench/peers when it is not (npm ci). */
export function ensurePeers() {
  if (existsSync(`${peersDir}node_modules/openai/package.json`)) return;
  console.log('installing the peers in bench/peers (npm ci) …');
  execFileSync('npm', ['ci', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: peersDir, stdio: 'inherit' });
}

/** `require` from bench/peers. */
export const requirePeer = createRequire(`${peersDir}package.json`);

/** The peers' instrumentation classes, by the names the benches print. */
export const PEER_MODULES = {
  contrib: '@opentelemetry/instrumentation-openai',
  traceloop: '@traceloop/instrumentation-openai',
  openinference: '@arizeai/openinference-instrumentation-openai',
};

/** The peers' `openai` version. */
export function peersOpenaiVersion() {
  return JSON.parse(readFileSync(`${peersDir}node_modules/openai/package.json`, 'utf8')).version;
}
