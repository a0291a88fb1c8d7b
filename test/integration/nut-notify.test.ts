/**
 * The NUT example (deploy/nut/tiebreak-upsmon-notify) as upsmon runs it: NOTIFYTYPE and UPSNAME in
 * the environment, the message as $1, the URL and bearer token from the environment or a config
 * file, against the local witness (DynamoDB Local); the site's alert raised and cleared.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { alertSk, sitePk } from '../../functions/adapters/tenancy-items.ts';
import { setUpReseller, startApi, type TestApi } from '../support/api.ts';

const script = resolve(import.meta.dirname, '../../deploy/nut/tiebreak-upsmon-notify');
const run = promisify(execFile);

let api: TestApi;
let reseller: Awaited<ReturnType<typeof setUpReseller>>;
let hook: { integrationId: string; url: string; token: string };
let dir: string;

/** The mapping docs/webhooks.md gives for NUT. */
const nutMapping = {
  'ups.on-battery': { action: 'raise', alert: 'ups-power', severity: 'warning' },
  'ups.low-battery': { action: 'raise', alert: 'ups-power', severity: 'critical' },
  'ups.on-mains': { action: 'clear', alert: 'ups-power' },
};

beforeAll(async () => {
  api = await startApi();
  reseller = await setUpReseller(api);
  const created = await api.call('POST', '/v1/integrations', reseller.key, {
    siteId: reseller.siteId,
    name: 'NUT on the file server',
    auth: 'bearer',
    mapping: nutMapping,
  });
  expect(created.status, created.text).toBe(201);
  const body = created.body as { integration: { integrationId: string }; url: string; token: string };
  hook = { integrationId: body.integration.integrationId, url: body.url, token: body.token };
  dir = await mkdtemp(join(tmpdir(), 'tiebreak-nut-'));
});

afterAll(async () => {
  await api.close();
  await rm(dir, { recursive: true, force: true });
});

/** Runs the script with POSIX sh (dash here, as Debian's /bin/sh) as upsmon would: only these variables set. */
async function notify(type: string, message: string, env: Record<string, string>): Promise<{ code: number; stderr: string }> {
  try {
    const { stderr } = await run('sh', [script, message], {
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', NOTIFYTYPE: type, UPSNAME: 'apc@localhost', ...env },
      timeout: 60_000,
    });
    return { code: 0, stderr };
  } catch (error) {
    const failed = error as { code?: number; stderr?: string };
    return { code: failed.code ?? -1, stderr: failed.stderr ?? '' };
  }
}

const fromEnv = () => ({ TIEBREAK_HOOK_URL: hook.url, TIEBREAK_HOOK_TOKEN: hook.token, TIEBREAK_HOOK_CONFIG: join(dir, 'none') });

async function alert(): Promise<Record<string, unknown> | undefined> {
  const items = (await api.snapshot()) as Record<string, unknown>[];
  return items.find((i) => i.pk === sitePk(reseller.resellerId, reseller.siteId) && i.sk === alertSk(hook.integrationId, 'ups-power'));
}

describe('the upsmon NOTIFYCMD example', () => {
  test('ONBATT raises the UPS alert with upsmon’s message as its summary, LOWBATT makes it critical, ONLINE clears it', async () => {
    const onBattery = await notify('ONBATT', 'UPS apc@localhost on battery', fromEnv());
    expect(onBattery, onBattery.stderr).toEqual({ code: 0, stderr: '' });
    expect(await alert()).toMatchObject({
      raised: true,
      severity: 'warning',
      type: 'ups.on-battery',
      summary: 'UPS apc@localhost on battery',
    });

    api.clock.advance(60_000);
    expect((await notify('LOWBATT', 'UPS apc@localhost battery is low', fromEnv())).code).toBe(0);
    expect(await alert()).toMatchObject({ raised: true, severity: 'critical', type: 'ups.low-battery' });

    api.clock.advance(60_000);
    expect((await notify('ONLINE', 'UPS apc@localhost on line power', fromEnv())).code).toBe(0);
    expect(await alert()).toMatchObject({ raised: false, type: 'ups.on-mains' });
  });

  test('reads the URL and token from its config file; quotes and backslashes in the message stay text', async () => {
    const config = join(dir, 'tiebreak-hook.conf');
    await writeFile(config, `TIEBREAK_HOOK_URL=${hook.url}\nTIEBREAK_HOOK_TOKEN=${hook.token}\n`, { mode: 0o600 });
    api.clock.advance(60_000);
    const message = 'UPS "apc" on battery \\ 38 min left';
    const answer = await notify('ONBATT', message, { TIEBREAK_HOOK_CONFIG: config });
    expect(answer, answer.stderr).toEqual({ code: 0, stderr: '' });
    expect(await alert()).toMatchObject({ raised: true, summary: message });
    api.clock.advance(60_000);
    expect((await notify('ONLINE', 'UPS apc@localhost on line power', { TIEBREAK_HOOK_CONFIG: config })).code).toBe(0);
    expect(await alert()).toMatchObject({ raised: false });
  });

  test('other notifications send nothing; a wrong token or no settings fail with a line saying why, and change nothing', async () => {
    const before = await api.snapshot();
    expect(await notify('COMMBAD', 'Communications with UPS apc@localhost lost', fromEnv())).toEqual({ code: 0, stderr: '' });
    const wrong = await notify('ONBATT', 'UPS apc@localhost on battery', { ...fromEnv(), TIEBREAK_HOOK_TOKEN: `tbh_${'A'.repeat(43)}` });
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain('HTTP 401');
    const unset = await notify('ONBATT', 'UPS apc@localhost on battery', { TIEBREAK_HOOK_CONFIG: join(dir, 'none') });
    expect(unset.code).toBe(1);
    expect(unset.stderr).toContain('set TIEBREAK_HOOK_URL and TIEBREAK_HOOK_TOKEN');
    expect(await api.snapshot()).toEqual(before);
  });

  test('passes shellcheck as POSIX sh (when shellcheck is installed: apt-get install shellcheck)', async (context) => {
    const found = await run('sh', ['-c', 'command -v shellcheck']).catch(() => undefined);
    if (!found) context.skip();
    const checked = await run('shellcheck', ['--shell=sh', script]).catch((error: unknown) => error as { stdout: string; code: number });
    expect('code' in checked ? checked.stdout : '').toBe('');
  });
});
