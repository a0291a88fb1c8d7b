/**
 * Data-driven scenarios, in the manner of etcd-io/raft's testdata: each file under scenarios/
 * lists, step by step, requests to the witness and the answers they must get, so a reviewer
 * reads the arbitration rules, not the code. The syntax is described at the top of
 * scenarios/arbitration.txt. Every scenario runs through `PureWitness`, which carries decisions
 * out exactly as the handlers do on DynamoDB.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { isDeepStrictEqual } from 'node:util';
import { describe, expect, test } from 'vitest';
import {
  ClaimReason,
  type ClaimRequest,
  type ClaimResponse,
  type HeartbeatRequest,
  type HeartbeatResponse,
  RefusalReason,
  Role,
} from '../../protocol/node.ts';
import { defaultSettings, type WitnessSettings } from '../../functions/domain/settings.ts';
import { newSite, type SitePolicy, type TieBreak } from '../../functions/domain/site-state.ts';
import { forceConfirmation } from '../../functions/domain/survivor.ts';
import { type OperatorOutcome, type Outcome, PureWitness } from '../support/pure-witness.ts';

const scenarioDir = new URL('./scenarios/', import.meta.url);

interface Line {
  where: string;
  text: string;
}

interface Scenario {
  title: string;
  lines: Line[];
}

/** Blank lines separate blocks; a block's first line `# title` names it; other `#` lines are notes. */
function parseScenarios(file: string, text: string): Scenario[] {
  const scenarios: Scenario[] = [];
  let block: Line[] = [];
  const flush = (): void => {
    const body = block.filter((line) => !line.text.startsWith('#'));
    if (body.length > 0) {
      const title = block[0]?.text.startsWith('# ') ? block[0].text.slice(2).trim() : undefined;
      if (!title) throw new Error(`${block[0]?.where ?? file}: a scenario starts with a "# title" line`);
      scenarios.push({ title, lines: body });
    }
    block = [];
  };
  text.split('\n').forEach((raw, index) => {
    const line = raw.trim();
    if (line === '') flush();
    else block.push({ where: `${file}:${index + 1}`, text: line });
  });
  flush();
  return scenarios;
}

/** `key=value` words; a value `none` is null. */
function keyValues(words: readonly string[], where: string): Map<string, string> {
  const pairs = new Map<string, string>();
  for (const word of words) {
    const at = word.indexOf('=');
    if (at <= 0) throw new Error(`${where}: expected key=value, got "${word}"`);
    pairs.set(word.slice(0, at), word.slice(at + 1));
  }
  return pairs;
}

function int(value: string, where: string): number {
  const n = Number(value.replaceAll('_', ''));
  if (!Number.isSafeInteger(n)) throw new Error(`${where}: "${value}" is not an integer`);
  return n;
}

/** A written value as the test compares it: `none` is null, digits are a number. */
function scalar(value: string): string | number | boolean | null {
  if (value === 'none') return null;
  if (value === 'true' || value === 'false') return value === 'true';
  if (/^-?[0-9_]+$/.test(value)) return Number(value.replaceAll('_', ''));
  return value;
}

const list = (value: string): string[] => (value === 'none' ? [] : value.split(','));

/** Takes the known keys out of `pairs`; any key left over is a typo in the table. */
function take(pairs: Map<string, string>, known: readonly string[], where: string): Map<string, string> {
  const unknown = [...pairs.keys()].filter((key) => !known.includes(key));
  if (unknown.length > 0) throw new Error(`${where}: unknown key(s) ${unknown.join(', ')}; known: ${known.join(', ')}`);
  return pairs;
}

