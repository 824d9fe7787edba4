import { sharesChannel, subscribes } from './subscription';

describe('subscribes', () => {
  const event = (eventType: string, channels?: string[] | null) => ({ eventType, payload: '{}', channels });

  it('applies the event-type filter', () => {
    expect(subscribes({ eventTypes: ['invoice.*'], channels: [] }, event('invoice.paid'))).toBe(true);
    expect(subscribes({ eventTypes: ['invoice.*'], channels: [] }, event('user.created'))).toBe(false);
  });

  it('gives an endpoint without channels every event, with or without channels', () => {
    expect(subscribes({ eventTypes: [], channels: [] }, event('a', ['eu']))).toBe(true);
    expect(subscribes({ eventTypes: [], channels: [] }, event('a'))).toBe(true);
  });

  it('gives an endpoint with channels only the events sharing one (as Svix does)', () => {
    expect(sharesChannel(['eu', 'us'], ['us'])).toBe(true);
    expect(sharesChannel(['eu'], ['us', 'ap'])).toBe(false);
    expect(sharesChannel(['eu'], null)).toBe(false);
    expect(sharesChannel(['eu'], [])).toBe(false);
    expect(subscribes({ eventTypes: ['b'], channels: ['eu'] }, event('a', ['eu']))).toBe(false);
  });
});
