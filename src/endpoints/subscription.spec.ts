import { subscribes } from './subscription';

const event = (eventType: string, payload: unknown = {}) => ({ eventType, payload: JSON.stringify(payload) });

describe('subscribes', () => {
  it('needs the event type to match and the filter to hold', () => {
    const endpoint = { eventTypes: ['invoice.*'], filter: { amount: { $gte: 10 } } };
    expect(subscribes(endpoint, event('invoice.paid', { amount: 10 }))).toBe(true);
    expect(subscribes(endpoint, event('invoice.paid', { amount: 9 }))).toBe(false);
    expect(subscribes(endpoint, event('user.created', { amount: 10 }))).toBe(false);
    expect(subscribes({ eventTypes: [], filter: null }, event('anything'))).toBe(true);
  });

  it("sends Herald's own events only to endpoints that name them", () => {
    expect(subscribes({ eventTypes: [], filter: null }, event('herald.delivery.dead'))).toBe(false);
    expect(subscribes({ eventTypes: ['*'], filter: null }, event('herald.delivery.dead'))).toBe(false);
    expect(subscribes({ eventTypes: ['invoice.*', 'herald.*'], filter: null }, event('herald.delivery.dead'))).toBe(true);
    expect(subscribes({ eventTypes: ['herald.endpoint.*'], filter: null }, event('herald.delivery.dead'))).toBe(false);
    expect(subscribes({ eventTypes: ['herald.delivery.dead'], filter: { endpointId: 'ep_1' } }, event('herald.delivery.dead', { endpointId: 'ep_1' }))).toBe(true);
  });
});
