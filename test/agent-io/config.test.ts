import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { loadAgentConfig } from '../../agent/config.ts';
import { defaultTimings } from '../../agent/core/settings.ts';

const dir = mkdtempSync(join(tmpdir(), 'tiebreak-config-'));
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

const key = Buffer.alloc(32, 7).toString('base64');

interface Raw {
  witness: Record<string, unknown>;
  peer: Record<string, unknown>;
  hooks: Record<string, Record<string, unknown>>;
  [field: string]: unknown;
}

/** A complete, valid config; tests change one field at a time. */
function valid(): Raw {
  return {
    nodeId: 'node-a',
    witness: { url: 'https://witness.example.net', token: 'tb1.0123456789abcdef' },
    peer: { listen: '0.0.0.0:7400', url: 'http://192.0.2.2:7400', key },
    stateDir: '/var/lib/tiebreak-agent',
    hooks: {
      promote: { command: ['/etc/tiebreak/hooks/promote'] },
      demote: { command: ['/etc/tiebreak/hooks/demote'], timeoutMs: 60_000 },
    },
  };
}

let files = 0;
function write(name: string, text: string): string {
  const file = join(dir, `${String(++files)}-${name}`);
  writeFileSync(file, text);
  return file;
}
const json = (config: unknown) => write('agent.json', JSON.stringify(config));

/** The config with `change` applied to a copy of it. */
function changed(change: (config: Raw) => void): Raw {
  const config = structuredClone(valid());
  change(config);
  return config;
}

describe('a valid config loads', () => {
  test('from JSON, with the defaults filled in', async () => {
    const config = await loadAgentConfig(json(valid()));
    expect(config.nodeId).toBe('node-a');
    expect(config.witness).toEqual({ url: 'https://witness.example.net', token: 'tb1.0123456789abcdef', requestTimeoutMs: 3_000 });
    expect(config.hooks.promote).toEqual({ command: ['/etc/tiebreak/hooks/promote'], timeoutMs: 30_000 });
    expect(config.hooks.demote.timeoutMs).toBe(60_000);
    expect(config.hooks.health).toBeUndefined();
    expect(config.timings).toEqual(defaultTimings);
  });

  test('from YAML (.yaml and .yml), with comments, a health hook and some timings', async () => {
    const yaml = `# a node of the demo office
nodeId: node-b
witness:
  url: http://127.0.0.1:8787   # npm start
  token: tb1.0123456789abcdef
  requestTimeoutMs: 2000
peer:
  listen: 127.0.0.1:7401
  url: http://127.0.0.1:7400
  key: ${key}
stateDir: /tmp/tiebreak-b
hooks:
  promote:
    command: [/usr/bin/systemctl, start, erp.target]
  demote:
    command:
      - /usr/bin/systemctl
      - stop
      - erp.target
    timeoutMs: 90000
  health:
    command: [/etc/tiebreak/hooks/health]
    timeoutMs: 5000
    intervalMs: 15000
timings:
  peerLeaseMs: 12000
`;
    for (const name of ['agent.yaml', 'agent.yml']) {
      const config = await loadAgentConfig(write(name, yaml));
      expect(config.nodeId).toBe('node-b');
      expect(config.witness.requestTimeoutMs).toBe(2_000);
      expect(config.peer).toEqual({ listen: '127.0.0.1:7401', url: 'http://127.0.0.1:7400', key });
      expect(config.hooks.promote.command).toEqual(['/usr/bin/systemctl', 'start', 'erp.target']);
      expect(config.hooks.demote).toEqual({ command: ['/usr/bin/systemctl', 'stop', 'erp.target'], timeoutMs: 90_000 });
      expect(config.hooks.health).toEqual({ command: ['/etc/tiebreak/hooks/health'], timeoutMs: 5_000, intervalMs: 15_000 });
      expect(config.timings).toEqual({ ...defaultTimings, peerLeaseMs: 12_000 });
    }
  });

  test('the example in deploy/agent/ loads once its <…> placeholders are filled in, and is refused before', async () => {
    const example = join(import.meta.dirname, '..', '..', 'deploy', 'agent', 'agent.example.yaml');
    const text = readFileSync(example, 'utf8');
    await expect(loadAgentConfig(example)).rejects.toThrow(
      `${example}: not filled in yet: witness.url, witness.enrollmentCode, peer.key (still the example's <…>; see the comment above each)`,
    );
    const filled = text
      .replace("<the witness's URL, https://…>", 'https://witness.example.com')
      .replace("<this node's enrollment code, tbe-…>", `tbe-${'a'.repeat(40)}`)
      .replace('<the output of openssl rand -base64 32>', key);
    const settings = filled.split('\n').filter((line) => !line.trimStart().startsWith('#'));
    expect(settings.filter((line) => line.includes('<'))).toEqual([]);
    const config = await loadAgentConfig(write('agent.yaml', filled));
    expect(config).toEqual({
      nodeId: 'node-a',
      witness: { url: 'https://witness.example.com', enrollmentCode: `tbe-${'a'.repeat(40)}`, requestTimeoutMs: 3_000 },
      peer: { listen: '192.168.50.1:7400', url: 'http://192.168.50.2:7400', key },
      stateDir: '/var/lib/tiebreak-agent',
      hooks: {
        promote: { command: ['/etc/tiebreak/hooks/promote'], timeoutMs: 120_000 },
        demote: { command: ['/etc/tiebreak/hooks/demote'], timeoutMs: 60_000 },
        health: { command: ['/etc/tiebreak/hooks/health'], timeoutMs: 10_000, intervalMs: 10_000 },
      },
      timings: defaultTimings,
    });
    // Every field is there, so every field has its comment.
    for (const timing of Object.keys(defaultTimings)) expect(text).toContain(`  ${timing}: `);
  });
});

