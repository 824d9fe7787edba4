import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { consoleCsp, consoleFile } from './console-static';

describe('consoleFile', () => {
  const root = mkdtempSync(join(tmpdir(), 'console-'));
  mkdirSync(join(root, 'assets'));
  writeFileSync(join(root, 'index.html'), '<html>');
  writeFileSync(join(root, 'assets', 'app-1234.js'), '');

  it('finds built files and leaves the rest to the SPA', () => {
    expect(consoleFile(root, '/console/assets/app-1234.js')).toBe(join('assets', 'app-1234.js'));
    expect(consoleFile(root, '/console/assets/app-1234.js?v=1')).toBe(join('assets', 'app-1234.js'));
    expect(consoleFile(root, '/console/')).toBeNull();
    expect(consoleFile(root, '/console/endpoints/ep_1')).toBeNull();
  });

  it('never leaves its root', () => {
    for (const path of ['/console/../package.json', '/console/%2e%2e/%2e%2e/etc/passwd', '/console/..%2f..%2fetc/passwd', '/console//etc/passwd']) {
      expect(consoleFile(root, path)).toBeNull();
    }
  });
});

describe('consoleCsp', () => {
  it('carries the configured frame-ancestors', () => {
    expect(consoleCsp("'none'")).toContain("frame-ancestors 'none'");
    expect(consoleCsp('https://app.example.com')).toContain('frame-ancestors https://app.example.com');
    expect(consoleCsp("'none'")).toContain("script-src 'self'");
  });
});
