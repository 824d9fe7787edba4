import { InMemorySpanExporter, ReadableSpan, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { startTracing } from '../../src/tracing/tracing';
import { FAST_RETRY, createEndpoint, createTenant } from '../support/fixtures';
import { Herald, startHerald } from '../support/herald';
import { TestReceiver } from '../support/receiver';
import { waitFor } from '../support/wait';

/**
 * Tracing through the SDK Herald starts in production (startTracing), with the SDK's in-memory exporter
 * in place of OTLP: one published event, retried once, is one trace from the producer's request to the
 * receiver's answers.
 */
describe('tracing', () => {
  const exporter = new InMemorySpanExporter();
  let herald: Herald;
  let receiver: TestReceiver;
  let plain: TestReceiver;

  beforeAll(async () => {
    // The endpoint is never contacted: the span processor given here replaces the OTLP exporter.
    startTracing({ enabled: true, serviceName: 'herald-test' }, 'test', [new SimpleSpanProcessor(exporter)]);
    herald = await startHerald({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:9' });
    receiver = await TestReceiver.start();
    plain = await TestReceiver.start();
  });
  afterAll(async () => {
    await receiver?.close();
    await plain?.close();
    await herald?.close();
  });

  const producerTrace = 'a1b2c3d4e5f60718293a4b5c6d7e8f90';
  const producerSpan = '1122334455667788';
  const spansOf = (traceId: string) => exporter.getFinishedSpans().filter((s) => s.spanContext().traceId === traceId);
  const parentOf = (s: ReadableSpan) => s.parentSpanContext?.spanId;

  it('links the publish request, its commit and enqueue, and every attempt of a retried delivery in the producer’s trace', async () => {
    receiver.replyWith([{ status: 500, body: 'boom' }], { status: 200 });
    const tenant = await createTenant(herald.api);
    const secretQuery = 'token=do-not-trace-me';
    const headerValue = 'Bearer header-value-never-in-a-span';
    const traced = await createEndpoint(herald.api, tenant.id, { url: `${receiver.url}/traced?${secretQuery}`, retryPolicy: FAST_RETRY, sendTraceparent: true, headers: { authorization: headerValue } });
    await createEndpoint(herald.api, tenant.id, { url: `${plain.url}/plain`, retryPolicy: FAST_RETRY });
    const marker = 'payload-marker-never-in-a-span';

    const res = await herald.api.post(`/v1/tenants/${tenant.id}/events`, { eventType: 'order.created', payload: { marker } }, { traceparent: `00-${producerTrace}-${producerSpan}-01` });
    expect(res.status).toBe(202);

    // The traced endpoint: a 500, then the retry's 200.
    await waitFor('the retry to reach the traced endpoint', () => receiver.forPath(`/traced?${secretQuery}`).length >= 2);
    await waitFor('both deliveries to succeed', async () => (await herald.sql(`SELECT status FROM deliveries WHERE event_id = $1`, [res.body.id])).every((d) => d.status === 'succeeded'));
    await waitFor('three attempt spans', () => spansOf(producerTrace).filter((s) => s.name === 'POST').length >= 3);
    await waitFor('the enqueue span', () => spansOf(producerTrace).some((s) => s.name === 'herald.publish.enqueue'));

    const spans = spansOf(producerTrace);
    const request = spans.find((s) => s.name === 'POST /v1/tenants/:tenantId/events')!;
    expect(request).toBeDefined();
    expect(parentOf(request)).toBe(producerSpan);
    expect(request.attributes['http.response.status_code']).toBe(202);

    const commit = spans.find((s) => s.name === 'herald.publish.commit')!;
    const enqueue = spans.find((s) => s.name === 'herald.publish.enqueue')!;
    expect(parentOf(commit)).toBe(request.spanContext().spanId);
    expect(parentOf(enqueue)).toBe(request.spanContext().spanId);
    expect(enqueue.attributes['herald.jobs']).toBe(2);

    // The event row keeps the request span's context, so attempts made later continue the trace.
    const [event] = await herald.sql(`SELECT trace_context FROM events WHERE id = $1`, [res.body.id]);
    expect(event.trace_context).toBe(`00-${producerTrace}-${request.spanContext().spanId}-01`);

    const attempts = spans.filter((s) => s.name === 'POST' && s.attributes['herald.endpoint.id'] === traced.id).sort((a, b) => Number(a.attributes['herald.attempt']) - Number(b.attributes['herald.attempt']));
    expect(attempts.map((s) => [s.attributes['herald.attempt'], s.attributes['http.response.status_code'], s.attributes['error.type']])).toEqual([
      [1, 500, '500'],
      [2, 200, undefined],
    ]);
    for (const attempt of attempts) {
      expect(parentOf(attempt)).toBe(request.spanContext().spanId);
      expect(attempt.attributes).toMatchObject({
        'http.request.method': 'POST',
        'url.full': `${receiver.url}/traced`,
        'herald.tenant.id': tenant.id,
        'herald.event.id': res.body.id,
        'http.request.resend_count': Number(attempt.attributes['herald.attempt']) - 1,
      });
    }

    // The opted-in endpoint got each attempt's own traceparent; the other endpoint got none.
    const got = receiver.forPath(`/traced?${secretQuery}`).map((r) => r.headers.traceparent);
    expect(got).toEqual(attempts.map((s) => `00-${producerTrace}-${s.spanContext().spanId}-01`));
    expect(plain.forPath('/plain')[0].headers.traceparent).toBeUndefined();

    // Nothing a span carries holds the payload, the URL's query, a header value or a secret (the receiver did get the header).
    expect(receiver.forPath(`/traced?${secretQuery}`)[0].headers.authorization).toBe(headerValue);
    const everything = JSON.stringify(spans.map((s) => ({ name: s.name, attributes: s.attributes, events: s.events, status: s.status })));
    for (const secret of [marker, secretQuery, traced.secret, headerValue, 'header-value-never']) expect(everything).not.toContain(secret);
  });

  it('starts a trace of its own for a producer that sends no traceparent', async () => {
    const tenant = await createTenant(herald.api);
    await createEndpoint(herald.api, tenant.id, { url: `${plain.url}/own` });
    const res = await herald.api.post(`/v1/tenants/${tenant.id}/events`, { eventType: 'order.created', payload: {} });
    const [event] = await herald.sql(`SELECT trace_context FROM events WHERE id = $1`, [res.body.id]);
    const traceId = /^00-([0-9a-f]{32})-[0-9a-f]{16}-01$/.exec(event.trace_context)![1];
    await waitFor('the attempt span', () => spansOf(traceId).some((s) => s.name === 'POST'));
    expect(spansOf(traceId).map((s) => s.name)).toEqual(expect.arrayContaining(['POST /v1/tenants/:tenantId/events', 'herald.publish.commit', 'POST']));
  });
});
