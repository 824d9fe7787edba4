import { serializeError } from './log-format';

describe('serializeError', () => {
  it('keeps the type, code, message and frames of an ordinary error', () => {
    const error = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:6379'), { code: 'ECONNREFUSED' });
    expect(serializeError(error)).toMatchObject({ type: 'Error', code: 'ECONNREFUSED', message: 'connect ECONNREFUSED 127.0.0.1:6379', stack: expect.any(Array) });
  });

  it('drops the message and everything else of a database error: they quote values', () => {
    const error = Object.assign(new Error('invalid input syntax for type json: "marker"'), { name: 'QueryFailedError', parameters: ['marker'], query: 'INSERT', driverError: { code: '22P02' } });
    const out = serializeError(error);
    expect(out).toMatchObject({ type: 'QueryFailedError', code: '22P02' });
    expect(JSON.stringify(out)).not.toContain('marker');
    expect(JSON.stringify(serializeError(Object.assign(new Error('value "marker"'), { code: '22021' })))).not.toContain('marker');
  });
});
