import { decide } from './idempotency';
import { toSvixError, SvixHttpError } from './svix-errors';
import { attemptStatus, catalogSchema, deliveryStatus } from './svix-views';
import { InvalidInputError, NotFoundError } from '../common/errors';

describe('Svix views', () => {
  it("maps Herald's statuses onto Svix's numbers", () => {
    expect([deliveryStatus({ status: 'succeeded' }), deliveryStatus({ status: 'pending' }), deliveryStatus({ status: 'dead' })]).toEqual([0, 1, 2]);
    expect([attemptStatus({ statusCode: 204 }), attemptStatus({ statusCode: 500 }), attemptStatus({ statusCode: null })]).toEqual([0, 2, 2]);
  });

  it("takes the highest schema version and its first example from Svix's schemas", () => {
    expect(catalogSchema({ '1': { type: 'object' }, '2': { type: 'object', examples: [{ a: 1 }] } })).toEqual({ schema: { type: 'object', examples: [{ a: 1 }] }, example: { a: 1 } });
    expect(catalogSchema(null)).toEqual({ schema: null, example: null });
  });

  it('answers errors as {code, detail}, and field problems as 422 {detail: [{loc, msg, type}]}', () => {
    expect(toSvixError(new NotFoundError('application', 'x'))).toMatchObject({ status: 404, body: { code: 'not_found', detail: 'application x not found' } });
    expect(toSvixError(new SvixHttpError(409, 'conflict', 'dup'))).toMatchObject({ status: 409, body: { code: 'conflict', detail: 'dup' } });
    expect(toSvixError(InvalidInputError.field('url', 'bad url')).body).toEqual({ detail: [{ loc: ['body', 'url'], msg: 'bad url', type: 'value_error' }] });
    expect(toSvixError(InvalidInputError.field('query.status', 'bad')).body).toEqual({ detail: [{ loc: ['query', 'status'], msg: 'bad', type: 'value_error' }] });
    expect(toSvixError(new Error('boom'))).toMatchObject({ status: 500, body: { code: 'server_error', detail: 'internal error' } });
  });

  it('replays an answered idempotency key only for the same request', () => {
    expect(decide(null, 'h')).toEqual({ kind: 'run' });
    expect(decide({ requestHash: 'h', statusCode: 201, response: { id: 1 } }, 'h')).toEqual({ kind: 'replay', statusCode: 201, response: { id: 1 } });
    expect(decide({ requestHash: 'h', statusCode: 201, response: {} }, 'other').kind).toBe('conflict');
    expect(decide({ requestHash: 'h', statusCode: null, response: null }, 'h').kind).toBe('conflict');
  });
});
