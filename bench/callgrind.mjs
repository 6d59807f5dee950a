// Reading callgrind's output for the instruction benches (instructions.mjs, attribute.mjs).
import { execFileSync } from 'node:child_process';

/** Each function's own instructions in a callgrind output file, as [name, count] (callgrind_annotate). */
export function functionCounts(file) {
  const out = execFileSync('callgrind_annotate', ['--inclusive=no', '--threshold=100', file], { maxBuffer: 512 * 1024 * 1024 }).toString();
  const counts = [];
  for (const line of out.split('\n')) {
    const m = /^\s*([\d,]+)\s+\([^)]*\)\s+(.*)$/.exec(line);
    if (m !== null && !m[2].includes('PROGRAM TOTALS')) counts.push([m[2], Number(m[1].replaceAll(',', ''))]);
  }
  return counts;
}

/** Whether a native function belongs to V8's compilers (TurboFan, Maglev, the bytecode compiler). */
export function isCompiler(name) {
  return /compiler::|maglev::|Compiler::|BytecodeGenerator|interpreter::Bytecode/.test(name);
}