function parsePolicy(words: readonly string[], where: string): SitePolicy {
  const [tieBreak, ...rest] = words;
  if (tieBreak !== 'keep-primary' && tieBreak !== 'preferred-node' && tieBreak !== 'health-weighted') {
    throw new Error(`${where}: unknown tie-break "${tieBreak ?? ''}"`);
  }
  const options = take(keyValues(rest, where), ['preferred', 'threshold'], where);
  const threshold = options.get('threshold');
  return {
    tieBreak: tieBreak satisfies TieBreak,
    preferredNode: options.get('preferred') ?? null,
    healthThreshold: threshold === undefined ? 0 : int(threshold, where),
  };
}

function parseSettings(words: readonly string[], where: string): WitnessSettings {
  const settings: Record<string, number | null> = { ...defaultSettings };
  const known = Object.keys(defaultSettings);
  for (const [key, value] of take(keyValues(words, where), known, where)) {
    // `standaloneLeaseMs=none`: a standalone lease lasts until readmission (the default).
    if (value === 'none' && key === 'standaloneLeaseMs') settings[key] = null;
    else settings[key] = int(value, where);
  }
  return settings as unknown as WitnessSettings;
}

/** `standalone=none` (an ordinary lease), `standalone=unbounded` (no end), `standalone=<ms>` (bounded). */
function standalone(value: string, where: string): { leaseMs: number | null } | null {
  if (value === 'none') return null;
  if (value === 'unbounded') return { leaseMs: null };
  return { leaseMs: int(value, where) };
}

/** `mentions=<word>,...`: every word appears in the message (underscores stand for spaces). */
function checkMentions(message: string, value: string, where: string): void {
  for (const word of list(value)) expect(message, `${where}: the message mentions "${word}"`).toContain(word.replaceAll('_', ' '));
}

function heartbeatRequest(pairs: Map<string, string>, where: string): HeartbeatRequest {
  take(pairs, ['inc', 'seq', 'epoch', 'role', 'peer', 'health', 'acks', 'token'], where);
  const request: HeartbeatRequest = {
    incarnation: int(pairs.get('inc') ?? '', where),
    seq: int(pairs.get('seq') ?? '', where),
    epoch: int(pairs.get('epoch') ?? '0', where),
    role: Role.parse(pairs.get('role') ?? 'secondary'),
  };
  const peer = pairs.get('peer');
  if (peer !== undefined) {
    if (peer !== 'up' && peer !== 'down') throw new Error(`${where}: peer=up or peer=down, got "${peer}"`);
    request.peer = { reachable: peer === 'up' };
  }
  const health = pairs.get('health');
  if (health !== undefined) request.health = { score: int(health, where) };
  const acks = pairs.get('acks');
  if (acks !== undefined) request.acks = list(acks);
  return request;
}

function claimRequest(pairs: Map<string, string>, where: string): ClaimRequest {
  take(pairs, ['inc', 'seq', 'epoch', 'reason', 'token'], where);
  return {
    incarnation: int(pairs.get('inc') ?? '', where),
    seq: int(pairs.get('seq') ?? '', where),
    epoch: int(pairs.get('epoch') ?? '0', where),
    reason: ClaimReason.parse(pairs.get('reason')),
  };
}

