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

/**
 * What the previous sample read, so that the next one can reuse it: in an exposition
 * consecutive samples mostly repeat the name and the label names and values (histogram
 * buckets, per-engine series). Reusing its strings saves an allocation per token, and when the
 * label names repeat in the same order, its label object is cloned and only the values that
 * differ are set (adding properties one by one is the costliest part of building a sample).
 * Every reuse is checked against the text, so the result is the same either way.
 */
interface Previous {
  name: string;
  /** Where the previous sample's name starts in the text. */
  nameAt: number;
  /** Label names of the previous sample, in order (entries past `count` are older). */
  keys: string[];
  /** Where each of `keys` is written in the text. */
  keyAt: number[];
  /** Per position, a value whose text is the value itself (no escapes), for reuse. */
  reusable: (string | undefined)[];
  /** Where each of `reusable` is written in the text. */
  reusableAt: number[];
  /** The previous sample's label values, in order. */
  values: string[];
  /** This sample's label values (swapped with `values` once read). */
  scratch: string[];
  /** The previous sample's labels, or undefined when they cannot be cloned. */
  labels: Record<string, string> | undefined;
  count: number;
}

/** The next backslash in the text at or after the current line (−1: none left). */
interface Scan {
  backslash: number;
}

/** Parses a whole exposition. */
export function parsePrometheusText(text: string): PromParseResult {
  const families = new Map<string, PromFamily>();
  let skipped = 0;
  const family = (name: string): PromFamily => {
    let f = families.get(name);
    if (f === undefined) families.set(name, (f = { name, type: 'untyped', samples: [] }));
    return f;
  };
  const prev: Previous = { name: '', nameAt: 0, keys: [], keyAt: [], reusable: [], reusableAt: [], values: [], scratch: [], labels: undefined, count: 0 };
  const scan: Scan = { backslash: text.indexOf('\\') };
  let pos = 0;
  const n = text.length;
  let current: PromFamily | undefined;
  // The name of the last sample added to `current`.
  let lastName = '';
  while (pos < n) {
    let end = text.indexOf('\n', pos);
    if (end === -1) end = n;
    let lineEnd = end;
    if (lineEnd > pos && text.charCodeAt(lineEnd - 1) === 13) lineEnd--;
    let i = pos;
    pos = end + 1;
    while (i < lineEnd && (text.charCodeAt(i) === 32 || text.charCodeAt(i) === 9)) i++;
    if (i >= lineEnd) continue;
    if (text.charCodeAt(i) === 35 /* # */) {
      // OpenMetrics ends the exposition at `# EOF`: nothing after it is read.
      if (lineEnd - i === 5 && text.startsWith('# EOF', i)) break;
      if (!readComment(text, i + 1, lineEnd, family)) skipped++;
      current = undefined;
      continue;
    }
    const sample = readSample(text, i, lineEnd, prev, scan);
    if (sample === undefined) {
      skipped++;
      continue;
    }
    // A family's samples follow its HELP / TYPE lines: try the current one first.
    const name = sample.name;
    if (current === undefined || (name !== lastName && !(name === current.name || (current.type !== 'untyped' && name.startsWith(current.name) && SUFFIXES.includes(name.slice(current.name.length)))))) {
      current = family(familyOf(name, families));
    }
    current.samples.push(sample);
    lastName = name;
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

function readSample(text: string, from: number, end: number, prev: Previous, scan: Scan): PromSample | undefined {
  let i = from;
  const c0 = text.charCodeAt(i);
  if (c0 >= 48 && c0 <= 57) return undefined; // a name never starts with a digit
  let name = prev.name;
  const n = name.length;
  // Compared text to text: `name` is usually a slice of the text, which V8 compares slowly.
  if (n > 0 && from + n <= end && !isNameChar(text.charCodeAt(from + n)) && sameText(text, prev.nameAt, from, n)) {
    i += n;
  } else {
    while (i < end && isNameChar(text.charCodeAt(i))) i++;
    if (i === from) return undefined;
    name = text.slice(from, i);
  }
  if (i > end) return undefined; // the reused name ran past the line
  let labels: Record<string, string>;
  if (i < end && text.charCodeAt(i) === 123 /* { */) {
    if (scan.backslash !== -1 && scan.backslash < from) scan.backslash = text.indexOf('\\', from);
    const escapes = scan.backslash !== -1 && scan.backslash < end;
    i = readLabels(text, i + 1, end, escapes, prev);
    if (i < 0) return undefined;
    labels = prev.labels ?? labelObject(prev);
  } else {
    labels = {};
    prev.labels = undefined;
  }
  prev.name = name;
  prev.nameAt = from;
  while (i < end && text.charCodeAt(i) === 32) i++;
  const vEnd = wordEnd(text, i, end);
  const value = parseNumberAt(text, i, vEnd);
  if (value === undefined) return undefined;
  i = vEnd;
  while (i < end && text.charCodeAt(i) === 32) i++;
  const sample: PromSample = { name, labels, value };
  if (i < end && text.charCodeAt(i) !== 35 /* exemplar */) {
    const tEnd = wordEnd(text, i, end);
    const ts = parseNumberAt(text, i, tEnd);
    if (ts === undefined || !Number.isFinite(ts)) return undefined;
    sample.timestamp = ts;
  }
  return sample;
}

/**
 * Reads `name="value",…}` into `prev` (keys, values, and labels when they could be cloned from
 * the previous sample's); returns the index after `}`, or −1 when broken.
 */
function readLabels(text: string, from: number, end: number, escapes: boolean, prev: Previous): number {
  const { keys, keyAt, reusable, reusableAt } = prev;
  const out = prev.scratch;
  let sameKeys = prev.labels !== undefined;
  let i = from;
  for (let j = 0; ; j++) {
    while (i < end && (text.charCodeAt(i) === 32 || text.charCodeAt(i) === 44 /* , */)) i++;
    if (i >= end) return brokenLabels(prev);
    if (text.charCodeAt(i) === 125 /* } */) {
      const before = prev.values;
      prev.values = out;
      prev.scratch = before;
      if (sameKeys && j === prev.count) {
        // The previous sample's label names in the same order: clone, set what differs.
        const labels = { ...prev.labels };
        for (let k = 0; k < j; k++) if (out[k] !== before[k]) labels[keys[k] as string] = out[k] as string;
        prev.labels = labels;
      } else {
        prev.labels = undefined;
        prev.count = j;
      }
      return i + 1;
    }
    let name = keys[j];
    if (name !== undefined && i + name.length < end && text.charCodeAt(i + name.length) === 61 /* = */ && sameText(text, keyAt[j] as number, i, name.length)) {
      i += name.length;
    } else {
      const nameStart = i;
      while (i < end && isLabelNameChar(text.charCodeAt(i))) i++;
      if (i === nameStart) return brokenLabels(prev);
      name = text.slice(nameStart, i);
      keys[j] = name;
      keyAt[j] = nameStart;
      reusable[j] = undefined;
      sameKeys = false;
    }
    while (i < end && text.charCodeAt(i) === 32) i++;
    if (text.charCodeAt(i) !== 61 /* = */) return brokenLabels(prev);
    i++;
    while (i < end && text.charCodeAt(i) === 32) i++;
    if (text.charCodeAt(i) !== 34 /* " */) return brokenLabels(prev);
    i++;
    const reuse = reusable[j];
    if (reuse !== undefined && i + reuse.length < end && text.charCodeAt(i + reuse.length) === 34 && sameText(text, reusableAt[j] as number, i, reuse.length)) {
      // Same text as an earlier value that had no escape: the same value.
      out[j] = reuse;
      i += reuse.length + 1;
      continue;
    }
    if (!escapes) {
      // No backslash on the line: the value runs to the next quote.
      const q = text.indexOf('"', i);
      if (q === -1 || q >= end) return brokenLabels(prev);
      const value = text.slice(i, q);
      out[j] = value;
      reusable[j] = value;
      reusableAt[j] = i;
      i = q + 1;
      continue;
    }
    let value = '';
    let segment = i;
    let escaped = false;
    for (;;) {
      if (i >= end) return brokenLabels(prev);
      const c = text.charCodeAt(i);
      if (c === 34) break;
      if (c === 92 /* \\ */) {
        escaped = true;
        value += text.slice(segment, i);
        const next = text.charCodeAt(i + 1);
        value += next === 110 ? '\n' : next === 34 ? '"' : next === 92 ? '\\' : '\\' + text.charAt(i + 1);
        i += 2;
        segment = i;
        continue;
      }
      i++;
    }
    reusableAt[j] = segment;
    value += text.slice(segment, i);
    out[j] = value;
    reusable[j] = escaped ? undefined : value;
    i++;
  }
}

/** Builds the labels of a sample whose label names differ from the previous one's. */
function labelObject(prev: Previous): Record<string, string> {
  const labels: Record<string, string> = {};
  const { keys, values, count } = prev;
  let duplicate = false;
  for (let k = 0; k < count; k++) {
    const key = keys[k] as string;
    if (labels[key] !== undefined) duplicate = true;
    labels[key] = values[k] as string;
  }
  // A repeated label name (the last value wins) would make a clone's per-position update wrong.
  prev.labels = duplicate ? undefined : labels;
  return labels;
}

function brokenLabels(prev: Previous): number {
  prev.labels = undefined;
  return -1;
}

/**
 * Reads text[from, to) as a number. Short decimals (at most 15 significant digits and a power
 * of ten within ±22) are computed here: both operands are exact doubles and one IEEE division
 * or multiplication rounds correctly, so the result equals Number()'s. Anything else goes
 * through parseNumber.
 */
function parseNumberAt(text: string, from: number, to: number): number | undefined {
  let i = from;
  let negative = false;
  const c0 = text.charCodeAt(i);
  if (c0 === 45 /* - */ || c0 === 43 /* + */) {
    negative = c0 === 45;
    i++;
  }
  let mantissa = 0;
  let digits = 0;
  let fraction = 0;
  let seenDigit = false;
  let seenPoint = false;
  for (; i < to; i++) {
    const c = text.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      seenDigit = true;
      if (mantissa === 0 && c === 48) {
        if (seenPoint) fraction++;
        continue;
      }
      if (++digits > 15) return parseNumber(text.slice(from, to));
      mantissa = mantissa * 10 + (c - 48);
      if (seenPoint) fraction++;
    } else if (c === 46 /* . */ && !seenPoint) {
      seenPoint = true;
    } else {
      break;
    }
  }
  if (!seenDigit) return parseNumber(text.slice(from, to));
  let exponent = 0;
  if (i < to) {
    const e = text.charCodeAt(i);
    if (e !== 101 && e !== 69) return parseNumber(text.slice(from, to));
    i++;
    let expNegative = false;
    const s = text.charCodeAt(i);
    if (s === 45 || s === 43) {
      expNegative = s === 45;
      i++;
    }
    if (i >= to) return undefined;
    for (; i < to; i++) {
      const c = text.charCodeAt(i);
      if (c < 48 || c > 57 || exponent > 1000) return parseNumber(text.slice(from, to));
      exponent = exponent * 10 + (c - 48);
    }
    if (expNegative) exponent = -exponent;
  }
  const power = exponent - fraction;
  let v: number;
  if (mantissa === 0) v = 0;
  else if (power === 0) v = mantissa;
  else if (power > 0 && power <= 22) v = mantissa * POWERS_OF_TEN[power]!;
  else if (power < 0 && power >= -22) v = mantissa / POWERS_OF_TEN[-power]!;
  else return parseNumber(text.slice(from, to));
  return negative ? -v : v;
}

const POWERS_OF_TEN = Array.from({ length: 23 }, (_, k) => Number(`1e${k}`));

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

/** Whether text[a, a + length) and text[b, b + length) are the same characters. */
function sameText(text: string, a: number, b: number, length: number): boolean {
  for (let k = 0; k < length; k++) if (text.charCodeAt(a + k) !== text.charCodeAt(b + k)) return false;
  return true;
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
