import type Redis from 'ioredis';
import { LimitExceededError, RateLimitedError } from '../common/errors';
import type { PublishAdmission } from '../rate-limit/publish-admission';
import type { Tenant } from '../tenants/tenant.entity';
import { PublishRateLimit } from './publish-rate-limit';

const tenant = (publishRateLimitPerSecond: number | null) => ({ id: 'tnt_1', publishRateLimitPerSecond }) as Tenant;

function limiter(admit: PublishAdmission['admit'], status = 'ready') {
  const admission = { admit: jest.fn(admit) };
  return { rateLimit: new PublishRateLimit(admission as unknown as PublishAdmission, { status } as unknown as Redis), admission };
}

describe('PublishRateLimit', () => {
  it('does not consult Redis for a tenant without a limit', async () => {
    const { rateLimit, admission } = limiter(async () => ({ admitted: false, retryInMs: 10 }));
    await expect(rateLimit.admit(tenant(null), 5)).resolves.toBeUndefined();
    expect(admission.admit).not.toHaveBeenCalled();
  });

  it('counts every event of a batch', async () => {
    const { rateLimit, admission } = limiter(async () => ({ admitted: true }));
    await rateLimit.admit(tenant(20), 7);
    expect(admission.admit).toHaveBeenCalledWith('tnt_1', 20, 7);
  });

  it('refuses with 429 and a Retry-After of whole seconds', async () => {
    const { rateLimit } = limiter(async () => ({ admitted: false, retryInMs: 1200 }));
    const error = await rateLimit.admit(tenant(20), 1).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RateLimitedError);
    expect((error as RateLimitedError).status).toBe(429);
    expect((error as RateLimitedError).headers).toEqual({ 'retry-after': '2' });
  });

  it('refuses a batch larger than the allowance with 422 and no Retry-After, without asking Redis, even when Redis is down', async () => {
    for (const status of ['ready', 'reconnecting']) {
      const { rateLimit, admission } = limiter(async () => ({ admitted: true }), status);
      const error = await rateLimit.admit(tenant(20), 21).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(LimitExceededError);
      expect(error).toMatchObject({ status: 422, details: [{ field: 'events' }], message: expect.stringMatching(/21 events exceed/) });
      expect((error as LimitExceededError).headers).toBeUndefined();
      expect(admission.admit).not.toHaveBeenCalled();
    }
    await expect(limiter(async () => ({ admitted: true })).rateLimit.admit(tenant(20), 20)).resolves.toBeUndefined();
  });

  it('fails open when Redis is down or erring: PostgreSQL is the truth', async () => {
    const down = limiter(async () => ({ admitted: false, retryInMs: 10 }), 'reconnecting');
    await expect(down.rateLimit.admit(tenant(20), 1)).resolves.toBeUndefined();
    expect(down.admission.admit).not.toHaveBeenCalled();

    const erring = limiter(async () => {
      throw new Error('Connection is closed.');
    });
    await expect(erring.rateLimit.admit(tenant(20), 1)).resolves.toBeUndefined();
  });
});
