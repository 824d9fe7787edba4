import { describeQueryError } from './query-logger';

describe('describeQueryError', () => {
  const failed = Object.assign(new Error('invalid input syntax for type json: "secret-payload"'), {
    name: 'QueryFailedError',
    parameters: ['secret-payload'],
    driverError: { code: '22P02', table: 'events', column: 'payload', detail: 'Token "secret-payload" is invalid.' },
  });

  it('keeps the code, the table and column, and the statement text', () => {
    expect(describeQueryError(failed, 'INSERT INTO events\n  (payload) VALUES ($1)')).toEqual({
      statement: 'INSERT INTO events (payload) VALUES ($1)',
      code: '22P02',
      table: 'events',
      column: 'payload',
      error: 'QueryFailedError',
    });
  });

  it('never carries a parameter, a message or a detail', () => {
    expect(JSON.stringify(describeQueryError(failed, 'SELECT $1'))).not.toContain('secret-payload');
  });

  it('cuts long statements', () => {
    expect(describeQueryError(null, 'x'.repeat(1000)).statement).toHaveLength(200);
  });
});
