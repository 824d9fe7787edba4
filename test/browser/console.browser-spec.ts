import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BrowserContext, Page, chromium } from 'playwright-core';
import { CONSOLE_ROOT } from '../../src/console/console-static';
import { FAST_RETRY, createEndpoint, createTenant, publish } from '../support/fixtures';
import { ADMIN_KEY, Herald, startHerald } from '../support/herald';
import { TestReceiver } from '../support/receiver';
import { waitFor } from '../support/wait';

// The README's screenshots are retaken only on request (HERALD_SCREENSHOTS=1 npm run test:e2e -- --testPathPattern browser),
// so that a test run never leaves the working tree changed; otherwise they go to the run's temporary directory.
const DOCS = process.env.HERALD_SCREENSHOTS === '1' ? join(__dirname, '../../docs') : null;
// Generous: the machine is shared; these are upper bounds for conditions, never expected durations.
const UI_TIMEOUT = 30_000;

/**
 * The web console in Debian's headless Chromium, against a real Herald, PostgreSQL, Redis and receiver.
 * Also takes the README's screenshots (docs/console-*.png) when HERALD_SCREENSHOTS=1, so they show the console as it is.
 */
describe('web console (headless Chromium)', () => {
  let herald: Herald;
  let receiver: TestReceiver;
  let context: BrowserContext;
  let profile: string;
  let page: Page;

  beforeAll(async () => {
    if (!existsSync(join(CONSOLE_ROOT, 'index.html'))) throw new Error('web/dist is missing: run `npm run build` (it builds the console too)');
    herald = await startHerald();
    receiver = await TestReceiver.start();
    profile = mkdtempSync(join(tmpdir(), 'herald-chromium-'));
    context = await chromium.launchPersistentContext(profile, {
      executablePath: process.env.HERALD_CHROMIUM || '/usr/bin/chromium',
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
      viewport: { width: 1360, height: 900 },
    });
    context.setDefaultTimeout(UI_TIMEOUT);
    // Confirmation dialogs (delete, rotate, bulk resend) are accepted.
    context.on('page', (p) => p.on('dialog', (d) => void d.accept()));
  });
  afterAll(async () => {
    await context?.close();
    if (profile) rmSync(profile, { recursive: true, force: true });
    await receiver?.close();
    await herald?.close();
  });

  beforeEach(async () => {
    page = await context.newPage();
  });
  afterEach(async () => {
    await page.close();
  });

  async function signIn(key: string) {
    await page.goto(`${herald.url}/console/`);
    await page.getByTestId('key').fill(key);
    await page.getByTestId('sign-in').click();
  }

  const delivered = (tenantId: string, eventId: string, status: string) =>
    waitFor(`a ${status} delivery of ${eventId}`, async () => {
      const [d] = (await herald.api.get(`/v1/tenants/${tenantId}/deliveries?eventId=${eventId}`)).body.data;
      return d?.status === status ? (d.id as string) : undefined;
    }) as Promise<string>;

  it('an operator creates an endpoint, publishes from the API and sees the delivery succeed', async () => {
    const tenant = await createTenant(herald.api, { name: 'Acme' });
    await signIn(ADMIN_KEY);
    await page.getByRole('link', { name: 'Acme' }).click();
    await page.getByText('No endpoints yet').waitFor();
    await page.getByTestId('add-endpoint').click();
    await page.getByTestId('url').fill(`${receiver.url}/acme`);
    await page.getByTestId('description').fill('Acme order updates');
    await page.getByTestId('event-type').fill('order.*');
    await page.getByTestId('event-type').press('Enter');
    await page.getByTestId('save-endpoint').click();
    await page.getByText('Endpoint created').waitFor();
    const endpointId = /endpoints\/(ep_[0-9A-Z]{26})/.exec(page.url())![1];
    expect((await herald.api.get(`/v1/tenants/${tenant.id}/endpoints/${endpointId}`)).body).toMatchObject({ url: `${receiver.url}/acme`, eventTypes: ['order.*'], description: 'Acme order updates' });

    const events = [];
    for (let i = 0; i < 6; i++) events.push(await publish(herald.api, tenant.id, i % 2 ? 'order.shipped' : 'order.created', { orderId: `ord_${i}`, total: 10 * i }));
    for (const e of events) await delivered(tenant.id, e.id, 'succeeded');

    await page.getByRole('link', { name: 'Deliveries' }).click();
    const row = page.locator(`[data-testid="delivery-row"][data-event-id="${events[0].id}"]`);
    await row.getByTestId('status').filter({ hasText: 'succeeded' }).waitFor();

    await page.getByRole('link', { name: 'Overview' }).click();
    await page.getByTestId('endpoint-row').filter({ hasText: `${receiver.url}/acme` }).getByText('100 %').waitFor();
    await page.screenshot({ path: join(DOCS ?? profile, 'console-overview.png'), fullPage: true });
    await page.getByRole('link', { name: `${receiver.url}/acme` }).click();
    await page.getByTestId('stats-chart').waitFor();
    await page.screenshot({ path: join(DOCS ?? profile, 'console-endpoint.png'), fullPage: true });
  });

  it('a dead delivery shows in the dead filter, and Resend makes it succeed with a manual attempt on the timeline', async () => {
    const tenant = await createTenant(herald.api, { name: 'Globex' });
    const endpoint = await createEndpoint(herald.api, tenant.id, { url: `${receiver.url}/globex`, retryPolicy: { ...FAST_RETRY, maxAttempts: 2 } });
    receiver.always({ status: 503, body: 'maintenance' });
    const event = await publish(herald.api, tenant.id, 'invoice.paid', { invoiceId: 'inv_1', amount: 4200 });
    const deliveryId = await delivered(tenant.id, event.id, 'dead');
    receiver.always({ status: 200, body: 'thanks' });

    await signIn(ADMIN_KEY);
    await page.goto(`${herald.url}/console/t/${tenant.id}/deliveries`);
    await page.getByTestId('filter-status').selectOption('dead');
    await page.locator(`[data-testid="delivery-row"][data-event-id="${event.id}"]`).getByRole('link', { name: deliveryId }).click();
    await page.getByTestId('attempt').nth(1).waitFor();
    expect(await page.getByTestId('attempt').count()).toBe(2);
    await page.getByTestId('resend').click();
    await page.locator('[data-testid="attempt"][data-trigger="manual"]').waitFor();
    await page.getByTestId('status').filter({ hasText: 'succeeded' }).waitFor();
    expect((await herald.api.get(`/v1/tenants/${tenant.id}/deliveries/${deliveryId}`)).body.status).toBe('succeeded');
    // The manual attempt's request and the receiver's answer.
    await page.locator('[data-testid="attempt"][data-trigger="manual"] button.attempt-head').click();
    await page.getByTestId('request-headers').getByText('webhook-signature').waitFor();
    await page.getByTestId('response-body').filter({ hasText: 'thanks' }).waitFor();
    const signature = receiver.forPath('/globex').at(-1)!.headers['webhook-signature'] as string;
    await page.getByTestId('request-headers').getByText(signature).waitFor();
    await page.screenshot({ path: join(DOCS ?? profile, 'console-delivery.png'), fullPage: true });
    expect(endpoint.id).toMatch(/^ep_/);
  });

  it('a read-only portal link shows no edit or resend controls, and the API refuses them', async () => {
    const tenant = await createTenant(herald.api, { name: 'Initech' });
    const endpoint = await createEndpoint(herald.api, tenant.id, { url: `${receiver.url}/initech` });
    const event = await publish(herald.api, tenant.id, 'user.created', { userId: 'u_1' });
    const deliveryId = await delivered(tenant.id, event.id, 'succeeded');
    const link = await herald.api.post(`/v1/tenants/${tenant.id}/portal-sessions`, { capabilities: ['read'] });
    expect(link.status).toBe(201);
    const url = new URL(link.body.url);

    await page.goto(`${herald.url}${url.pathname}${url.hash}`);
    await page.getByTestId('who').filter({ hasText: 'portal · read' }).waitFor();
    // The token left the address bar for session storage.
    expect(page.url()).not.toContain('token');
    expect(await page.evaluate(() => (globalThis as unknown as { sessionStorage: { getItem(k: string): string | null } }).sessionStorage.getItem('herald.key'))).toBe(link.body.token);
    await page.getByTestId('endpoint-row').first().waitFor();
    expect(await page.getByTestId('add-endpoint').count()).toBe(0);

    await page.getByRole('link', { name: `${receiver.url}/initech` }).click();
    await page.getByTestId('url').waitFor();
    expect(await page.getByTestId('url').isDisabled()).toBe(true);
    for (const control of ['save-endpoint', 'toggle-disabled', 'send-test', 'reveal-secret', 'rotate-secret']) expect([control, await page.getByTestId(control).count()]).toEqual([control, 0]);

    await page.goto(`${herald.url}/console/t/${tenant.id}/deliveries/${deliveryId}`);
    await page.getByTestId('attempt').first().waitFor();
    expect(await page.getByTestId('resend').count()).toBe(0);
    await page.goto(`${herald.url}/console/t/${tenant.id}/deliveries?status=succeeded`);
    await page.getByTestId('delivery-row').first().waitFor();
    expect(await page.getByTestId('bulk-resend').count()).toBe(0);

    const portal = herald.api.as(link.body.token);
    expect((await portal.post(`/v1/tenants/${tenant.id}/deliveries/${deliveryId}/resend`, {})).status).toBe(403);
    expect((await portal.patch(`/v1/tenants/${tenant.id}/endpoints/${endpoint.id}`, { url: 'https://example.com/x' })).status).toBe(403);
    expect((await portal.get(`/v1/tenants/${tenant.id}/endpoints/${endpoint.id}/secret`)).status).toBe(403);
  });

  it('tail mode shows a delivery published after the page opened', async () => {
    const tenant = await createTenant(herald.api, { name: 'Umbrella' });
    await createEndpoint(herald.api, tenant.id, { url: `${receiver.url}/umbrella` });
    await signIn(ADMIN_KEY);
    await page.goto(`${herald.url}/console/t/${tenant.id}/deliveries`);
    await page.getByText('No deliveries yet').waitFor();
    await page.getByTestId('tail').check();
    const event = await publish(herald.api, tenant.id, 'sample.tailed', { n: 1 });
    await page.locator(`[data-testid="delivery-row"][data-event-id="${event.id}"]`).waitFor();
  });
});
