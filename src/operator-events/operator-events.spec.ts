import { OperatorEvent, operatorEventFacts, shouldEmit } from './operator-event';
import { OperatorEvents } from './operator-events';

const dead: OperatorEvent = { type: 'delivery.dead', tenantId: 'tnt_1', endpointId: 'ep_1', deliveryId: 'dlv_1', eventId: 'evt_1', eventType: 'order.created', attempts: 8, lastError: 'HTTP 500' };

describe('operator events', () => {
  it('are published as herald.<type> with their fields and time', () => {
    const facts = operatorEventFacts(dead, new Date('2026-11-26T08:00:00Z'));
    expect(facts.eventType).toBe('herald.delivery.dead');
    expect(JSON.parse(facts.payload)).toEqual({ ...dead, type: 'herald.delivery.dead', occurredAt: '2026-11-26T08:00:00.000Z' });
  });

  it('do not report the death of an operator event (no loop through a failing operator endpoint)', () => {
    expect(shouldEmit(dead)).toBe(true);
    expect(shouldEmit({ ...dead, eventType: 'herald.delivery.dead' })).toBe(false);
  });

  it('never pass a failure to emit on to the caller', async () => {
    const failing = { publishRaw: () => Promise.reject(new Error('database down')) };
    const endpoints = { matching: () => Promise.resolve({ endpoints: [{}], version: '1' }) };
    const events = new OperatorEvents({} as never, failing as never, endpoints as never, {} as never);
    const warned = new Promise<string>((resolve) => ((events as unknown as { logger: { warn: (m: string) => void } }).logger = { warn: resolve }));
    expect(() => events.emit(dead)).not.toThrow();
    expect(await warned).toBe('could not emit delivery.dead for tenant tnt_1: database down');
  });
});
