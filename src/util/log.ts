/**
 * The package's one logger: `diag` with our component namespace, as InstrumentationBase logs,
 * instead of a prefix written into every message.
 */
import { diag } from '@opentelemetry/api';
import { PACKAGE_NAME } from '../version.js';

export const log = diag.createComponentLogger({ namespace: PACKAGE_NAME });
