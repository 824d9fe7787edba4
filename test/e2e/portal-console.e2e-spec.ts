import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { CONSOLE_ROOT } from '../../src/console/console-static';
import { Herald, startHerald } from '../support/herald';

/** /console is served by Herald itself: the SPA with its fallback, and the framing policy. */
describe('console static serving and framing', () => {
  let herald: Herald;
  let framed: Herald;

  beforeAll(async () => {
    if (!existsSync(join(CONSOLE_ROOT, 'index.html'))) throw new Error('web/dist is missing: run `npm run build` (it builds the console too)');
    herald = await startHerald();
    framed = await startHerald({ HERALD_CONSOLE_FRAME_ANCESTORS: "'self' https://app.example.com" });
  });
  afterAll(async () => {
    await framed?.close();
    await herald?.close();
  });

  it('serves the SPA, its assets, and index.html for the SPA routes', async () => {
    const redirect = await fetch(`${herald.url}/console`, { redirect: 'manual' });
    expect(redirect.status).toBe(302);
    expect(redirect.headers.get('location')).toBe('/console/');
    const index = await fetch(`${herald.url}/console/`);
    expect(index.status).toBe(200);
    expect(index.headers.get('content-type')).toMatch(/text\/html/);
    const html = await index.text();
    expect(html).toContain('<div id="root">');
    const asset = /src="(\/console\/assets\/[^"]+\.js)"/.exec(html)![1];
    const js = await fetch(`${herald.url}${asset}`);
    expect(js.status).toBe(200);
    expect(js.headers.get('cache-control')).toContain('immutable');
    const deep = await fetch(`${herald.url}/console/t/tnt_x/deliveries/dlv_y`);
    expect(deep.status).toBe(200);
    expect(await deep.text()).toBe(html);
    expect((await fetch(`${herald.url}/console/..%2f..%2fpackage.json`)).headers.get('content-type')).toMatch(/text\/html/);
  });

  it("refuses framing everywhere by default, and lets the configured origins frame the console only", async () => {
    const console = await fetch(`${herald.url}/console/`);
    expect(console.headers.get('x-frame-options')).toBe('DENY');
    expect(console.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    for (const path of ['/docs', '/health/live', '/v1/tenants']) expect([path, (await fetch(`${herald.url}${path}`)).headers.get('x-frame-options')]).toEqual([path, 'DENY']);

    const embeddable = await fetch(`${framed.url}/console/`);
    expect(embeddable.headers.get('x-frame-options')).toBeNull();
    expect(embeddable.headers.get('content-security-policy')).toContain("frame-ancestors 'self' https://app.example.com");
    expect((await fetch(`${framed.url}/docs`)).headers.get('x-frame-options')).toBe('DENY');
  });
});
