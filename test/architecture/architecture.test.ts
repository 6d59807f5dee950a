/**
 * The shape of the code, checked: imports run one way (no cycle, type-only imports included),
 * pure modules stay pure (no OpenTelemetry, no I/O, not even through a module of ours), files
 * stay small, and every emitted name comes from semconv.ts.
 */
import { describe, expect, test } from 'vitest';
import ts from 'typescript';
import { importCycles, readModules, reachable, type Module } from './source-graph.js';

const modules = readModules();
const byPath = new Map(modules.map((m) => [m.path, m]));

/** Modules with no OpenTelemetry and no I/O: parsers, mappers, names, public types. */
const PURE = [/^engine-names\.ts$/, /^snapshots\/snapshot-(delta|files|analyze)\.ts$/, /^sse\//, /^program\/hold-log\.ts$/, /^openai\//, /^prometheus\//, /^engines\/engine-snapshot\.ts$/, /^engines\/backend-state\.ts$/, /^engines\/backend-readings\.ts$/, /^semconv\.ts$/, /^types\.ts$/, /^profiles\/step-csv\.ts$/, /^omni\/omni-stats\.ts$/];
const IO = /^(node:)?(fs|fs\/promises|http|https|net|tls|dgram|child_process|worker_threads)$|^undici$/;

describe('imports', () => {
  test('no import cycle, type-only imports included', () => {
    expect(importCycles(modules)).toEqual([]);
  });

  test('pure modules import no OpenTelemetry and nothing that does I/O, directly or through ours', () => {
    const offences: string[] = [];
    for (const m of modules.filter((x) => PURE.some((p) => p.test(x.path)))) {
      for (const dep of [m.path, ...reachable(modules, m.path)]) {
        const d = byPath.get(dep);
        if (d === undefined) continue;
        for (const ext of d.external) {
          if (ext.startsWith('@opentelemetry/') || IO.test(ext)) offences.push(`${m.path} → ${dep === m.path ? '' : `${dep} → `}${ext}`);
        }
      }
    }
    expect(offences).toEqual([]);
  });

  test('nothing but the entry point imports the instrumentation class', () => {
    const importers = modules.filter((m) => m.internal.includes('instrumentation.ts')).map((m) => m.path);
    expect(importers).toEqual(['index.ts']);
  });
});

describe('files', () => {
  test('no file in src/ over 300 lines, but the Prometheus text parser', () => {
    const long = modules
      .filter((m) => m.path !== 'prometheus/parse-prometheus-text.ts')
      .map((m) => [m.path, m.text.split('\n').length] as const)
      .filter(([, n]) => n > 300);
    expect(long).toEqual([]);
  });
});

const CREATE = new Set(['createCounter', 'createHistogram', 'createUpDownCounter', 'createGauge', 'createObservableGauge', 'createObservableCounter', 'createObservableUpDownCounter']);
const SPAN = new Set(['startSpan', 'startActiveSpan']);
const RECORD = new Set(['add', 'record']);

/** Text that is written in place: a string or template literal, or a concatenation with one. */
function isWrittenInPlace(node: ts.Node): boolean {
  if (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node) || ts.isTemplateExpression(node)) return true;
  if (ts.isBinaryExpression(node) && node.operatorToken.kind === ts.SyntaxKind.PlusToken) return isWrittenInPlace(node.left) || isWrittenInPlace(node.right);
  if (ts.isParenthesizedExpression(node) || ts.isConditionalExpression(node)) {
    return ts.isConditionalExpression(node) ? isWrittenInPlace(node.whenTrue) || isWrittenInPlace(node.whenFalse) : isWrittenInPlace(node.expression);
  }
  return false;
}

/** Keys and values of an attributes object literal that are written in place. */
function attributeOffences(node: ts.Node, where: string, out: string[]): void {
  if (!ts.isObjectLiteralExpression(node)) return;
  for (const p of node.properties) {
    if (ts.isShorthandPropertyAssignment(p)) out.push(`${where}: label key '${p.name.text}' written in place`);
    else if (ts.isPropertyAssignment(p)) {
      if (!ts.isComputedPropertyName(p.name)) out.push(`${where}: label key '${p.name.getText()}' written in place`);
      else if (isWrittenInPlace(p.name.expression)) out.push(`${where}: label key ${p.name.expression.getText()} written in place`);
      if (ts.isStringLiteral(p.initializer)) out.push(`${where}: label value ${p.initializer.getText()} written in place`);
    }
  }
}

