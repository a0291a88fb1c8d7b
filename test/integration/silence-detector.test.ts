/**
 * The silence detector against the real engine: the real heartbeat handler files sites in the due
 * index, the real detector reads it and marks silent sites, and the real event path (stream →
 * publisher → audit trail) turns the marks into `site.down` / `site.recovered`. Short timings:
 * a 1 s bucket and a 2 s silence (plus the index lag margin of 10 s).
 */
import { localSnsClient } from '../../functions/adapters/messaging-clients.ts';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterEach, describe, expect, inject, test } from 'vitest';
import { AuditTrail } from '../../functions/adapters/audit-trail.ts';
import { documentClient } from '../../functions/adapters/config.ts';
import { type DetectorDeps, detectorDeps } from '../../functions/adapters/detector-config.ts';
import { DynamoDetectorStore } from '../../functions/adapters/detector-store.ts';
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { publisherDeps } from '../../functions/adapters/publisher-config.ts';
import { dueIndexName, dueShardOf, type SiteKey, siteKey } from '../../functions/adapters/site-item.ts';
import type { WitnessSettings } from '../../functions/domain/settings.ts';
import { indexLagMarginMs } from '../../functions/domain/silence.ts';
import { detectorHandler } from '../../functions/handlers/detector.ts';
import { publisherHandler } from '../../functions/handlers/publisher.ts';
import { lambdaContext } from '../../local/api-gateway-event.ts';
import { ensureEventTopic } from '../../local/sns-sqs.ts';
import { type StreamPoller, startStreamPoller, streamsClient } from '../../local/stream-poller.ts';
import type { StoredEvent } from '../../protocol/events.ts';
import { freshTable } from '../support/dynamo.ts';
import { startWitness, type TestWitness } from '../support/witness.ts';
import { Agent, postOf } from './scenario.ts';

const timings: Partial<WitnessSettings> = { silenceMs: 2_000, dueBucketMs: 1_000 };
/** Long enough after a contact for its bucket to be over by the silence and the lag margin. */
const beyondSilenceMs = 2_000 + 1_000 + indexLagMarginMs;

interface Rig {
  witness: TestWitness;
  deps: DetectorDeps;
  client: DynamoDBClient;
  /** Consistent reads of sites' state items by the detector (its cursor's are not counted). */
  stateReads: { count: number };
  poller: StreamPoller;
  trail: AuditTrail;
  close(): Promise<void>;
}

let rig: Rig | undefined;
afterEach(async () => {
  await rig?.close();
  rig = undefined;
});

/** Counts the GetItems of state items a client sends (marshalled or not, by the time the middleware sees them). */
function countStateReads(client: DynamoDBClient): { count: number } {
  const reads = { count: 0 };
  client.middlewareStack.add(
    (next, context) => (args) => {
      const key = (args.input as { Key?: { sk?: unknown } }).Key;
      const sk = key?.sk;
      const isState = sk === 'STATE' || (typeof sk === 'object' && sk !== null && (sk as { S?: string }).S === 'STATE');
      if (context.commandName === 'GetItemCommand' && isState) reads.count++;
      return next(args);
    },
    { step: 'finalizeRequest', priority: 'low', name: 'testStateReads' },
  );
  return reads;
}

/** A witness on a fresh table, the detector on a client of its own, and the event path into the audit trail. */
async function startRig(): Promise<Rig> {
  const witness = await startWitness({ settings: timings });
  const { client } = await freshTable('unused');
  const stateReads = countStateReads(client);
  const deps: DetectorDeps = {
    ...detectorDeps({ tableName: witness.tableName, settings: witness.deps.settings, dynamo: client }),
    now: witness.clock.now,
  };
  const sns = localSnsClient(inject('snsSqsEndpoint'));
  const topicArn = await ensureEventTopic(inject('snsSqsEndpoint'), `events-${witness.tableName}`);
  const poller = await startStreamPoller({
    client,
    streams: streamsClient(inject('dynamoEndpoint')),
    tableName: witness.tableName,
    intervalMs: 50,
    handler: publisherHandler(() =>
      publisherDeps({ tableName: witness.tableName, settings: witness.deps.settings, dynamo: client, sns, topicArn }),
    ),
  });
  return {
    witness,
    deps,
    client,
    stateReads,
    poller,
    trail: new AuditTrail(documentClient(client), witness.tableName),
    async close() {
      await poller.stop();
      sns.destroy();
      client.destroy();
      await witness.close();
    },
  };
}

