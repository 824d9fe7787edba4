import { LiveWait } from './live-wait';

describe('LiveWait', () => {
  it('knows nothing before a live job was taken', () => {
    expect(new LiveWait().recentP90(1000)).toBeNull();
  });

  it('answers the 90th percentile of the recent waits', () => {
    const wait = new LiveWait();
    for (let i = 1; i <= 100; i++) wait.observe(i, 10_000);
    expect(wait.recentP90(10_000)).toBe(90);
  });

  it('forgets waits older than five seconds', () => {
    const wait = new LiveWait();
    wait.observe(900, 1000);
    wait.observe(5, 6000);
    expect(wait.recentP90(6500)).toBe(5);
    expect(wait.recentP90(12_000)).toBeNull();
  });

  it('keeps only the latest 512 waits', () => {
    const wait = new LiveWait();
    for (let i = 0; i < 512; i++) wait.observe(1000, 1000);
    for (let i = 0; i < 512; i++) wait.observe(1, 1001);
    expect(wait.recentP90(1002)).toBe(1);
  });

  it('counts a job taken before it was due as no wait', () => {
    const wait = new LiveWait();
    wait.observe(-40, 1000);
    expect(wait.recentP90(1000)).toBe(0);
  });
});
