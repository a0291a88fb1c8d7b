/**
 * The reseller console in a real browser (Debian's Chromium, driven by playwright-core), against
 * the whole local service as `npm start` serves it (test/support/api.ts: the API, the witness and
 * the console's routes) on DynamoDB Local, with the table's stream feeding the event publisher
 * (the site timelines) and the webhook pipeline delivering to a local receiver. Each test has a
 * reseller of its own and signs in as a person does. What the console shows is waited for (its
 * own polling refreshes it), never slept for. Screenshots of each view go to
 * test/console/screenshots/ (not in git); axe-core checks every view for serious or critical
 * accessibility violations.
 */
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, beforeEach, describe, expect, inject, it } from 'vitest';
import { localDynamoClientConfig } from '../../functions/adapters/config.ts';
import { localSnsClient } from '../../functions/adapters/messaging-clients.ts';
import { publisherDeps } from '../../functions/adapters/publisher-config.ts';
import { escalate } from '../../functions/domain/incidents.ts';
import { defaultSettings } from '../../functions/domain/settings.ts';
import { publisherHandler } from '../../functions/handlers/publisher.ts';
import { ensureEventTopic } from '../../local/sns-sqs.ts';
import { type StreamPoller, startStreamPoller, streamsClient } from '../../local/stream-poller.ts';
import { startWebhookRuntime, type WebhookRuntime } from '../../local/webhook-runtime.ts';
import { enrolledAgents, setUpReseller, startApi, type TestApi } from '../support/api.ts';
import { accessibilityViolations, launchBrowser, openConsole, screenshot, signIn, uiTimeoutMs } from '../support/browser.ts';
import { openIncident } from '../support/hostile-tenants.ts';
import { trailOf } from '../support/trail-events.ts';
import { startWebhookReceiver } from '../support/webhook-receiver.ts';

/** Sign-in, loading, waiting for several refreshes: minutes on a busy machine, not seconds. */
const testTimeoutMs = 240_000;

let api: TestApi;
let browser: Browser;
let dynamo: DynamoDBClient;
let stream: StreamPoller;
let webhooks: WebhookRuntime;

beforeAll(async () => {
  api = await startApi();
  dynamo = new DynamoDBClient(localDynamoClientConfig(inject('dynamoEndpoint')));
  const snsSqs = inject('snsSqsEndpoint');
  const topicArn = await ensureEventTopic(snsSqs, `events-${api.tableName}`);
  stream = await startStreamPoller({
    client: dynamo,
    streams: streamsClient(inject('dynamoEndpoint')),
    tableName: api.tableName,
    intervalMs: 100,
    handler: publisherHandler(() =>
      publisherDeps({ tableName: api.tableName, settings: defaultSettings, dynamo, sns: localSnsClient(snsSqs), topicArn }),
    ),
  });
  webhooks = await startWebhookRuntime({
    snsSqsEndpoint: snsSqs,
    topicArn,
    dynamo,
    tableName: api.tableName,
    channelPrefix: `console-${randomBytes(3).toString('hex')}`,
    policy: { allowLoopback: true },
    timeoutMs: 2_000,
    retryAfterSeconds: 1,
  });
  api.api.webhookJobs = webhooks.deps.jobs;
  browser = await launchBrowser();
}, 180_000);

// The service's clock at the real time for each test (a test moves it on as its agents need): the
// browser reads times against its own clock, and the webhook pipeline schedules tries on the real one.
beforeEach(() => {
  api.clock.ms = Date.now();
});

afterAll(async () => {
  await browser.close();
  await webhooks.stop();
  await stream.stop();
  dynamo.destroy();
  await api.close();
});

/** A reseller of its own (customer `dental`, site `main-office`), the given id's prefix kept short. */
const reseller = (name: string) => setUpReseller(api, `${name}-${randomBytes(2).toString('hex')}`);

/** A reseller whose site is healthy: both nodes report in, node-a is granted the role at epoch 1 and acknowledges its promote. */
async function healthySite(name: string) {
  const site = await reseller(name);
  const agents = await enrolledAgents(api, site.codes);
  await agents.a.beat(0, 'secondary', true);
  await agents.b.beat(0, 'secondary', true);
  expect(await agents.a.claim(0, 'startup')).toMatchObject({ granted: true, epoch: 1 });
  await agents.a.beat(1, 'primary', true, ['1-promote-node-a']);
  await agents.b.beat(1, 'secondary', true);
  return { site, agents };
}

