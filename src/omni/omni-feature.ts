/** vLLM-omni as a feature: the recorder (made on first use) follows meter-provider changes. */
import type { Meter, Tracer } from '@opentelemetry/api';
import type { Feature } from '../feature.js';
import { OmniRecorder } from './omni-recorder.js';

export class OmniFeature implements Feature {
  readonly name = 'omni';
  private _recorder: OmniRecorder | undefined;

  constructor(private readonly _tracer: () => Tracer, private _meter: Meter, private readonly _tableRequests: () => number | undefined = () => undefined) {}

  get recorder(): OmniRecorder {
    const tableRequests = this._tableRequests();
    return (this._recorder ??= new OmniRecorder(this._tracer, this._meter, tableRequests === undefined ? {} : { tableRequests }));
  }

  updateMetricInstruments(meter: Meter): void {
    this._meter = meter;
    this._recorder?.updateMetricInstruments(meter);
  }
}