/** Checks an answer against `200 k=v…`, `granted k=v…`, `refused <reason> k=v…`, `409 stale-request`, `401 token-revoked`. */
function checkAnswer(
  outcome: Outcome<HeartbeatResponse | ClaimResponse>,
  kind: 'heartbeat' | 'claim',
  expected: string,
  where: string,
): void {
  const [head = '', ...rest] = expected.split(/\s+/);
  if (head === '409' || head === '401') {
    expect(outcome, where).toEqual({ status: Number(head), code: rest[0] });
    if (rest.length !== 1) throw new Error(`${where}: "${head}" takes just its error code`);
    return;
  }
  expect(outcome.status, where).toBe(200);
  if (outcome.status !== 200) return;
  const body = outcome.body;
  let pairs: Map<string, string>;
  if (kind === 'heartbeat') {
    if (head !== '200') throw new Error(`${where}: a heartbeat answer is 200, 409 or 401, not "${head}"`);
    pairs = take(
      keyValues(rest, where),
      ['epoch', 'primary', 'role', 'leaseMs', 'heartbeatMs', 'commands', 'standalone', 'excluded'],
      where,
    );
  } else if (head === 'granted') {
    expect(body, where).toMatchObject({ granted: true });
    pairs = take(keyValues(rest, where), ['epoch', 'leaseMs', 'standalone'], where);
  } else if (head === 'refused') {
    const [reason = '', ...more] = rest;
    expect(body, where).toMatchObject({ granted: false, reason: RefusalReason.parse(reason) });
    pairs = take(keyValues(more, where), ['epoch', 'primary', 'retryAfterMs', 'mentions'], where);
  } else {
    throw new Error(`${where}: a claim answer is granted, refused, 409 or 401, not "${head}"`);
  }
  const fields = body as unknown as Record<string, unknown>;
  for (const [key, value] of pairs) {
    if (key === 'commands') {
      const ids = (body as HeartbeatResponse).commands.map((c) => c.id);
      expect(ids, `${where}: commands`).toEqual(list(value));
    } else if (key === 'standalone') {
      expect(fields[key], `${where}: standalone`).toEqual(standalone(value, where));
    } else if (key === 'mentions') {
      checkMentions(String(fields.message), value, where);
    } else {
      expect(fields[key], `${where}: ${key}`).toEqual(scalar(value));
    }
  }
}

/** Checks an operator's answer against `written`, `answered`, or `refused <status> <code> [mentions=…]`. */
function checkOperatorAnswer(outcome: OperatorOutcome, expected: string, where: string): void {
  const [head = '', ...rest] = expected.split(/\s+/);
  if (head === 'written' || head === 'answered') {
    if (rest.length > 0) throw new Error(`${where}: "${head}" takes nothing more`);
    expect(outcome, where).toMatchObject({ status: 200, written: head === 'written' });
    return;
  }
  if (head !== 'refused') throw new Error(`${where}: an operator's answer is written, answered or refused, not "${head}"`);
  const [status = '', code = '', ...more] = rest;
  expect(outcome, where).toMatchObject({ status: int(status, where), code });
  const pairs = take(keyValues(more, where), ['mentions'], where);
  const mentions = pairs.get('mentions');
  if (mentions !== undefined && 'message' in outcome) checkMentions(outcome.message, mentions, where);
}

/** `state k=v…`: `epoch`, `primary`, `leaseExpiresAt`, `decision.kind`, `node-a.seq`, `node-a.commands=<ids>`… */
function checkState(state: object, nodeIds: readonly string[], words: readonly string[], where: string): void {
  for (const [key, value] of keyValues(words, where)) {
    const segments = key.split('.');
    const path = nodeIds.includes(segments[0] ?? '') ? ['nodes', ...segments] : segments;
    let actual: unknown = state;
    for (const segment of path) {
      actual =
        typeof actual === 'object' && actual !== null && Object.hasOwn(actual, segment)
          ? (actual as Record<string, unknown>)[segment]
          : undefined;
    }
    if (path.at(-1) === 'commands') {
      expect(Object.keys(actual ?? {}).sort(), `${where}: ${key}`).toEqual(list(value).sort());
    } else {
      expect(actual ?? null, `${where}: ${key}`).toEqual(scalar(value));
    }
  }
}

