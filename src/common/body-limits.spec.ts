import { ENVELOPE_BYTES, bodyLimitFor } from './body-limits';

describe('bodyLimitFor', () => {
  const config = { maxPayloadBytes: 262_144, limits: { maxBodyBytes: 65_536 } };
  const limit = (method: string, path: string) => bodyLimitFor(method, path, config, 500);

  it('gives inbound a payload and its envelope, a single publish twice the payload', () => {
    expect(limit('POST', '/v1/tenants/:tenantId/events')).toBe(2 * 262_144 + ENVELOPE_BYTES);
    expect(limit('POST', '/in/:sourceId')).toBe(262_144 + ENVELOPE_BYTES);
  });

  it('gives a batch the payload limit times the batch size', () => {
    expect(limit('POST', '/v1/tenants/:tenantId/events/batch')).toBe(500 * (262_144 + ENVELOPE_BYTES));
  });

  it('gives every other route HERALD_MAX_BODY_BYTES', () => {
    for (const [method, path] of [
      ['POST', '/v1/tenants'],
      ['POST', '/v1/tenants/:tenantId/endpoints'],
      ['PATCH', '/v1/tenants/:tenantId/endpoints/:endpointId'],
      ['GET', '/v1/tenants/:tenantId/events'],
    ]) {
      expect(limit(method, path)).toBe(65_536);
    }
  });
});
