/** The package name, used as the instrumentation (tracer / meter) scope name. */
export const PACKAGE_NAME = 'agentic-otel';
/** The package version; a test keeps it equal to package.json's. */
export const PACKAGE_VERSION = '0.1.0';
