/**
 * The source tree as the architecture checks read it: every module under src/, its imports
 * (type-only ones included, re-exports included), and its syntax tree, through the TypeScript
 * compiler API.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const srcRoot = join(repoRoot, 'src');

export interface Module {
  /** Path relative to src/, with forward slashes (`engines/backend-poller.ts`). */
  path: string;
  text: string;
  source: ts.SourceFile;
  /** Modules of ours it imports, relative to src/. */
  internal: string[];
  /** Packages and node: modules it imports. */
  external: string[];
}

function walkDir(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const full = join(dir, name);
    if (statSync(full).isDirectory()) out.push(...walkDir(full));
    else if (name.endsWith('.ts')) out.push(full);
  }
  return out;
}

/** Every module under src/. */
export function readModules(): Module[] {
  return walkDir(srcRoot).map((file) => {
    const text = readFileSync(file, 'utf8');
    const source = ts.createSourceFile(file, text, ts.ScriptTarget.ES2022, true);
    const internal: string[] = [];
    const external: string[] = [];
    const visit = (spec: ts.Expression | undefined): void => {
      if (spec === undefined || !ts.isStringLiteral(spec)) return;
      const s = spec.text;
      if (s.startsWith('.')) internal.push(relative(srcRoot, resolve(dirname(file), s.replace(/\.js$/, '.ts'))).split('\\').join('/'));
      else external.push(s);
    };
    for (const stmt of source.statements) {
      if (ts.isImportDeclaration(stmt)) visit(stmt.moduleSpecifier);
      else if (ts.isExportDeclaration(stmt)) visit(stmt.moduleSpecifier);
    }
    source.forEachChild(function dyn(node): void {
      if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) visit(node.arguments[0]);
      node.forEachChild(dyn);
    });
    return { path: relative(srcRoot, file).split('\\').join('/'), text, source, internal, external };
  });
}

/** The import cycles (strongly connected components of more than one module, or a self-import). */
export function importCycles(modules: Module[]): string[][] {
  const graph = new Map(modules.map((m) => [m.path, m.internal]));
  let index = 0;
  const indices = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const cycles: string[][] = [];
  const strong = (v: string): void => {
    indices.set(v, index);
    low.set(v, index);
    index++;
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!graph.has(w)) continue;
      if (!indices.has(w)) {
        strong(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v)!, indices.get(w)!));
      }
    }
    if (low.get(v) === indices.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1 || (graph.get(v) ?? []).includes(v)) cycles.push(component.sort());
    }
  };
  for (const v of graph.keys()) if (!indices.has(v)) strong(v);
  return cycles;
}

/** Every module `path` reaches through its imports of ours (itself excluded). */
export function reachable(modules: Module[], path: string): Set<string> {
  const graph = new Map(modules.map((m) => [m.path, m.internal]));
  const seen = new Set<string>();
  const todo = [...(graph.get(path) ?? [])];
  while (todo.length > 0) {
    const next = todo.pop()!;
    if (seen.has(next)) continue;
    seen.add(next);
    todo.push(...(graph.get(next) ?? []));
  }
  return seen;
}
