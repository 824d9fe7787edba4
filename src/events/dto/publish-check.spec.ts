import 'reflect-metadata';
import fc from 'fast-check';
import { getMetadataStorage } from 'class-validator';
import { InvalidInputError } from '../../common/errors';
import { validationPipe } from '../../common/validation';
import { PublishBatchDto, PublishEventDto } from './event.dto';
import { plainPublishBatch, plainPublishEvent } from './publish-check';

const decoratorsOnly = validationPipe({ plainChecks: false });

/** What the pipe makes of a body through the decorators (class-transformer, then class-validator): the DTO, or the fields it names. */
async function throughDecorators(dto: new () => object, body: unknown): Promise<{ ok: true; value: unknown } | { ok: false; fields: string[] }> {
  try {
    return { ok: true, value: await decoratorsOnly.transform(structuredClone(body), { type: 'body', metatype: dto }) };
  } catch (error) {
    if (error instanceof InvalidInputError) return { ok: false, fields: error.details!.map((d) => d.field) };
    throw error;
  }
}

/** The decorators each check was written against: a change to the DTO fails here, and the check must follow it. */
function decorators(dto: new () => object): string[] {
  return getMetadataStorage()
    .getTargetValidationMetadatas(dto, '', true, false)
    .map((m) => `${m.propertyName}:${m.name ?? m.type}${m.each ? '[each]' : ''}:${JSON.stringify(m.constraints ?? [])}`)
    .sort();
}

