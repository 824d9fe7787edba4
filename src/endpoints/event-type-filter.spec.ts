import { EVENT_TYPE_FILTER_PATTERN, matchesEventType } from './event-type-filter';

describe('matchesEventType', () => {
  it('matches everything when the list is empty', () => {
    expect(matchesEventType([], 'invoice.paid')).toBe(true);
  });

  it('matches exact types only', () => {
    expect(matchesEventType(['invoice.paid'], 'invoice.paid')).toBe(true);
    expect(matchesEventType(['invoice.paid'], 'invoice.paid2')).toBe(false);
    expect(matchesEventType(['invoice.paid'], 'invoice')).toBe(false);
  });

  it('matches a prefix with a trailing .*, at a dot boundary', () => {
    expect(matchesEventType(['invoice.*'], 'invoice.paid')).toBe(true);
    expect(matchesEventType(['invoice.*'], 'invoice.line.added')).toBe(true);
    expect(matchesEventType(['invoice.*'], 'invoices.paid')).toBe(false);
    expect(matchesEventType(['invoice.*'], 'invoice')).toBe(false);
    expect(matchesEventType(['user.created', 'invoice.*'], 'user.created')).toBe(true);
  });
});

describe('EVENT_TYPE_FILTER_PATTERN', () => {
  it('accepts types and prefixes, refuses the rest', () => {
    for (const ok of ['invoice.paid', 'invoice.*', '*', 'a:b-c_d']) expect(EVENT_TYPE_FILTER_PATTERN.test(ok)).toBe(true);
    for (const bad of ['', 'invoice.*.paid', 'in voice', 'a*', '.*x']) expect(EVENT_TYPE_FILTER_PATTERN.test(bad)).toBe(false);
  });
});
