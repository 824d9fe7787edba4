import { EndpointCache } from './endpoint-cache';
import { Endpoint } from './endpoint.entity';

/** A repository whose lookups the test answers one by one, in order. */
function repository() {
  const lookups: { id: string; resolve: (e: Endpoint | null) => void; reject: (e: Error) => void }[] = [];
  return {
    lookups,
    findOneBy: ({ id }: { id: string }) => new Promise<Endpoint | null>((resolve, reject) => lookups.push({ id, resolve, reject })),
  };
}

const redis = { status: 'ready', publish: () => Promise.resolve(0) };
const endpoint = (id: string) => ({ id, tenantId: 'ten_1' }) as Endpoint;

describe('EndpointCache.get', () => {
  it('shares one lookup between the callers that miss while it runs, then answers from the cache', async () => {
    const repo = repository();
    const cache = new EndpointCache(repo as never, {} as never, redis as never, {} as never);
    const asked = Array.from({ length: 5 }, () => cache.get('ep_a'));
    expect(repo.lookups).toHaveLength(1);
    repo.lookups[0].resolve(endpoint('ep_a'));
    for (const answer of await Promise.all(asked)) expect(answer?.id).toBe('ep_a');
    expect((await cache.get('ep_a'))?.id).toBe('ep_a');
    expect(repo.lookups).toHaveLength(1);
  });

  it('does not remember a lookup that an endpoint change overtook, and reads again after it', async () => {
    const repo = repository();
    const cache = new EndpointCache(repo as never, {} as never, redis as never, {} as never);
    const before = cache.get('ep_a');
    cache.changed(endpoint('ep_a'));
    const after = cache.get('ep_a');
    expect(repo.lookups).toHaveLength(2);
    repo.lookups[1].resolve({ ...endpoint('ep_a'), url: 'https://new.example' } as Endpoint);
    repo.lookups[0].resolve({ ...endpoint('ep_a'), url: 'https://old.example' } as Endpoint);
    expect((await before)?.url).toBe('https://old.example');
    expect((await after)?.url).toBe('https://new.example');
    // The older answer, arriving last, did not replace the newer one.
    expect((await cache.get('ep_a'))?.url).toBe('https://new.example');
    expect(repo.lookups).toHaveLength(2);
  });

  it('remembers nothing of a failed lookup: every caller sharing it gets the error, the next caller reads again', async () => {
    const repo = repository();
    const cache = new EndpointCache(repo as never, {} as never, redis as never, {} as never);
    const asked = [cache.get('ep_a'), cache.get('ep_a')];
    repo.lookups[0].reject(new Error('connection terminated'));
    for (const answer of await Promise.allSettled(asked)) expect(answer).toMatchObject({ status: 'rejected', reason: { message: 'connection terminated' } });
    const again = cache.get('ep_a');
    expect(repo.lookups).toHaveLength(2);
    repo.lookups[1].resolve(null);
    expect(await again).toBeNull();
  });
});
