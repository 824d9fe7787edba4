import { frameAncestors } from '../config/config';

describe('frameAncestors (HERALD_CONSOLE_FRAME_ANCESTORS)', () => {
  it("defaults to 'none' and takes quotes or not", () => {
    expect(frameAncestors(undefined)).toBe("'none'");
    expect(frameAncestors('')).toBe("'none'");
    expect(frameAncestors('none')).toBe("'none'");
    expect(frameAncestors("self https://app.example.com")).toBe("'self' https://app.example.com");
    expect(frameAncestors("https://*.example.com:8443 'self'")).toBe("https://*.example.com:8443 'self'");
  });

  it('refuses anything that would widen or break the policy', () => {
    for (const bad of ['*', 'https://a.example; script-src *', 'javascript:alert(1)', "'none' https://a.example", 'example.com']) {
      expect(() => frameAncestors(bad)).toThrow(/HERALD_CONSOLE_FRAME_ANCESTORS/);
    }
  });
});
