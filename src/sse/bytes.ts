/**
 * Byte searches on the per-chunk path, as cheap as Node 20 allows. Pure.
 *
 * `Buffer.prototype.indexOf` is the native search we want, but two things around it cost more
 * than the search on a ~170-byte event (callgrind, Node 20.20, per call): called without a start
 * offset, Node's wrapper compares `undefined` with numbers and converts it (generic builtins,
 * ~300 instructions); and the method loaded off a chunk is a generic property load in optimised
 * code (~100). Loaded once, called with its offset, the search costs what the native part costs.
 * It works on any Uint8Array, as Node's Buffer methods do. (Node's wrapper is one function for
 * every caller in the process: a call without an offset anywhere makes it generic for all, so
 * none of ours leaves it out.)
 */
import { Buffer } from 'node:buffer';

const bufferIndexOf = Buffer.prototype.indexOf;
const bufferLastIndexOf = Buffer.prototype.lastIndexOf;

/** The first index of `needle` (a byte or a byte sequence) in `buf` at or after `from`, else -1. */
export function indexOfBytes(buf: Uint8Array, needle: number | Uint8Array, from: number): number {
  return bufferIndexOf.call(buf, needle, from);
}

/** The last index of `needle` in `buf` at or before `from`, else -1. */
export function lastIndexOfBytes(buf: Uint8Array, needle: number | Uint8Array, from: number): number {
  return bufferLastIndexOf.call(buf, needle, from);
}