function run(scenario: Scenario): void {
  let settings = defaultSettings;
  let policy: SitePolicy | undefined;
  let nodeIds = ['node-a', 'node-b'];
  let witness: PureWitness | undefined;
  let clock = -Infinity;
  const site = { resellerId: 'reseller-1', siteId: 'site-1' };
  const start = (): PureWitness => (witness ??= new PureWitness(newSite({ ...site, nodeIds, ...(policy ? { policy } : {}) }), settings));

  for (const { where, text } of scenario.lines) {
    const [directive = '', ...words] = text.split(/\s+/);
    const setup = (): void => {
      if (witness) throw new Error(`${where}: "${directive}" must come before the first request`);
    };
    switch (directive) {
      case 'settings':
        setup();
        settings = parseSettings(words, where);
        break;
      case 'policy':
        setup();
        policy = parsePolicy(words, where);
        break;
      case 'nodes':
        setup();
        nodeIds = words;
        break;
      case 'revoke': {
        // The operator's action, outside the node protocol: the node's token version goes up.
        const w = start();
        const node = w.state.nodes[words[0] ?? ''];
        if (!node) throw new Error(`${where}: no node "${words[0] ?? ''}"`);
        w.state = structuredClone(w.state);
        w.state.nodes[words[0]!]!.tokenVersion = node.tokenVersion + 1;
        break;
      }
      case 'state':
        checkState(start().state, nodeIds, words, where);
        break;
      case 'at': {
        const [request, expected] = text.split(/\s+(?:→|->)\s+/);
        if (request === undefined || expected === undefined) throw new Error(`${where}: a request line is "at <ms> <request> → <answer>"`);
        const [, time = '', kind = '', nodeId = '', ...args] = request.split(/\s+/);
        const now = int(time, where);
        if (now < clock) throw new Error(`${where}: time goes backwards`);
        clock = now;
        const w = start();
        const pairs = keyValues(args, where);
        if (kind === 'force-primary' || kind === 'readmit') {
          // The operator's calls (survivor mode), outside the node protocol.
          take(pairs, ['confirm', 'key'], where);
          const keyId = pairs.get('key') ?? 'key-1';
          const before = structuredClone(w.state);
          const confirm = pairs.get('confirm')?.replaceAll('_', ' ') ?? forceConfirmation(w.state.primary ?? '');
          const outcome =
            kind === 'readmit' ? w.readmit(nodeId, keyId, now) : w.forcePrimary(nodeId, { confirm, reason: 'scenario' }, keyId, now);
          checkOperatorAnswer(outcome, expected.trim(), `${where}: ${text}\n  answer ${JSON.stringify(outcome)}\n `);
          if (!(outcome.status === 200 && outcome.written))
            expect(isDeepStrictEqual(w.state, before), `${where}: an operator's call changed nothing`).toBe(true);
          break;
        }
        const caller = { ...site, nodeId, tokenVersion: int(pairs.get('token') ?? '1', where) };
        const before = structuredClone(w.state);
        let outcome: Outcome<HeartbeatResponse | ClaimResponse>;
        if (kind === 'heartbeat') outcome = w.heartbeat(caller, heartbeatRequest(pairs, where), now);
        else if (kind === 'claim') outcome = w.claim(caller, claimRequest(pairs, where), now);
        else throw new Error(`${where}: a request is a heartbeat or a claim, not "${kind}"`);
        checkAnswer(outcome, kind, expected.trim(), `${where}: ${text}\n  answer ${JSON.stringify(outcome)}\n `);
        const refused = outcome.status !== 200 || ('granted' in outcome.body && !outcome.body.granted);
        // W4 and the refusal rule: a refused or rejected request leaves the state exactly as it was.
        if (refused) expect(isDeepStrictEqual(w.state, before), `${where}: a refusal changed the state`).toBe(true);
        break;
      }
      default:
        throw new Error(`${where}: unknown directive "${directive}"`);
    }
  }
}

const files = readdirSync(scenarioDir)
  .filter((name) => name.endsWith('.txt'))
  .sort();

test('the scenario tables are there', () => {
  expect(files).toContain('arbitration.txt');
});

for (const file of files) {
  const scenarios = parseScenarios(file, readFileSync(new URL(file, scenarioDir), 'utf8'));
  describe(file, () => {
    test('scenario titles are unique', () => {
      const titles = scenarios.map((s) => s.title);
      expect(titles.filter((t, i) => titles.indexOf(t) !== i)).toEqual([]);
    });
    for (const scenario of scenarios) {
      test(scenario.title, () => {
        run(scenario);
      });
    }
  });
}
