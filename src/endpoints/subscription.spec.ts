import { sharesChannel, subscribes } from './subscription';

const event = (eventType: string, payload: unknown = {}, channels?: string[] | null) => ({ eventType, payload: JSON.stringify(payload), channels });

describe('subscribes', () => {
  it('needs the event type to match and the filter to hold', () => {
    const endpoint = { eventTypes: ['invoice.*'], channels: [], filter: { amount: { $gte: 10 } } };
    expect(subscribes(endpoint, event('invoice.paid', { amount: 10 }))).toBe(true);
    expect(subscribes(endpoint, event('invoice.paid', { amount: 9 }))).toBe(false);
    expect(subscribes(endpoint, event('user.created', { amount: 10 }))).toBe(false);
    expect(subscribes({ eventTypes: [], channels: [], filter: null }, event('anything'))).toBe(true);
  });

  it("sends Herald's own events only to endpoints that name them", () => {
    expect(subscribes({ eventTypes: [], channels: [], filter: null }, event('herald.delivery.dead'))).toBe(false);
    expect(subscribes({ eventTypes: ['*'], channels: [], filter: null }, event('herald.delivery.dead'))).toBe(false);
    expect(subscribes({ eventTypes: ['invoice.*', 'herald.*'], channels: [], filter: null }, event('herald.delivery.dead'))).toBe(true);
    expect(subscribes({ eventTypes: ['herald.endpoint.*'], channels: [], filter: null }, event('herald.delivery.dead'))).toBe(false);
    expect(subscribes({ eventTypes: ['herald.delivery.dead'], channels: [], filter: { endpointId: 'ep_1' } }, event('herald.delivery.dead', { endpointId: 'ep_1' }))).toBe(true);
  });

  it('gives an endpoint without channels every event, with or without channels', () => {
    expect(subscribes({ eventTypes: [], channels: [], filter: null }, event('a', {}, ['eu']))).toBe(true);
    expect(subscribes({ eventTypes: [], channels: [], filter: null }, event('a'))).toBe(true);
  });

  it('gives an endpoint with channels only the events sharing one (as Svix does)', () => {
    expect(sharesChannel(['eu', 'us'], ['us'])).toBe(true);
    expect(sharesChannel(['eu'], ['us', 'ap'])).toBe(false);
    expect(sharesChannel(['eu'], null)).toBe(false);
    expect(sharesChannel(['eu'], [])).toBe(false);
    expect(subscribes({ eventTypes: ['b'], channels: ['eu'], filter: null }, event('a', {}, ['eu']))).toBe(false);
  });

  it('needs the channel rule and the filter both to hold', () => {
    const endpoint = { eventTypes: [], channels: ['eu'], filter: { amount: { $gte: 10 } } };
    expect(subscribes(endpoint, event('a', { amount: 10 }, ['eu']))).toBe(true);
    expect(subscribes(endpoint, event('a', { amount: 10 }, ['us']))).toBe(false);
    expect(subscribes(endpoint, event('a', { amount: 9 }, ['eu']))).toBe(false);
  });
});
