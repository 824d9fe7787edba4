import { newId } from '../../src/common/ids';
import { AttemptRecord } from '../../src/deliveries/attempt-recorder';

/** The record of a successful attempt (200, body "ok") of a delivery, as the worker hands it to AttemptRecorder. */
export function succeededAttempt(deliveryId: string, endpointId: string, attempt = 1, extra: Partial<AttemptRecord> = {}): AttemptRecord {
  return {
    id: newId('att'),
    deliveryId,
    endpointId,
    attempt,
    trigger: 'initial',
    startedAt: new Date(),
    durationMs: 12.4,
    statusCode: 200,
    responseBody: 'ok',
    responseBodyEncoding: 'utf8',
    responseHeaders: { 'content-type': 'text/plain' },
    responseHeadersBase64: null,
    error: null,
    status: 'succeeded',
    nextAttemptAt: null,
    lastError: null,
    resetEndpointHealth: false,
    ...extra,
  };
}
