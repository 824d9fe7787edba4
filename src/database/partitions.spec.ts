import { newId } from '../common/ids';
import { dayPartition, idTime, parsePartitionName, partitionsAround, partitionsBetween, partitionsPastCutoff } from './partitions';

describe('day partitions', () => {
  const at = new Date('2026-11-26T10:08:31.123Z');

  it('names a UTC day and bounds it by the first ids of that day and the next', () => {
    const p = dayPartition('deliveries', at);
    expect(p.name).toBe('deliveries_p20261126');
    expect(p.start.toISOString()).toBe('2026-11-26T00:00:00.000Z');
    expect(p.end.toISOString()).toBe('2026-11-27T00:00:00.000Z');
    expect(p.from).toMatch(/^dlv_[0-9A-Z]{10}0{16}$/);
    expect(p.from < p.to).toBe(true);
    expect(dayPartition('deliveries', p.end).from).toBe(p.to);
  });

  it('holds every id made during its day, and none made outside it', () => {
    const p = dayPartition('events', new Date());
    const id = newId('evt');
    expect(p.from <= id && id < p.to).toBe(true);
    const yesterday = dayPartition('events', new Date(Date.now() - 86_400_000));
    expect(id >= yesterday.to).toBe(true);
  });

  it('reads a partition back from its name, and nothing else', () => {
    expect(parsePartitionName('attempts', 'attempts_p20261126')).toEqual(dayPartition('attempts', at));
    expect(parsePartitionName('attempts', 'attempts_default')).toBeUndefined();
    expect(parsePartitionName('attempts', 'events_p20261126')).toBeUndefined();
    expect(parsePartitionName('attempts', 'attempts_p20261340')).toBeUndefined();
  });

  it('lists the days around a date and between two dates', () => {
    expect(partitionsAround('events', at, 1, 2).map((p) => p.name)).toEqual(['events_p20261125', 'events_p20261126', 'events_p20261127', 'events_p20261128']);
    expect(partitionsBetween('events', new Date('2026-11-30T23:59:59Z'), new Date('2026-12-02T00:00:00Z')).map((p) => p.name)).toEqual([
      'events_p20261130',
      'events_p20261201',
      'events_p20261202',
    ]);
  });

  it('reads the time of an id', () => {
    const before = Date.now();
    const t = idTime(newId('att'))!.getTime();
    expect(t).toBeGreaterThanOrEqual(before);
    expect(t).toBeLessThanOrEqual(Date.now());
    expect(idTime('not-an-id')).toBeUndefined();
  });
});

describe('partitionsPastCutoff', () => {
  const names = ['attempts_p20261101', 'attempts_default', 'attempts_p20261027', 'attempts_p20261102', 'attempts_p20261103', 'attempts_pjunk'];

  it('offers the days that ended at or before the cutoff, oldest first, never DEFAULT', () => {
    const cutoff = new Date('2026-11-03T00:00:00Z');
    expect(partitionsPastCutoff('attempts', names, cutoff).map((p) => p.name)).toEqual(['attempts_p20261027', 'attempts_p20261101', 'attempts_p20261102']);
  });

  it('keeps the day the cutoff falls in', () => {
    const cutoff = new Date('2026-11-02T23:59:59.999Z');
    expect(partitionsPastCutoff('attempts', names, cutoff).map((p) => p.name)).toEqual(['attempts_p20261027', 'attempts_p20261101']);
  });
});