describe('a bad config is refused, naming the field', () => {
  const cases: [string, Raw, RegExp][] = [
    ['witness.url not a URL', changed((c) => (c.witness.url = 'witness.example.net')), /witness\.url: Invalid URL/],
    [
      'neither witness.token nor an enrollment code',
      changed((c) => delete c.witness.token),
      /witness\.token: set exactly one of token and enrollmentCode/,
    ],
    [
      'both witness.token and an enrollment code',
      changed((c) => (c.witness.enrollmentCode = `tbe-${'a'.repeat(40)}`)),
      /witness\.token: set exactly one/,
    ],
    [
      'an enrollment code of the wrong shape',
      changed((c) => {
        delete c.witness.token;
        c.witness.enrollmentCode = 'tbe-123';
      }),
      /witness\.enrollmentCode: an enrollment code/,
    ],
    [
      'peer.key too short',
      changed((c) => (c.peer.key = Buffer.alloc(16).toString('base64'))),
      /peer\.key: must be at least 32 bytes, base64/,
    ],
    ['peer.listen without a port', changed((c) => (c.peer.listen = '0.0.0.0')), /peer\.listen: host:port/],
    ['peer.listen on no port', changed((c) => (c.peer.listen = '0.0.0.0:99999')), /peer\.listen: the port must be 1 to 65535/],
    ['nodeId not an identifier', changed((c) => (c.nodeId = 'Node A!')), /nodeId: /],
    ['a hook with an empty command', changed((c) => (c.hooks.promote!.command = [])), /hooks\.promote\.command: /],
    ['a hook timeout of zero', changed((c) => (c.hooks.demote!.timeoutMs = 0)), /hooks\.demote\.timeoutMs: /],
    ['no demote hook', changed((c) => delete c.hooks.demote), /hooks\.demote: /],
    [
      'timings that let a primary fence before it notices a lost peer',
      changed((c) => (c.timings = { peerLeaseMs: 4_000 })),
      /timings: peerLeaseMs must exceed peerTimeoutMs \+ fenceLeadMs \+ driftMarginMs/,
    ],
    [
      'a hello slower than the peer timeout',
      changed((c) => (c.timings = { peerHelloMs: 3_000 })),
      /timings: peerHelloMs must be shorter than peerTimeoutMs/,
    ],
    ['an unknown timing', changed((c) => (c.timings = { leaseMs: 1 })), /timings: Unrecognized key: "leaseMs"/],
    ['an unknown top-level key', changed((c) => (c.stateDirectory = '/tmp')), /\(config\): Unrecognized key: "stateDirectory"/],
    ['an unknown key in a section', changed((c) => (c.peer.address = '192.0.2.2')), /peer: Unrecognized key: "address"/],
  ];
  test.each(cases)('%s', async (_, config, message) => {
    const file = json(config);
    const error = await loadAgentConfig(file).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(error?.message).toMatch(message);
    expect(error?.message.startsWith(`${file}: invalid agent config: `)).toBe(true);
  });

  test('every problem is listed, not only the first', async () => {
    const config = changed((c) => {
      c.witness.url = 'nope';
      c.peer.key = 'c2hvcnQ=';
    });
    await expect(loadAgentConfig(json(config))).rejects.toThrow(/witness\.url: .*; peer\.key: /);
  });

  test("a <…> placeholder left from the example is refused in one line naming the field, even where it would pass (a hook's path)", async () => {
    const config = changed((c) => {
      c.peer.url = '<the other server: http://address:port>';
      c.hooks.demote = { command: ['<your demote hook>'] };
    });
    const file = json(config);
    await expect(loadAgentConfig(file)).rejects.toThrow(
      `${file}: not filled in yet: peer.url, hooks.demote.command.0 (still the example's <…>; see the comment above each)`,
    );
  });

  test('a file that does not parse names the file and the format', async () => {
    const badJson = write('agent.json', '{"nodeId": "node-a",');
    await expect(loadAgentConfig(badJson)).rejects.toThrow(`${badJson}: not valid JSON`);
    const badYaml = write('agent.yaml', 'nodeId: [node-a\n');
    await expect(loadAgentConfig(badYaml)).rejects.toThrow(`${badYaml}: not valid YAML`);
  });

  test('a missing file names the file', async () => {
    const missing = join(dir, 'nowhere.yaml');
    await expect(loadAgentConfig(missing)).rejects.toThrow(missing);
  });
});
