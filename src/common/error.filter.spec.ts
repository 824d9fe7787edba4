import { toErrorBody } from './error.filter';

const named = (name: string, extra: Record<string, unknown> = {}) => Object.assign(new Error('x'), { name }, extra);

describe('toErrorBody', () => {
  it.each([
    ['a released query runner (the connection broke under a transaction)', named('QueryRunnerAlreadyReleasedError')],
    ['a released query runner provider', named('QueryRunnerProviderAlreadyReleasedError')],
    ['PostgreSQL shutting down (57P01)', Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' })],
    ['a crash-recovery restart (57P02)', Object.assign(new Error('x'), { code: '57P02' })],
    ['a connection failure (08006) inside a TypeORM error', named('QueryFailedError', { driverError: { code: '08006' } })],
    ['too many connections (53300)', Object.assign(new Error('x'), { code: '53300' })],
    ['a refused connection', Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' })],
    ['a statement cancelled by statement_timeout (57014)', named('QueryFailedError', { driverError: { code: '57014' } })],
    ['a transaction rolled back to break a deadlock (40P01)', named('QueryFailedError', { driverError: { code: '40P01' } })],
    ['a serialization failure (40001)', Object.assign(new Error('could not serialize access'), { code: '40001' })],
    ['a server that stopped answering (the client query_timeout)', new Error('Query read timeout')],
    ['a connection that could not be opened in time', new Error('timeout exceeded when trying to connect')],
  ])('answers 503 with Retry-After to %s', (_, error) => {
    const { body, headers } = toErrorBody(error);
    expect(body.statusCode).toBe(503);
    expect(headers['retry-after']).toBe('1');
  });

  it('answers 400 naming the column to a NOT NULL violation, in camelCase', () => {
    const { body } = toErrorBody(named('QueryFailedError', { driverError: { code: '23502', column: 'event_type' } }));
    expect(body).toMatchObject({ statusCode: 400, details: [{ field: 'eventType' }] });
  });

  it('answers 400 to a value PostgreSQL cannot store (NUL byte, out of range)', () => {
    for (const code of ['22021', '22P05', '22003', '22008']) expect(toErrorBody(Object.assign(new Error('x'), { code })).body).toMatchObject({ statusCode: 400, details: [{ field: 'body' }] });
  });

  it('answers 409 to a unique violation', () => {
    expect(toErrorBody(Object.assign(new Error('dup'), { code: '23505' })).body.statusCode).toBe(409);
  });

  it('answers 404 for the row a request raced the delete of (foreign-key violation, 23503)', () => {
    const raced = named('QueryFailedError', { driverError: { code: '23503', detail: 'Key (tenant_id)=(tnt_01J) is not present in table "tenants".' } });
    expect(toErrorBody(raced).body).toEqual({ statusCode: 404, error: 'Not Found', message: 'tenant not found' });
    expect(toErrorBody(Object.assign(new Error('x'), { code: '23503' })).body.statusCode).toBe(404);
    expect(toErrorBody(Object.assign(new Error('x'), { code: '23503', detail: 'Key (id)=(x) is still referenced from table "deliveries".' })).body.statusCode).toBe(409);
  });

  it('answers 400 to a body nested too deeply to validate', () => {
    expect(toErrorBody(new RangeError('Maximum call stack size exceeded')).body).toMatchObject({ statusCode: 400, message: 'body is nested too deeply' });
  });

  it('answers 500 without details to anything else, leaking nothing', () => {
    expect(toErrorBody(new Error('secret internals'))).toEqual({ body: { statusCode: 500, error: 'Internal Server Error', message: 'internal error' }, headers: {} });
    expect(toErrorBody(Object.assign(new Error('syntax'), { code: '42601' })).body.statusCode).toBe(500);
  });
});
