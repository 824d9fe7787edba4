import type { SpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { NodeSDK } from '@opentelemetry/sdk-node';
import type { TracingConfig } from '../config/config';

/** The name of Herald's tracer (the instrumentation scope of its spans). */
export const TRACER_NAME = 'herald';

let sdk: NodeSDK | undefined;

/**
 * Starts OpenTelemetry's Node SDK when tracing is on, before Nest is created (main.ts). Nothing of the
 * SDK is loaded otherwise: @opentelemetry/api alone answers with its no-op tracer, and Herald's own
 * tracing code checks `config.tracing.enabled` before doing anything.
 *
 * Spans are exported over OTLP (HTTP/protobuf) in batches; the exporter reads the standard OTEL_*
 * variables itself. No automatic instrumentation is installed: Herald makes the spans that tell an
 * event's story (request, commit, enqueue, attempts) and nothing per SQL statement or Redis call.
 * `spanProcessors` replaces the exporter (tests use the SDK's in-memory exporter).
 */
export function startTracing(config: TracingConfig, version: string, spanProcessors?: SpanProcessor[]): boolean {
  if (!config.enabled || sdk) return !!sdk;
  // Loaded here, so that a process without tracing never loads the SDK.
  /* eslint-disable @typescript-eslint/no-require-imports */
  const { NodeSDK } = require('@opentelemetry/sdk-node') as typeof import('@opentelemetry/sdk-node');
  const { OTLPTraceExporter } = require('@opentelemetry/exporter-trace-otlp-proto') as typeof import('@opentelemetry/exporter-trace-otlp-proto');
  const { resourceFromAttributes } = require('@opentelemetry/resources') as typeof import('@opentelemetry/resources');
  /* eslint-enable @typescript-eslint/no-require-imports */
  sdk = new NodeSDK({
    resource: resourceFromAttributes({ 'service.name': config.serviceName, 'service.version': version }),
    ...(spanProcessors ? { spanProcessors } : { traceExporter: new OTLPTraceExporter() }),
    instrumentations: [],
    // Traces only: Herald's metrics are Prometheus's (GET /metrics); without these the SDK would export OTLP metrics and logs too.
    metricReaders: [],
    logRecordProcessors: [],
  });
  sdk.start();
  return true;
}

/** Flushes the spans still buffered and stops the SDK (on shutdown). */
export async function stopTracing(): Promise<void> {
  const running = sdk;
  sdk = undefined;
  await running?.shutdown();
}