/** A local webhook receiver, its secret not known yet (the endpoint's creation makes one). */
const webhookReceiver = () => startWebhookReceiver({ secret: `whsec_${Buffer.alloc(32).toString('base64')}` });

/**
 * The console in a fresh browser context, signed in with `key` (null: left at the sign-in form)
 * as a person does, for `use`; then the page must have logged no error. The context is closed
 * either way.
 */
async function inConsole(key: string | null, use: (page: Page) => Promise<void>): Promise<void> {
  const { context, page, errors } = await openConsole(browser, api.url);
  try {
    if (key !== null) await signIn(page, key);
    await use(page);
    expect(errors).toEqual([]);
  } finally {
    await context.close();
  }
}

/** Straight to a view by its address (`#/…`), as a bookmark does. */
async function goTo(page: Page, hash: string): Promise<void> {
  await page.goto(`${api.url}/console/${hash}`);
}

/** The row of a site in the Sites view, once it shows `status` (the view's own polling brings it). */
async function siteRowWithStatus(page: Page, siteId: string, status: string): Promise<void> {
  await page.locator(`tr[data-site="${siteId}"][data-status="${status}"]`).waitFor({ timeout: uiTimeoutMs });
}

/** A view as it is: axe finds no serious accessibility violation in it, and its screenshot is kept (named after the view unless told; null: none). */
async function checkView(page: Page, view: string, shot: string | null = view.replaceAll(' ', '-')): Promise<void> {
  expect(await accessibilityViolations(page), `axe on ${view}`).toEqual([]);
  if (shot !== null) await screenshot(page, shot);
}

/** Buttons a read-only key may see: signing out, and asking for or downloading a report. */
const readingButtons = new Set(['Sign out', 'Show report', 'Download PDF']);

/** No button on the page that changes anything (by their accessible names). */
async function expectNoActions(page: Page, view: string): Promise<void> {
  const names = await page
    .getByRole('button')
    .evaluateAll((buttons) => buttons.map((b) => (b.getAttribute('aria-label') ?? b.textContent).trim()));
  expect(
    names.filter((name) => !readingButtons.has(name)),
    view,
  ).toEqual([]);
}

