import { createNoopMeter, type Meter } from '@opentelemetry/api';

const NOOP_METER_CLASS = createNoopMeter().constructor;

/** The API's no-op meter (no meter provider registered): anything recorded there goes nowhere. */
export function isNoopMeter(meter: Meter): boolean {
  return meter.constructor === NOOP_METER_CLASS;
}
