/**
 * The Prometheus text exposition format (0.0.4) and OpenMetrics text, as engines print them:
 * HELP / TYPE / UNIT, escaped label values, exponent numbers, NaN and ±Inf, sample timestamps,
 * histograms and summaries, `_created` series, families without samples, comment headers,
 * exemplars and `# EOF`. Unknown or broken lines are counted and skipped, never thrown.
 * Pure, and written for speed: one pass with index scans, no regular expression per line.
 * (ThunderAgent's `[\d.]+` reads `9.75e-06` as 9.75: shared/reference/engines.md.)
 */

/** One sample line. */
export interface PromSample {
  /** The name on the wire, e.g. `vllm:prefix_cache_hits_total`, `x_bucket`. */
  name: string;
  labels: Record<string, string>;
  value: number;
  /** As printed: milliseconds in the text format, seconds in OpenMetrics. */
  timestamp?: number;
}

/** A metric family: a HELP / TYPE block and its samples. */
export interface PromFamily {
  name: string;
  type: string;
  help?: string;
  unit?: string;
  samples: PromSample[];
}

export interface PromParseResult {
  /** Families by name, in the order first seen. */
  families: Map<string, PromFamily>;
  /** Lines that could not be read. */
  skippedLines: number;
}

const SUFFIXES = ['_bucket', '_sum', '_count', '_created', '_total', '_info', '_gcount', '_gsum'];

/** Parses a whole exposition. */
export function parsePrometheusText(text: string): PromParseResult {
  const families = new Map<string, PromFamily>();
  let skipped = 0;
  const family = (name: string): PromFamily => {
    let f = families.get(name);
    if (f === undefined) families.set(name, (f = { name, type: 'untyped', samples: [] }));
    return f;
  };
  let pos = 0;
  const n = text.length;
  let current: PromFamily | undefined;
  while (pos < n) {
    let end = text.indexOf('\n', pos);
    if (end === -1) end = n;
    let lineEnd = end;
    if (lineEnd > pos && text.charCodeAt(lineEnd - 1) === 13) lineEnd--;
    const start = pos;
    pos = end + 1;
    let i = start;
    while (i < lineEnd && (text.charCodeAt(i) === 32 || text.charCodeAt(i) === 9)) i++;
    if (i >= lineEnd) continue;
    if (text.charCodeAt(i) === 35 /* # */) {
      if (!readComment(text, i + 1, lineEnd, family)) skipped++;
      current = undefined;
      continue;
    }
    // A line of its own: every native search below is bounded by it.
    const sample = readSample(text.slice(i, lineEnd));
    if (sample === undefined) {
      skipped++;
      continue;
    }
    // A family's samples follow its HELP / TYPE lines: try the current one first.
    const name = sample.name;
    if (current === undefined || !(name === current.name || (name.startsWith(current.name) && SUFFIXES.includes(name.slice(current.name.length))))) {
      current = family(familyOf(name, families));
    }
    current.samples.push(sample);
  }
  return { families, skippedLines: skipped };
}

/** Every sample with this exact wire name, across families. */
export function samplesNamed(result: PromParseResult, name: string): PromSample[] {
  const direct = result.families.get(name);
  const out: PromSample[] = [];
  if (direct !== undefined) for (const s of direct.samples) if (s.name === name) out.push(s);
  if (out.length > 0) return out;
  for (const f of result.families.values()) for (const s of f.samples) if (s.name === name) out.push(s);
  return out;
}

function familyOf(sampleName: string, families: Map<string, PromFamily>): string {
  if (families.has(sampleName)) return sampleName;
  for (const suffix of SUFFIXES) {
    if (sampleName.endsWith(suffix)) {
      const base = sampleName.slice(0, -suffix.length);
      const f = families.get(base);
      if (f !== undefined && f.type !== 'untyped') return base;
    }
  }
  return sampleName;
}

/** `# HELP name text`, `# TYPE name type`, `# UNIT name unit`, `# EOF`, or any other comment. */
function readComment(text: string, from: number, end: number, family: (name: string) => PromFamily): boolean {
  let i = from;
  while (i < end && text.charCodeAt(i) === 32) i++;
  // HELP, TYPE or UNIT followed by a space; anything else is a plain comment (or `# EOF`).
  const k0 = text.charCodeAt(i);
  const keyword = k0 === 72 ? 'HELP' : k0 === 84 ? 'TYPE' : k0 === 85 ? 'UNIT' : undefined;
  if (keyword === undefined || !text.startsWith(keyword, i) || (i + 4 < end && text.charCodeAt(i + 4) !== 32)) return true;
  i += 4;
  while (i < end && text.charCodeAt(i) === 32) i++;
  const nameEnd = wordEnd(text, i, end);
  if (nameEnd === i) return false;
  const name = text.slice(i, nameEnd);
  i = nameEnd;
  if (i < end && text.charCodeAt(i) === 32) i++;
  const rest = text.slice(i, end);
  const f = family(name);
  if (keyword === 'HELP') f.help = unescapeHelp(rest.trimEnd());
  else if (keyword === 'TYPE') f.type = rest.trim().toLowerCase() || 'untyped';
  else f.unit = rest.trim();
  return true;
}