describe('the reseller console in a browser', { timeout: testTimeoutMs }, () => {
  it('sign-in: a wrong key is refused in the API’s words; the key is kept in sessionStorage only, never in the URL; sign-out removes it', async () => {
    const { key, resellerId } = await reseller('signin');
    await inConsole(null, async (page) => {
      await checkView(page, 'sign-in');

      await page.getByLabel('API key').fill(`tbk.${resellerId}.000000000000.${'x'.repeat(43)}`);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByText('Sign-in failed: the API key is not known').waitFor();

      await signIn(page, key);
      await page.getByText(`Reseller ${resellerId}`).waitFor();
      await page.getByText('Read-write key').waitFor();
      expect(page.url()).not.toContain(key);
      expect(await page.evaluate(() => sessionStorage.getItem('tiebreak.apiKey'))).toBe(key);
      expect(await page.evaluate(() => ({ local: localStorage.length, cookies: document.cookie }))).toEqual({ local: 0, cookies: '' });

      // A reload keeps the tab's session; sign-out ends it.
      await page.reload();
      await page.getByRole('button', { name: 'Sign out' }).click();
      await page.getByLabel('API key').waitFor();
      expect(await page.evaluate(() => sessionStorage.length)).toBe(0);
    });
  });

  it('Sites: a site goes healthy → failing-over → healthy while its agents fail over, shown by the view’s own polling, with the counts at the top', async () => {
    const { site, agents } = await healthySite('fleet');
    await inConsole(site.key, async (page) => {
      await siteRowWithStatus(page, site.siteId, 'healthy');
      await page.locator('.count[data-status="healthy"]', { hasText: '1' }).waitFor();

      // node-a dies: nothing from it for longer than its lease; node-b reports it unreachable, and
      // again once node-a has been unheard for the freshness window since (node.lost: the role lapses).
      api.clock.advance(defaultSettings.leaseMs + defaultSettings.skewMarginMs + 1_000);
      await agents.b.beat(1, 'secondary', false);
      await siteRowWithStatus(page, site.siteId, 'degraded');
      api.clock.advance(defaultSettings.freshnessMs + 1_000);
      await agents.b.beat(1, 'secondary', false);
      await siteRowWithStatus(page, site.siteId, 'failing-over');
      await page.locator('.count[data-status="failing-over"]', { hasText: '1' }).waitFor();
      await screenshot(page, 'sites-failing-over');

      // node-b takes over and promotes; node-a comes back as secondary at the new epoch.
      expect(await agents.b.claim(1, 'peer-lost')).toMatchObject({ granted: true, epoch: 2 });
      await agents.b.beat(2, 'primary', false, ['2-promote-node-b']);
      const back = await agents.a.beat(1, 'primary', true);
      await agents.a.beat(
        2,
        'secondary',
        true,
        back.commands.map((c) => c.id),
      );
      await agents.b.beat(2, 'primary', true);
      await siteRowWithStatus(page, site.siteId, 'healthy');
      await page.locator('.count[data-status="failing-over"]', { hasText: '0' }).waitFor();
      await checkView(page, 'sites');

      // On a phone.
      await page.setViewportSize({ width: 390, height: 844 });
      await screenshot(page, 'sites-phone');
    });
  });

  it('Site: the timeline in words, a node’s new enrollment code shown once, a maintenance window in the past refused in the API’s words, one declared and ended', async () => {
    const { site } = await healthySite('site');
    await stream.drain();
    await inConsole(site.key, async (page) => {
      await goTo(page, `#/sites/${site.siteId}`);
      await page.getByRole('heading', { name: 'Main office' }).waitFor();
      await page.getByText('node-a became primary (epoch 1)').waitFor();

      await page.getByRole('button', { name: 'New enrollment code' }).first().click();
      const code = page.getByRole('status').filter({ hasText: 'New enrollment code for node-a' });
      await code.waitFor();
      expect(await page.locator('output.secret').textContent()).toMatch(/^tbe-[0-9a-f]{40}$/);

      // The API refuses a window that started more than 5 minutes ago, and says why.
      const local = (ms: number) => new Date(ms).toISOString().slice(0, 16);
      await page.getByLabel('Start (your time)').fill(local(Date.now() - 3_600_000));
      await page.getByLabel('End (your time)').fill(local(Date.now() + 3_600_000));
      await page.getByLabel('Reason').fill('replacing a disk');
      await page.getByRole('button', { name: 'Declare window' }).click();
      await page.getByRole('alert').filter({ hasText: 'before now' }).waitFor();

      await page.getByLabel('Start (your time)').fill(local(Date.now() + 120_000));
      await page.getByRole('button', { name: 'Declare window' }).click();
      await page.locator('.window-scheduled', { hasText: 'replacing a disk' }).waitFor();
      await checkView(page, 'site');
      await page.getByRole('button', { name: 'Cancel window' }).click();
      await page.getByText('No maintenance window.').waitFor();

      // Revoking a token asks first, naming the node.
      await page.getByRole('button', { name: "Revoke node-b's token" }).click();
      const dialog = page.getByRole('dialog', { name: "Revoke node-b's token?" });
      await dialog.waitFor();
      await checkView(page, 'revoke dialog', null);
      await dialog.getByRole('button', { name: 'Cancel' }).click();
      await dialog.waitFor({ state: 'hidden' });
    });
  });

  it('Site in survivor mode: forcing the excluded node primary needs the survivor named powered off, word for word', async () => {
    const { site, agents } = await healthySite('survivor');
    // node-b goes dark; node-a, losing its peer, heartbeats until the witness excludes node-b.
    let standalone = false;
    for (let beats = 0; beats < 40 && !standalone; beats++) {
      api.clock.advance(defaultSettings.fastHeartbeatMs);
      standalone = (await agents.a.beat(1, 'primary', false)).standalone !== null;
    }
    expect(standalone).toBe(true);
    await stream.drain();
    await inConsole(site.key, async (page) => {
      await goTo(page, `#/sites/${site.siteId}`);
      await page.getByRole('heading', { name: 'Survivor mode' }).waitFor();
      await page.getByText('node-b was excluded: node-a runs alone (survivor mode)').waitFor();
      await screenshot(page, 'site-survivor');

      await page.getByRole('button', { name: 'Force node-b primary…' }).click();
      const dialog = page.getByRole('dialog', { name: 'Force node-b to primary' });
      const confirm = dialog.getByRole('button', { name: 'Force node-b primary' });
      await dialog.getByLabel('Type “node-a is powered off” to confirm').fill('node-a is off');
      await dialog.getByLabel('Reason (recorded with your key)').fill('no power, checked on site');
      expect(await confirm.isDisabled()).toBe(true);
      await dialog.getByLabel('Type “node-a is powered off” to confirm').fill('node-a is powered off');
      expect(await confirm.isEnabled()).toBe(true);
      await checkView(page, 'force-primary dialog', 'site-force-dialog');

      // node-a unheard past the slow heartbeat and the exclusion time: the witness accepts the force.
      api.clock.advance(defaultSettings.slowHeartbeatMs + defaultSettings.exclusionMs + 1_000);
      await confirm.click();
      await dialog.waitFor({ state: 'hidden' });
      await page.getByText('node-b is primary: it promotes at its agent’s next claim'.replace('’', "'")).waitFor();
      await page.getByText(/An operator forced node-b to primary \(epoch 2\), declaring “node-a is powered off”/).waitFor();
    });
  });

  it('Incidents: open first with their escalation level; acknowledging one stops its escalation', async () => {
    const site = await reseller('incidents');
    const opened = await openIncident(api, site, 'node-a', api.clock.now() - 120_000);
    // Its first escalation step taken, as the incidents function takes it (the default policy: one level, the service queue).
    await api.api.incidents.update(site.resellerId, site.siteId, 'node.lost', (current) =>
      current ? (escalate(current, opened, 0, api.clock.now()) ?? current) : current,
    );
    await inConsole(site.key, async (page) => {
      await page.getByRole('link', { name: 'Incidents' }).click();
      const row = page.locator(`tr[data-incident="${opened}"]`);
      await row.waitFor();
      expect(await row.getAttribute('data-state')).toBe('open');
      await row.getByText('level 1 of 1').waitFor();
      await checkView(page, 'incidents');
      await row.getByRole('button', { name: 'Acknowledge node lost at Main office' }).click();
      await page.locator(`tr[data-incident="${opened}"][data-state="acknowledged"]`).waitFor();
      await row.getByText(/acknowledged .* with API key [0-9a-f]{12}/).waitFor();
      const incident = await api.call('GET', `/v1/sites/${site.siteId}/incidents/${opened}`, site.key);
      expect(incident.body).toMatchObject({ state: 'acknowledged' });
    });
  });

  it('Webhooks: a test event sent from the console reaches a local receiver and shows as delivered, with its line in the delivery log', async () => {
    const site = await reseller('webhooks');
    const receiver = await webhookReceiver();
    const created = await api.call('POST', '/v1/webhooks', site.key, { endpointId: 'psa', url: receiver.url, eventTypes: ['node.lost'] });
    expect(created.status, created.text).toBe(201);
    receiver.setSecrets([(created.body as { secret: { secret: string } }).secret.secret]);
    await inConsole(site.key, async (page) => {
      await page.getByRole('link', { name: 'Webhooks' }).click();
      await page.getByRole('link', { name: 'psa' }).click();
      await page.getByRole('heading', { name: 'Webhook endpoint psa' }).waitFor();
      await page.getByRole('button', { name: 'Send a test event' }).click();
      const sent = page.getByRole('status').filter({ hasText: 'Test event sent as message' });
      await sent.waitFor();
      await receiver.waitFor(1, uiTimeoutMs);
      expect(receiver.badSignatures).toBe(0);
      await page.locator('tr[data-status="delivered"]').first().waitFor();
      await page.locator('table.attempts').getByText('HTTP 2', { exact: false }).first().waitFor();
      await checkView(page, 'webhook endpoint');
      await page.getByRole('link', { name: '← All endpoints' }).click();
      await page.locator('tr[data-endpoint="psa"]').waitFor();
      await checkView(page, 'webhooks');
    });
    await receiver.close();
  });

  it('Reports: the verdict of last month from the JSON report, and the customer’s PDF downloaded with the key in a header, not in a link', async () => {
    // A site live since before last month, with a 30 s failover on its 10th day.
    const now = new Date(api.clock.now());
    const from = Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - 1, 1);
    const to = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1);
    const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);
    const today = api.clock.now();
    api.clock.ms = from - 20 * 86_400_000;
    const site = await reseller('reports');
    api.clock.ms = today;
    const event = trailOf(site.resellerId, site.siteId);
    const lost = from + 9 * 86_400_000 + 10 * 3_600_000;
    for (const e of [
      event('r1', 'failover.granted', from - 10 * 86_400_000, {
        nodeId: 'node-a',
        epoch: 1,
        previousPrimary: null,
        previousLeaseEndedAt: null,
      }),
      event('r2', 'node.lost', lost, { nodeId: 'node-a', leaseEndedAt: lost, severity: 'critical' }),
      event('r3', 'failover.granted', lost + 30_000, { nodeId: 'node-b', epoch: 2, previousPrimary: 'node-a', previousLeaseEndedAt: lost }),
    ]) {
      await api.api.trail.appendEvent(e);
    }

    await inConsole(site.key, async (page) => {
      await page.getByRole('link', { name: 'Reports' }).click();
      await page.getByLabel('From (first day)').fill(day(from));
      await page.getByLabel('To (day after the last)').fill(day(to));
      await page.getByLabel('Customer').selectOption('dental');
      await page.getByRole('button', { name: 'Show report' }).click();
      const days = (to - from) / 86_400_000;
      const availability = Math.floor((1 - 30 / (days * 86_400)) * 1e5) / 1e3;
      await page.getByText(`Availability ${String(availability)} % — target 99.9 % met`).waitFor();
      await page.locator('tr[data-site="main-office"]').getByText('30 s').waitFor();
      await checkView(page, 'reports');

      const requests: string[] = [];
      page.on('request', (request) => requests.push(request.url()));
      const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download PDF' }).click()]);
      expect(download.suggestedFilename()).toBe(`sla-report-dental-${day(from)}.pdf`);
      const pdf = await readFile(await download.path());
      expect(pdf.subarray(0, 5).toString('latin1')).toBe('%PDF-');
      expect(requests.some((url) => url.includes('format=pdf'))).toBe(true);
      expect(requests.join(' ')).not.toContain(site.key);
    });
  });

  it('a read-only key sees every view and no action: no button that changes anything, anywhere', async () => {
    const { site } = await healthySite('readonly');
    await openIncident(api, site, 'node-b', api.clock.now() - 60_000);
    const receiver = await webhookReceiver();
    expect((await api.call('POST', '/v1/webhooks', site.key, { endpointId: 'psa', url: receiver.url, eventTypes: [] })).status).toBe(201);
    const readOnly = (await api.call('POST', '/v1/api-keys', site.key, { name: 'dashboard', scope: 'read-only' })).body as {
      secret: string;
    };

    await inConsole(readOnly.secret, async (page) => {
      await page.getByText('Read-only key').first().waitFor();
      const views: [string, string, () => Promise<unknown>][] = [
        ['sites', '#/sites', () => page.locator(`tr[data-site="${site.siteId}"]`).waitFor()],
        ['site', `#/sites/${site.siteId}`, () => page.getByText('node-a became primary (epoch 1)').waitFor()],
        ['incidents', '#/incidents', () => page.locator('tr[data-incident]').first().waitFor()],
        ['webhooks', '#/webhooks', () => page.locator('tr[data-endpoint="psa"]').waitFor()],
        ['webhook endpoint', '#/webhooks/psa', () => page.getByRole('heading', { name: 'Delivery log' }).waitFor()],
        ['reports', '#/reports', () => page.getByRole('button', { name: 'Show report' }).waitFor()],
      ];
      await stream.drain();
      for (const [name, hash, shown] of views) {
        await goTo(page, hash);
        await shown();
        await expectNoActions(page, name);
        await checkView(page, `${name} (read-only)`, `read-only-${name.replace(' ', '-')}`);
      }
    });
    await receiver.close();
  });
});
