/**
 * A request's wait in a client's pool, per origin. A wait counts as queueing only when another
 * request to that origin ended during it (a connection was freed, and undici started the waiting
 * request on it); a first request's wait is undici's own start-up and connecting. The part of a
 * wait spent opening a connection is left out: connects come from undici's diagnostics channels
 * (both the `undici` package and Node's bundled copy publish them), paired first-in, first-out
 * per origin (undici gives them no id); the last few per origin are kept.
 */
import { subscribe } from 'node:diagnostics_channel';
import { now } from '../util/clock.js';

const KEEP = 32;
const MAX_ORIGINS = 1024;

interface ConnectEvent {
  connectParams?: { protocol?: string; host?: string };
}

const opening = new Map<string, number[]>();
/** When a response from each origin last ended. */
const lastEnded = new Map<string, number>();
const opened = new Map<string, number[]>();
let subscribed = false;

function keyOf(message: unknown): string | undefined {
  const p = (message as ConnectEvent | undefined)?.connectParams;
  return p?.protocol === undefined || p.host === undefined ? undefined : `${p.protocol}//${p.host}`;
}

function onBeforeConnect(message: unknown): void {
  const key = keyOf(message);
  if (key === undefined) return;
  if (opening.size >= MAX_ORIGINS && !opening.has(key)) opening.clear();
  const starts = opening.get(key) ?? [];
  starts.push(now());
  if (starts.length > KEEP) starts.shift();
  opening.set(key, starts);
}

function onConnected(message: unknown): void {
  const key = keyOf(message);
  const start = key === undefined ? undefined : opening.get(key)?.shift();
  if (key === undefined || start === undefined) return;
  if (opened.size >= MAX_ORIGINS && !opened.has(key)) opened.clear();
  const done = opened.get(key) ?? [];
  done.push(start, now());
  if (done.length > KEEP * 2) done.splice(0, 2);
  opened.set(key, done);
}

function onConnectError(message: unknown): void {
  const key = keyOf(message);
  if (key !== undefined) opening.get(key)?.shift();
}

/** Starts listening (once per process). */
export function watchConnects(): void {
  if (subscribed) return;
  subscribed = true;
  subscribe('undici:client:beforeConnect', onBeforeConnect);
  subscribe('undici:client:connected', onConnected);
  subscribe('undici:client:connectError', onConnectError);
}

/**
 * The longest connect to `origin` that began and ended within `[from, to]` (ms): the part of a
 * request's wait for a connection spent establishing one. 0 when none did.
 */
function connectWithin(origin: string | undefined, from: number, to: number): number {
  const done = origin === undefined ? undefined : opened.get(origin.endsWith('/') ? origin.slice(0, -1) : origin);
  if (done === undefined) return 0;
  let longest = 0;
  for (let i = 0; i < done.length; i += 2) {
    const s = done[i] as number;
    const e = done[i + 1] as number;
    if (s >= from && e <= to && e - s > longest) longest = e - s;
  }
  return longest;
}

/** A response from `origin` ended at `t` (its connection is free again). */
export function responseEnded(origin: string | undefined, t: number): void {
  if (origin === undefined) return;
  if (lastEnded.size >= MAX_ORIGINS && !lastEnded.has(origin)) lastEnded.clear();
  lastEnded.set(origin, t);
}

/**
 * How long of `[from, to]` (ms: a request's dispatch and its start on a connection) it waited in
 * the pool: the wait less any connect in it, and 0 unless a response from `origin` ended in it.
 */
export function poolWait(origin: string | undefined, from: number, to: number): number {
  const ended = origin === undefined ? undefined : lastEnded.get(origin);
  if (ended === undefined || ended < from || ended > to) return 0;
  return Math.max(0, to - from - connectWithin(origin, from, to));
}