const runDetector = (deps: DetectorDeps) =>
  detectorHandler(() => deps)({ detail: {} } as never, lambdaContext('tiebreak-detector', 'test'));

async function trailOf(r: Rig, site: SiteKey): Promise<StoredEvent[]> {
  await r.poller.drain();
  return r.trail.eventsUntil(site.resellerId, site.siteId, Date.parse('2100-01-01T00:00:00Z'), r.witness.clock.now());
}

/** A site whose two nodes have both reported (node-a as the primary at epoch 1), and its agents. */
async function liveSite(r: Rig) {
  const site = await r.witness.site();
  const a = new Agent(site.nodes['node-a']!, postOf(r.witness));
  const b = new Agent(site.nodes['node-b']!, postOf(r.witness));
  await a.heartbeat('secondary', 0, { peer: { reachable: true } });
  await b.heartbeat('secondary', 0, { peer: { reachable: true } });
  expect(await a.claim(0, 'startup')).toMatchObject({ granted: true, epoch: 1 });
  await a.heartbeat('primary', 1, { peer: { reachable: true }, acks: ['1-promote-node-a'] });
  return { key: { resellerId: site.resellerId, siteId: site.siteId }, a, b };
}

describe('the silence detector', () => {
  test('a site whose nodes both fall silent is down once, however often the detector runs, and recovered at its next heartbeat', async () => {
    rig = await startRig();
    const { key, b } = await liveSite(rig);
    const lastHeard = rig.witness.clock.now();
    rig.witness.clock.advance(beyondSilenceMs);
    for (let run = 0; run < 4; run++) {
      await runDetector(rig.deps);
      rig.witness.clock.advance(1_000);
    }
    const down = (await trailOf(rig, key)).filter((e) => e.type === 'site.down');
    expect(down).toHaveLength(1);
    expect(down[0]!.data).toMatchObject({
      severity: 'critical',
      lastSeenAt: lastHeard,
      leaseEndedAt: lastHeard + rig.witness.deps.settings.leaseMs,
    });

    await b.heartbeat('secondary', 1, { peer: { reachable: false } });
    await runDetector(rig.deps);
    const types = (await trailOf(rig, key)).map((e) => e.type).filter((t) => t.startsWith('site.'));
    expect(types).toEqual(['site.down', 'site.recovered']);
    expect(await rig.witness.rawItem(key)).not.toHaveProperty('silence');
  });

  test('a site that keeps heartbeating is never marked, while a silent one beside it is', async () => {
    rig = await startRig();
    const live = await liveSite(rig);
    const silent = await liveSite(rig);
    for (let second = 0; second < 30; second++) {
      rig.witness.clock.advance(1_000);
      await live.b.heartbeat('secondary', 1, { peer: { reachable: true } });
      await runDetector(rig.deps);
    }
    expect((await trailOf(rig, live.key)).map((e) => e.type)).not.toContain('site.down');
    expect((await trailOf(rig, silent.key)).filter((e) => e.type === 'site.down')).toHaveLength(1);
    expect(await rig.witness.rawItem(live.key)).not.toHaveProperty('silence');
  });

  test('a heartbeat that lands between the detector’s read and its write wins: no mark, no site.down', async () => {
    rig = await startRig();
    const { key, b } = await liveSite(rig);
    rig.witness.clock.advance(beyondSilenceMs);
    // The site speaks exactly between the detector's consistent read and its guarded write.
    const sites = rig.deps.sites;
    let spoke = 0;
    const deps: DetectorDeps = {
      ...rig.deps,
      sites: {
        load: (k) => sites.load(k),
        recent: (k) => sites.recent(k),
        create: (s) => sites.create(s),
        async apply(k, plan) {
          if (spoke++ === 0) await b.heartbeat('secondary', 1, { peer: { reachable: true } });
          return sites.apply(k, plan);
        },
      },
    };
    const run = await runDetector(deps);
    expect(run).toMatchObject({ marked: 0, raced: 1, sitesListed: 1 });
    expect(spoke).toBe(1);
    expect((await trailOf(rig, key)).map((e) => e.type)).not.toContain('site.down');
    expect(await rig.witness.rawItem(key)).not.toHaveProperty('silence');
  });

  test('a run reads the sites that fell silent, not all sites', async () => {
    rig = await startRig();
    const sites = [];
    for (let i = 0; i < 8; i++) sites.push(await liveSite(rig));
    const [quiet, talking] = [sites.slice(0, 3), sites.slice(3)];
    for (let second = 0; second < 14; second++) {
      rig.witness.clock.advance(1_000);
      for (const site of talking) await site.a.heartbeat('primary', 1, { peer: { reachable: true } });
    }
    rig.stateReads.count = 0;
    const run = await runDetector(rig.deps);
    expect(run).toMatchObject({ marked: 3, sitesListed: 3, raced: 0, refiled: 0, stopped: null });
    expect(rig.stateReads.count).toBe(3);
    // The index's three keys and the three state items (the first run: no cursor yet).
    expect(run.itemsRead).toBe(3 + 3);
    for (const site of quiet) expect((await trailOf(rig, site.key)).filter((e) => e.type === 'site.down')).toHaveLength(1);
    for (const site of talking) expect((await trailOf(rig, site.key)).map((e) => e.type)).not.toContain('site.down');
  });

  test('two overlapping runs do not both read a bucket: the second finds the cursor moved and stops', async () => {
    rig = await startRig();
    await liveSite(rig);
    await runDetector(rig.deps);
    rig.witness.clock.advance(beyondSilenceMs);
    const stale = await rig.deps.detector.cursor();
    // Another run moves the cursor first.
    expect(await rig.deps.detector.advance(stale, (stale ?? 0) + 1)).toBe(true);
    const store = rig.deps.detector;
    const late: DetectorDeps = {
      ...rig.deps,
      detector: {
        cursor: () => Promise.resolve(stale),
        advance: (from, to) => store.advance(from, to),
        sitesIn: (bucket) => store.sitesIn(bucket),
      },
    };
    expect(await runDetector(late)).toMatchObject({ buckets: 0, stopped: 'another run moved the cursor' });
  });

  test('a heartbeat files its site in the new index under its bucket and the shard of its key', async () => {
    rig = await startRig();
    const { key } = await liveSite(rig);
    const item = (await rig.witness.rawItem(key))!;
    const indexKey = `${String(item.due)}#${String(dueShardOf(key))}`;
    expect(item.dueShard).toBe(indexKey);
    const { Items } = await documentClient(rig.client).send(
      new QueryCommand({
        TableName: rig.witness.tableName,
        IndexName: dueIndexName,
        KeyConditionExpression: '#k = :k',
        ExpressionAttributeNames: { '#k': 'dueShard' },
        ExpressionAttributeValues: { ':k': indexKey },
      }),
    );
    expect(Items).toEqual([{ ...siteKey(key), dueShard: indexKey }]);
  });

  test('reading the sharded index alone, the detector finds the silent sites whatever their shards', async () => {
    rig = await startRig();
    const sites = [];
    for (let i = 0; i < 6; i++) sites.push(await liveSite(rig));
    expect(new Set(sites.map((site) => dueShardOf(site.key))).size).toBeGreaterThan(1);
    rig.witness.clock.advance(beyondSilenceMs);
    const deps: DetectorDeps = {
      ...rig.deps,
      detector: new DynamoDetectorStore(documentClient(rig.client), rig.witness.tableName, 'sharded'),
    };
    expect(await runDetector(deps)).toMatchObject({ marked: 6, sitesListed: 6, raced: 0, stopped: null });
    for (const site of sites) expect((await trailOf(rig, site.key)).filter((e) => e.type === 'site.down')).toHaveLength(1);
  });
});
