import { newId } from '../common/ids';
import { requestIdAt } from './source-request-pruner';

describe('requestIdAt', () => {
  it('sorts before every request id made from that millisecond on, and after those made earlier', () => {
    const before = Date.now();
    const id = newId('req');
    const after = Date.now();
    expect(requestIdAt(before) <= id).toBe(true);
    expect(id < requestIdAt(after + 1)).toBe(true);
    expect(requestIdAt(before - 1) < requestIdAt(before)).toBe(true);
  });

  it('has the shape of a request id', () => {
    expect(requestIdAt(0)).toBe(`req_${'0'.repeat(26)}`);
    expect(requestIdAt(Date.UTC(2026, 0, 1))).toMatch(/^req_[0-9A-HJKMNP-TV-Z]{26}$/);
  });
});
