/**
 * A sum the steps add to as a number, read by the SDK when it collects: the series of an
 * observable counter (or up-down counter). Each `add` on a synchronous instrument costs
 * sdk-metrics a hash of its attributes (their keys sorted, the pairs stringified) and ~1.4 KB of
 * garbage (V8's allocation sampling through the openai client: 23 KB per completion for ~16
 * records); a step adds to up to six of these series, so each series is a cell found once per
 * step, and the SDK hashes each series once per collection instead.
 *
 * Exported as the synchronous instrument was: a monotonic sum for a counter, a non-monotonic one
 * for an up-down counter, per attribute set; the same values, as a cumulative total since the
 * instrumentation began (a delta reader gets the differences from the SDK).
 */
import type { Attributes, AttributeValue } from '@opentelemetry/api';
import { ATTR_OTEL_METRIC_OVERFLOW } from '../semconv.js';

/** One series: its attributes and its running total. */
export interface SumCell {
  readonly attributes: Attributes;
  value: number;
}

/** More attribute sets than this fold into one overflow series, as sdk-metrics' cardinality limit does. */
export const MAX_SERIES = 2000;
const OVERFLOW: Attributes = { [ATTR_OTEL_METRIC_OVERFLOW]: true };

export class ObservedSum {
  private readonly _cells = new Map<string, SumCell>();
  private _overflow: SumCell | undefined;

  /** `monotonic`: a counter (negative adds are ignored, as the SDK does); else an up-down counter. */
  constructor(readonly monotonic: boolean) {}

  /**
   * The series of the attribute set known by `key` (two sets with one key must be the same set),
   * made from `attributes()` the first time.
   */
  cell(key: string, attributes: () => Attributes): SumCell {
    let cell = this._cells.get(key);
    if (cell === undefined) {
      if (this._cells.size >= MAX_SERIES) return (this._overflow ??= { attributes: OVERFLOW, value: 0 });
      cell = { attributes: attributes(), value: 0 };
      this._cells.set(key, cell);
    }
    return cell;
  }

  /** Adds `value` to the series of `attributes`: the synchronous instrument's `add`. */
  add(value: number, attributes: Attributes = {}): void {
    if (!Number.isFinite(value) || (this.monotonic && value < 0)) return;
    this.cell(keyOf(attributes), () => ({ ...attributes })).value += value;
  }

  /** Each series and its total. */
  forEach(fn: (value: number, attributes: Attributes) => void): void {
    for (const cell of this._cells.values()) fn(cell.value, cell.attributes);
    if (this._overflow !== undefined) fn(this._overflow.value, this._overflow.attributes);
  }
}

/** The key of an attribute set: its pairs in key order, each value with its type. */
export function keyOf(attributes: Attributes): string {
  let key = '';
  for (const name of Object.keys(attributes).sort()) {
    const v = attributes[name];
    if (v === undefined) continue;
    key += `${JSON.stringify(name)}:${valueKey(v)},`;
  }
  return key;
}

function valueKey(v: AttributeValue): string {
  return typeof v === 'string' ? JSON.stringify(v) : Array.isArray(v) ? JSON.stringify(v) : `${typeof v}:${String(v)}`;
}
