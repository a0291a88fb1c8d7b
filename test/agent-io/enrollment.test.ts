import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AgentFileConfig, AgentFileConfig as Schema } from '../../agent/config.ts';
import { tokenFile, withNodeToken } from '../../agent/io/enrollment.ts';
import { setUpReseller, startApi, type TestApi } from '../support/api.ts';

let api: TestApi;
const dir = mkdtempSync(join(tmpdir(), 'tiebreak-enroll-'));
beforeAll(async () => {
  api = await startApi();
});
afterAll(async () => {
  await api.close();
  rmSync(dir, { recursive: true, force: true });
});

let configs = 0;
function config(nodeId: string, enrollmentCode: string): AgentFileConfig {
  return Schema.parse({
    nodeId,
    witness: { url: api.url, enrollmentCode },
    peer: { listen: '127.0.0.1:7400', url: 'http://127.0.0.1:7401', key: Buffer.alloc(32, 1).toString('base64') },
    stateDir: join(dir, `state-${String(++configs)}`),
    hooks: { promote: { command: ['true'] }, demote: { command: ['true'] } },
  });
}

const heartbeat = (seq: number) => ({ incarnation: 1, seq, epoch: 0, role: 'secondary' });

describe('an agent configured with an enrollment code', () => {
  it('exchanges it once for a token, keeps the token readable by itself only, and uses it on later starts', async () => {
    const { codes } = await setUpReseller(api);
    const file = config('node-a', codes['node-a']!);
    const first = await withNodeToken(file);
    expect((await api.call('POST', '/v1/node/heartbeat', first.witness.token, heartbeat(1))).status).toBe(200);
    expect(statSync(tokenFile(file.stateDir)).mode & 0o777).toBe(0o600);
    // The code is used up at the witness, yet a restart still has its token.
    const again = await withNodeToken(file);
    expect(again.witness.token).toBe(first.witness.token);
  });

  it('enrolls again when the config gets a new code (token rotation), and the old token stops working', async () => {
    const { key, siteId, codes } = await setUpReseller(api);
    const file = config('node-b', codes['node-b']!);
    const old = await withNodeToken(file);
    const rotated = (await api.call('POST', `/v1/sites/${siteId}/nodes/node-b/enrollment`, key)).body as { code: string };
    const next = await withNodeToken({ ...file, witness: { ...file.witness, enrollmentCode: rotated.code } });
    expect(next.witness.token).not.toBe(old.witness.token);
    expect((await api.call('POST', '/v1/node/heartbeat', old.witness.token, heartbeat(1))).status).toBe(401);
    expect((await api.call('POST', '/v1/node/heartbeat', next.witness.token, heartbeat(2))).status).toBe(200);
  });

  it("is refused a code of the other node, says so, and the code stays unused: the other node's running token keeps working", async () => {
    const { key, siteId, codes } = await setUpReseller(api);
    const a = await withNodeToken(config('node-a', codes['node-a']!));
    // A rotation code for the running node-a, typed into node-b's config.
    const rotation = (await api.call('POST', `/v1/sites/${siteId}/nodes/node-a/enrollment`, key)).body as { code: string };
    await expect(withNodeToken(config('node-b', rotation.code))).rejects.toThrow(/belongs to the other node, not to this one \(node-b\); it is still unused.*for node node-a, not node-b/);
    expect((await api.call('POST', '/v1/node/heartbeat', a.witness.token, heartbeat(1))).status).toBe(200);
    const rotated = await withNodeToken(config('node-a', rotation.code));
    expect((await api.call('POST', '/v1/node/heartbeat', rotated.witness.token, heartbeat(2))).status).toBe(200);
  });

  it('reports a refused code with the witness answer', async () => {
    await expect(withNodeToken(config('node-a', `tbe-${'a'.repeat(40)}`))).rejects.toThrow(/enrollment refused by the witness \(401\)/);
  });
});
