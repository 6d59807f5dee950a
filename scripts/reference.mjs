// Generates docs/reference.md from src/semconv.ts: every span name, attribute, metric name and
// label (and closed value set) we emit, grouped as semconv.ts groups them, with their comments.
// `node scripts/reference.mjs` writes the file; `--check` exits 1 when the file differs (the
// test suite runs that check, so the reference cannot drift from the code).
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const ts = require('typescript');
const root = fileURLToPath(new URL('..', import.meta.url));
// semconv.ts, and the engines' names it re-exports.
const sources = ['semconv.ts', 'engine-names.ts'].map((f) => ts.createSourceFile(f, readFileSync(`${root}src/${f}`, 'utf8'), ts.ScriptTarget.ES2022, true));

/** Which table a constant goes in, by its name. */
const KINDS = [
  [/^SPAN_/, 'Span names'],
  [/^ATTR_/, 'Span attributes'],
  [/^METRIC_/, 'Metric names'],
  [/^LABEL_/, 'Metric labels'],
  [/^(PHASE|PAUSE_REASON|SNAPSHOT_STATUS|TOKEN_TYPE|REQUEST_ERROR|REQUEST_TYPE|CACHE_TYPE|BREAKER_STATE|PROGRAM_STATUS|ERROR_TYPE|GEN_AI_OPERATION)_/, 'Closed value sets'],
  [/^ENGINE_/, 'Engine metrics we read'],
  [/^(HEADER|ENV)_/, 'Headers and environment variables'],
];
const rows = new Map(KINDS.map(([, title]) => [title, []]));
for (const source of sources) {
const text = source.getFullText();
for (const stmt of source.statements) {
  if (!ts.isVariableStatement(stmt)) continue;
  for (const d of stmt.declarationList.declarations) {
    const name = d.name.getText();
    let init = d.initializer;
    if (init && ts.isAsExpression(init)) init = init.expression;
    if (!init || !ts.isStringLiteral(init)) continue;
    const kind = KINDS.find(([re]) => re.test(name));
    if (kind === undefined) continue;
    // The comment right above the constant, or the group comment above a run of constants.
    const ranges = ts.getLeadingCommentRanges(text, stmt.getFullStart()) ?? [];
    const last = ranges.at(-1);
    const comment = (last === undefined ? '' : text.slice(last.pos, last.end)).replace(/^\/\*\*?|\*\/$/g, '').replace(/\n\s*\*\s?/g, ' ').replace(/\s+/g, ' ').trim();
    rows.get(kind[1]).push([`\`${init.text}\``, `\`${name}\``, comment.replace(/\|/g, '\\|')]);
  }
}
}
let md = '# Reference: everything agentic-otel emits\n\nGenerated from `src/semconv.ts` by `node scripts/reference.mjs`; a test fails when it differs.\nMetric names of TinyLLM and of the engine poller are shown without the prefix (`metricPrefix`,\ndefault `agentic`): `requests_total` is exported as `agentic_requests_total`. The Prometheus\nexporter writes attribute keys with `_` for `.` (`backend.url` → `backend_url`). The GenAI client\nspan is named `{gen_ai.operation.name} {gen_ai.request.model}` (`chat sim-llama-3-8b`), omni\nstages `omni.stage {id} {name}` and edges `omni.transfer {from}->{to}`.\n';
for (const [title, list] of rows) {
  if (list.length === 0) continue;
  md += `\n## ${title}\n\n| name | constant | what |\n|---|---|---|\n`;
  for (const [value, name, comment] of list) md += `| ${value} | ${name} | ${comment} |\n`;
}
const target = `${root}docs/reference.md`;
if (process.argv.includes('--check')) {
  const current = readFileSync(target, 'utf8');
  if (current !== md) {
    process.stderr.write('docs/reference.md differs from src/semconv.ts: run node scripts/reference.mjs\n');
    process.exit(1);
  }
} else {
  writeFileSync(target, md);
}
