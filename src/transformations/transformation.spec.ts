import { TRANSFORMATION_LIMITS, compileTransformation, transform } from './transformation';

const input = { eventType: 'invoice.paid', payload: { id: 'inv_1', data: { amount: 1500, lines: [{ sku: 'A', qty: 2 }, { sku: 'B', qty: 1 }] } } };

describe('transformations', () => {
  it('shapes the body from the event type and the payload', async () => {
    const result = await transform('{"type": eventType, "id": payload.id, "total": payload.data.amount / 100, "skus": payload.data.lines.sku}', input);
    expect(result).toEqual({ ok: true, body: JSON.stringify({ type: 'invoice.paid', id: 'inv_1', total: 15, skus: ['A', 'B'] }) });
  });

  it('may produce any JSON value', async () => {
    expect(await transform('payload.data.amount', input)).toEqual({ ok: true, body: '1500' });
    expect(await transform('$count(payload.data.lines)', input)).toEqual({ ok: true, body: '2' });
  });

  it('refuses what does not compile, with the parser’s message', () => {
    const result = compileTransformation('{"a": payload.');
    expect(result.ok).toBe(false);
    expect(!result.ok && result.error).toMatch(/.+/);
    expect(compileTransformation('  ')).toEqual({ ok: false, error: 'an expression must not be empty' });
    expect(compileTransformation('x'.repeat(TRANSFORMATION_LIMITS.maxExpressionLength + 1))).toEqual({ ok: false, error: 'an expression is at most 8192 characters' });
  });

  it('fails when evaluation errs or produces nothing', async () => {
    expect(await transform('$error("no invoice")', input)).toEqual({ ok: false, error: 'no invoice' });
    expect(await transform('payload.missing', input)).toEqual({ ok: false, error: 'the expression produced no value' });
    expect(await transform('function($x) { $x }', input)).toEqual({ ok: false, error: 'the expression produced a function, not JSON' });
  });

  it('stops an expression that runs too long or recurses too deep', async () => {
    const endless = await transform('($f := function($n) { $n < 0 ? 0 : $f($n + 1) }; $f(0))', input);
    expect(endless.ok).toBe(false);
    expect(!endless.ok && endless.error).toMatch(/exceeded 50 ms|stack/i);
    expect(await transform('($f := function($n) { $n = 0 ? 0 : $f($n - 1) + $f($n - 1) }; $f(40))', input)).toEqual({ ok: false, error: 'evaluation exceeded 50 ms' });
    expect(await transform('$count([1..9000000])', input)).toMatchObject({ ok: false, error: expect.stringMatching(/maximum sequence length/) });
  });

  it('limits the size of the output', async () => {
    const result = await transform('$pad("", 2000000, "x")', input);
    expect(result).toEqual({ ok: false, error: 'the result exceeds 1048576 bytes' });
  });
});