/** An identifier's initializer in the same file, when it is `const x = { … }` / `let x = { … }`. */
function initializerOf(m: Module, name: string): ts.Node | undefined {
  let found: ts.Node | undefined;
  m.source.forEachChild(function visit(n): void {
    if (ts.isVariableDeclaration(n) && ts.isIdentifier(n.name) && n.name.text === name && n.initializer !== undefined) found ??= n.initializer;
    n.forEachChild(visit);
  });
  return found;
}

/** Every name written in place where a metric name, span name or label key or value goes. */
function namesWrittenInPlace(m: Module): string[] {
  const out: string[] = [];
  const line = (n: ts.Node): string => `${m.path}:${m.source.getLineAndCharacterOfPosition(n.getStart()).line + 1}`;
  const attributes = (arg: ts.Node | undefined, where: string): void => {
    if (arg === undefined) return;
    attributeOffences(arg, where, out);
    if (ts.isIdentifier(arg)) {
      const init = initializerOf(m, arg.text);
      if (init !== undefined) attributeOffences(init, where, out);
    }
  };
  m.source.forEachChild(function visit(node): void {
    if (ts.isCallExpression(node) && ts.isPropertyAccessExpression(node.expression)) {
      const method = node.expression.name.text;
      const [a0, a1, a2] = node.arguments;
      if ((CREATE.has(method) || SPAN.has(method)) && a0 !== undefined) {
        const named = ts.isIdentifier(a0) ? initializerOf(m, a0.text) : a0;
        if (named !== undefined && isWrittenInPlace(named)) out.push(`${line(node)}: ${method}(${a0.getText()})`);
      }
      if (SPAN.has(method) && a1 !== undefined && ts.isObjectLiteralExpression(a1)) {
        for (const p of a1.properties) if (ts.isPropertyAssignment(p) && p.name.getText() === 'attributes') attributes(p.initializer, line(node));
      }
      if (RECORD.has(method) && node.arguments.length === 2) attributes(a1, line(node));
      if (method === 'observe' && node.arguments.length === 3) attributes(a2, line(node));
      if (method === 'setAttributes') attributes(a0, line(node));
      if (method === 'setAttribute' && a0 !== undefined && isWrittenInPlace(a0)) out.push(`${line(node)}: setAttribute(${a0.getText()})`);
    }
    // Names built in place: `${prefix}_backend_up`.
    if (ts.isTemplateExpression(node) && [node.head, ...node.templateSpans.map((t) => t.literal)].some((l) => /^_[a-z][a-z_]*$/.test(l.text))) {
      out.push(`${line(node)}: name built in place ${node.getText()}`);
    }
    // Attribute-shaped keys (`'backend.url'`) and label objects kept in a variable.
    if (ts.isPropertyAssignment(node) && ts.isStringLiteral(node.name) && /^[a-z_]+(\.[a-z_]+)+$/.test(node.name.text)) {
      out.push(`${line(node)}: attribute key '${node.name.text}' written in place`);
    }
    if (ts.isVariableDeclaration(node) && ts.isIdentifier(node.name) && /^(labels|attributes|attrs)$/i.test(node.name.text) && node.initializer !== undefined) {
      attributeOffences(node.initializer, line(node), out);
    }
    // Attribute keys built in place and assigned: a[`omni.stage.${k}`] = …
    if (ts.isBinaryExpression(node) && node.operatorToken.kind === ts.SyntaxKind.EqualsToken && ts.isElementAccessExpression(node.left)) {
      const key = node.left.argumentExpression;
      if (isWrittenInPlace(key) && /^[`'"][a-z_]+\./.test(key.getText())) out.push(`${line(node)}: attribute key ${key.getText()} written in place`);
    }
    // Engine metric names read by name (`vllm:…`, `sglang:…`) belong in semconv.ts too.
    if ((ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) && /^(vllm|sglang):[a-z_]+$/.test(node.text)) out.push(`${line(node)}: engine metric name '${node.text}'`);
    node.forEachChild(visit);
  });
  return out;
}

describe('names', () => {
  test('every metric name, span name and label key (and closed label value) comes from semconv.ts', () => {
    const offences = modules
      .filter((m) => m.path !== 'semconv.ts' && m.path !== 'engine-names.ts' && !m.path.startsWith('simulator/'))
      .flatMap((m) => namesWrittenInPlace(m));
    expect(offences).toEqual([]);
  });
});