describe('the publish bodies checked plainly', () => {
  it('follow the decorators they were written against', () => {
    expect(decorators(PublishEventDto)).toEqual(
      [
        'channels:arrayMaxSize:[10]',
        'channels:isArray:[]',
        'channels:matches[each]:[{},null]',
        'channels:isOptional:[null]',
        'eventType:isString:[]',
        'eventType:matches:[{},null]',
        'idempotencyKey:isOptional:[null]',
        'idempotencyKey:isLength:[1,256]',
        'idempotencyKey:isString:[]',
        'orderingKey:isOptional:[null]',
        'orderingKey:matches:[{},null]',
        'payload:isObject:[]',
      ].sort(),
    );
    expect(decorators(PublishBatchDto)).toEqual(
      ['events:arrayMaxSize:[500]', 'events:arrayMinSize:[1]', 'events:isArray:[]', 'events:nestedValidation[each]:[]'].sort(),
    );
  });

  it('accept an ordinary event and keep its payload as parsed', () => {
    const body = JSON.parse('{"eventType":"invoice.paid","payload":{"valueOf":1,"constructor":{"a":[1]}},"idempotencyKey":"k","orderingKey":"c_1","channels":["eu"]}');
    const dto = plainPublishEvent(body)!;
    expect(dto).toBeInstanceOf(PublishEventDto);
    expect(dto.payload).toBe(body.payload);
    expect(dto).toEqual(Object.assign(new PublishEventDto(), body));
    const batch = plainPublishBatch({ events: [body, { eventType: 'a', payload: {} }] })!;
    expect(batch).toBeInstanceOf(PublishBatchDto);
    expect(batch.events.map((e) => e.eventType)).toEqual(['invoice.paid', 'a']);
    expect(batch.events[0].payload).toBe(body.payload);
  });

  it('give up on what the decorators must judge', () => {
    const ok = { eventType: 'a.b', payload: {} };
    for (const bad of [
      { ...ok, extra: 1 },
      { ...ok, idempotencyKey: null },
      { ...ok, idempotencyKey: '' },
      { ...ok, idempotencyKey: 'x'.repeat(257) },
      { ...ok, orderingKey: 'a\nb' },
      { ...ok, channels: 'eu' },
      { ...ok, channels: Array(11).fill('eu') },
      { ...ok, channels: ['eu', 1] },
      { ...ok, payload: [] },
      { ...ok, payload: null },
      { ...ok, eventType: 'a b' },
      { payload: {} },
      JSON.parse('{"eventType":"a","payload":{},"__proto__":{}}'),
      [ok],
    ]) {
      expect(plainPublishEvent(bad)).toBeUndefined();
      expect(plainPublishBatch({ events: [ok, bad] })).toBeUndefined();
    }
    expect(plainPublishBatch({ events: [] })).toBeUndefined();
    expect(plainPublishBatch({ events: Array(501).fill(ok) })).toBeUndefined();
    expect(plainPublishBatch({ events: [ok], more: 1 })).toBeUndefined();
  });

  // Any body: what the plain check accepts, the decorators accept, and make the same DTO of.
  const text = fc.oneof(fc.constantFrom('', 'a', 'a.b', 'a b', 'x'.repeat(128), 'x'.repeat(129), 'x'.repeat(256), 'x'.repeat(257), '\uFE0F', 'é', 'a\u0000', '#eu'), fc.string());
  const value = fc.oneof(text, fc.constant(null), fc.integer(), fc.boolean(), fc.array(text, { maxLength: 12 }), fc.dictionary(text, text, { maxKeys: 2 }));
  // Each field often valid, sometimes anything: enough bodies pass for the comparison to mean something.
  const fields = {
    eventType: fc.oneof(fc.constantFrom('a', 'a.b:c'), value),
    payload: fc.oneof(fc.dictionary(text, value, { maxKeys: 2 }), value),
    idempotencyKey: fc.oneof(text, value),
    orderingKey: fc.oneof(text, value),
    channels: fc.oneof(fc.array(fc.constantFrom('eu', '#x', 'a b', '', 'x'.repeat(129)), { maxLength: 11 }), value),
    other: value,
  };
  const event = fc.oneof(fc.record(fields, { requiredKeys: [] }), fc.record(fields, { requiredKeys: ['eventType', 'payload'] }));
  // Valid by construction, optional fields included: half of the bodies compared, so the count accepted never runs short.
  const validEvent = fc.record(
    {
      eventType: fc.constantFrom('a', 'a.b'),
      payload: fc.dictionary(text, value, { maxKeys: 2 }),
      idempotencyKey: fc.constantFrom('k', 'x'.repeat(256)),
      orderingKey: fc.constantFrom('c_1', 'é'),
      channels: fc.array(fc.constantFrom('eu', '#x'), { maxLength: 10 }),
    },
    { requiredKeys: ['eventType', 'payload'] },
  );

  /** Over `numRuns` bodies: whatever `check` accepts (more than 50 of them), the decorators accept as the same DTO. */
  async function neverLooser(check: (body: unknown) => object | undefined, dto: new () => object, bodies: fc.Arbitrary<unknown>, numRuns: number): Promise<void> {
    let accepted = 0;
    await fc.assert(
      fc.asyncProperty(bodies, async (body) => {
        const plain = check(body);
        if (plain === undefined) return;
        accepted++;
        expect(await throughDecorators(dto, body)).toEqual({ ok: true, value: plain });
      }),
      { numRuns },
    );
    expect(accepted).toBeGreaterThan(50);
  }

  it('never accept an event the decorators refuse', () => neverLooser(plainPublishEvent, PublishEventDto, fc.oneof(validEvent, event), 20000));

  it('never accept a batch the decorators refuse', () =>
    neverLooser(plainPublishBatch, PublishBatchDto, fc.oneof(fc.record({ events: fc.array(fc.oneof(validEvent, event), { maxLength: 3 }) }), fc.record({ events: value })), 1000));

  it('are what the pipe answers, and a body they give up on is named field by field', async () => {
    const pipe = validationPipe();
    const body = { eventType: 'a', payload: { x: 1 } };
    const dto = await pipe.transform(body, { type: 'body', metatype: PublishEventDto });
    expect((dto as PublishEventDto).payload).toBe(body.payload);
    await expect(pipe.transform({ events: [body, { eventType: 'a b', payload: {} }] }, { type: 'body', metatype: PublishBatchDto })).rejects.toMatchObject({
      details: [{ field: 'events.1.eventType', message: 'events.1.eventType must match ^[A-Za-z0-9_.:-]{1,128}$' }],
    });
  });
});