function readSample(line: string): PromSample | undefined {
  const end = line.length;
  let i = 0;
  const c0 = line.charCodeAt(0);
  if (c0 >= 48 && c0 <= 57) return undefined; // a name never starts with a digit
  while (i < end && isNameChar(line.charCodeAt(i))) i++;
  if (i === 0) return undefined;
  const name = line.slice(0, i);
  const labels: Record<string, string> = {};
  if (i < end && line.charCodeAt(i) === 123 /* { */) {
    i = readLabels(line, i + 1, end, labels, line.indexOf('\\', i) !== -1);
    if (i < 0) return undefined;
  }
  while (i < end && line.charCodeAt(i) === 32) i++;
  const vEnd = wordEnd(line, i, end);
  const value = parseNumber(line.slice(i, vEnd));
  if (value === undefined) return undefined;
  i = vEnd;
  while (i < end && line.charCodeAt(i) === 32) i++;
  const sample: PromSample = { name, labels, value };
  if (i < end && line.charCodeAt(i) !== 35 /* exemplar */) {
    const tEnd = wordEnd(line, i, end);
    const ts = parseNumber(line.slice(i, tEnd));
    if (ts === undefined || !Number.isFinite(ts)) return undefined;
    sample.timestamp = ts;
  }
  return sample;
}

/** Reads `name="value",…}`; returns the index after `}`, or −1 when broken. */
function readLabels(text: string, from: number, end: number, into: Record<string, string>, escapes: boolean): number {
  let i = from;
  for (;;) {
    while (i < end && (text.charCodeAt(i) === 32 || text.charCodeAt(i) === 44 /* , */)) i++;
    if (i >= end) return -1;
    if (text.charCodeAt(i) === 125 /* } */) return i + 1;
    const nameStart = i;
    while (i < end && isLabelNameChar(text.charCodeAt(i))) i++;
    if (i === nameStart) return -1;
    const name = text.slice(nameStart, i);
    while (i < end && text.charCodeAt(i) === 32) i++;
    if (text.charCodeAt(i) !== 61 /* = */) return -1;
    i++;
    while (i < end && text.charCodeAt(i) === 32) i++;
    if (text.charCodeAt(i) !== 34 /* " */) return -1;
    i++;
    if (!escapes) {
      // No backslash on the line: the value runs to the next quote.
      const q = text.indexOf('"', i);
      if (q === -1) return -1;
      into[name] = text.slice(i, q);
      i = q + 1;
      continue;
    }
    let value = '';
    let segment = i;
    for (;;) {
      if (i >= end) return -1;
      const c = text.charCodeAt(i);
      if (c === 34) break;
      if (c === 92 /* \\ */) {
        value += text.slice(segment, i);
        const next = text.charCodeAt(i + 1);
        value += next === 110 ? '\n' : next === 34 ? '"' : next === 92 ? '\\' : '\\' + text.charAt(i + 1);
        i += 2;
        segment = i;
        continue;
      }
      i++;
    }
    into[name] = value + text.slice(segment, i);
    i++;
  }
}

/** A number as Prometheus prints it: decimals, exponents, NaN, ±Inf; undefined otherwise. */
export function parseNumber(s: string): number | undefined {
  if (s.length === 0) return undefined;
  const c = s.charCodeAt(0);
  if ((c >= 48 && c <= 57) || c === 46 || c === 45 || c === 43) {
    const v = Number(s);
    // Number() also reads 0x10, 0b1 and 0o7, which no exposition prints: a letter after a
    // leading 0 (after an optional sign) is one of those.
    const lead = c === 45 || c === 43 ? 1 : 0;
    const radix = s.charCodeAt(lead) === 48 && (s.charCodeAt(lead + 1) | 32) >= 97 && (s.charCodeAt(lead + 1) | 32) !== 101 /* e */;
    if (!Number.isNaN(v) && s.charCodeAt(s.length - 1) !== 32 && !radix) return v;
  }
  switch (s) {
    case 'NaN':
    case 'nan':
      return NaN;
    case '+Inf':
    case 'Inf':
    case '+inf':
    case 'inf':
      return Infinity;
    case '-Inf':
    case '-inf':
      return -Infinity;
    default:
      return undefined;
  }
}

function wordEnd(text: string, from: number, end: number): number {
  let i = from;
  while (i < end) {
    const c = text.charCodeAt(i);
    if (c === 32 || c === 9) break;
    i++;
  }
  return i;
}

function isNameChar(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c === 95 || c === 58;
}

function isLabelNameChar(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c === 95;
}

function unescapeHelp(s: string): string {
  return s.indexOf('\\') === -1 ? s : s.replace(/\\(n|\\)/g, (_, c: string) => (c === 'n' ? '\n' : '\\'));
}
