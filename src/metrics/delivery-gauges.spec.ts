import { bounded } from './delivery-gauges';

describe('bounded', () => {
  const rows = [
    { tenant: 't1', endpoint: 'e1', value: 50 },
    { tenant: 't1', endpoint: 'e2', value: 3 },
    { tenant: 't1', endpoint: 'e3', value: 2 },
    { tenant: 't2', endpoint: 'e4', value: 40 },
    { tenant: 't3', endpoint: 'e5', value: 1 },
  ];

  it('keeps the largest endpoints and sums the rest per tenant into other', () => {
    const series = [...bounded(rows, 2, 10).values()];
    expect(series).toEqual(
      expect.arrayContaining([
        { tenant: 't1', endpoint: 'e1', value: 50 },
        { tenant: 't2', endpoint: 'e4', value: 40 },
        { tenant: 't1', endpoint: 'other', value: 5 },
        { tenant: 't3', endpoint: 'other', value: 1 },
      ]),
    );
    expect(series).toHaveLength(4);
  });

  it('folds tenants beyond the bound, and their endpoints, into other', () => {
    const series = [...bounded(rows, 10, 1).values()];
    expect(series).toEqual(expect.arrayContaining([{ tenant: 'other', endpoint: 'other', value: 41 }]));
    expect(series.filter((s) => s.tenant === 't1')).toHaveLength(3);
    expect(series.reduce((sum, s) => sum + s.value, 0)).toBe(96);
  });
});
