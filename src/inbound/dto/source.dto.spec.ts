import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';
import { CreateSourceDto } from './source.dto';

function problems(body: unknown): string[] {
  const errors = validateSync(plainToInstance(CreateSourceDto, body) as object, { whitelist: true, forbidNonWhitelisted: true });
  const verifier = errors.find((e) => e.property === 'verifier');
  return [
    ...errors.filter((e) => e.property !== 'verifier').map((e) => e.property),
    ...(verifier?.children ?? []).map((c) => `verifier.${c.property}`),
    ...(verifier?.constraints ? ['verifier'] : []),
  ].sort();
}

describe('CreateSourceDto', () => {
  it('accepts each verifier type with its own fields', () => {
    const valid = [
      { type: 'standard-webhooks', secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw' },
      { type: 'stripe', secret: 'whsec_abc' },
      { type: 'github', secret: 'abc' },
      { type: 'shopify', secret: 'abc' },
      { type: 'slack', secret: 'abc' },
      { type: 'hmac', secret: 'abc', header: 'X-Sig', algorithm: 'sha1', encoding: 'hex' },
      { type: 'hmac', secret: 'abc', header: 'X-Sig', algorithm: 'sha256', encoding: 'base64', prefix: 'sha256=' },
      { type: 'basic', username: 'user', password: 'p:a:ss' },
      { type: 'api-key', header: 'X-Api-Key', value: 'k' },
      { type: 'none' },
    ];
    for (const verifier of valid) expect([verifier.type, problems({ name: 'n', verifier })]).toEqual([verifier.type, []]);
  });

  it('names every missing, malformed or misplaced field', () => {
    expect(problems({ name: 'n', verifier: { type: 'hmac' } })).toEqual(['verifier.algorithm', 'verifier.encoding', 'verifier.header', 'verifier.secret']);
    expect(problems({ name: 'n', verifier: { type: 'none', secret: 'x' } })).toEqual(['verifier.secret']);
    expect(problems({ name: 'n', verifier: { type: 'api-key', header: 'bad header', value: '' } })).toEqual(['verifier.header', 'verifier.value']);
    expect(problems({ name: 'n', verifier: { type: 'standard-webhooks', secret: 'whsec_***' } })).toEqual(['verifier.secret']);
    expect(problems({ name: 'n', verifier: { type: 'nope', secret: 'x' } })).toEqual(['verifier.type']);
    expect(problems({ name: 'n', verifier: 'stripe' })).toEqual(['verifier']);
  });

  it('says why in the message', () => {
    const [error] = validateSync(plainToInstance(CreateSourceDto, { name: 'n', verifier: { type: 'stripe', secret: 's', password: 'p' } }) as object);
    expect(Object.values(error.children![0].constraints!)).toEqual(['password is not used by verifier type stripe']);
  });
});
