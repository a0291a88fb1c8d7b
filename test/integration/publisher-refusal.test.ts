import { marshall } from '@aws-sdk/util-dynamodb';
import { SNSClient } from '@aws-sdk/client-sns';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { DynamoDBRecord } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { logger } from '../../functions/adapters/logger.ts';
import { AuditTrail } from '../../functions/adapters/audit-trail.ts';
import { EventBus } from '../../functions/adapters/event-bus.ts';
import { itemFromSiteState } from '../../functions/adapters/site-item.ts';
import { siteStateSk } from '../../functions/adapters/tenancy-items.ts';
import { eventsOf } from '../../functions/domain/events.ts';
import { defaultSettings } from '../../functions/domain/settings.ts';
import { newSite, type SiteState } from '../../functions/domain/site-state.ts';
import { publisherHandler } from '../../functions/handlers/publisher.ts';
import { lambdaContext } from '../../local/api-gateway-event.ts';
import type { StoredEvent } from '../../protocol/events.ts';
import { freshTable } from '../support/dynamo.ts';
import { PureWitness } from '../support/pure-witness.ts';

// The publisher checks every event against the contract /openapi.json publishes before it records
// it: an event its schema refuses is a bug of its producer, and is neither written to the audit
// trail nor published; its stream record is handed back (so it is retried, then kept), and the
// records before it are recorded as usual. The real handler, on DynamoDB Local.

/** What the handler publishes, held instead of sent to a topic. */
class HeldBus extends EventBus {
  readonly published: StoredEvent[] = [];
  constructor() {
    super(new SNSClient({ region: 'us-east-1' }), 'arn:aws:sns:us-east-1:000000000000:unused');
  }
  override publish(events: readonly StoredEvent[]): Promise<void> {
    this.published.push(...events);
    return Promise.resolve();
  }
}

const t0 = Date.parse('2026-12-01T09:00:00.000Z');
let client: DynamoDBClient;
let trail: AuditTrail;
let bus: HeldBus;

beforeAll(async () => {
  const table = await freshTable('publisher-refusal');
  client = table.client;
  trail = new AuditTrail(table.doc, table.tableName);
  bus = new HeldBus();
});
afterAll(() => {
  client.destroy();
});

/** A site's first grant, carried out by the witness's own rules: the state before and after it. */
function firstGrant(siteId: string, nodeIds: [string, string]): { before: SiteState; after: SiteState } {
  const witness = new PureWitness(newSite({ resellerId: 'acme-it', siteId, nodeIds }), defaultSettings);
  const caller = (nodeId: string) => ({ resellerId: 'acme-it', siteId, nodeId, tokenVersion: 1 });
  witness.heartbeat(caller(nodeIds[0]), { incarnation: 1, seq: 1, epoch: 0, role: 'secondary', peer: { reachable: true } }, t0);
  witness.heartbeat(caller(nodeIds[1]), { incarnation: 1, seq: 1, epoch: 0, role: 'secondary', peer: { reachable: true } }, t0);
  const before = witness.state;
  witness.claim(caller(nodeIds[0]), { incarnation: 1, seq: 2, epoch: 0, reason: 'startup' }, t0 + 100);
  return { before, after: witness.state };
}

/** The stream's record of a change of a site's state, as DynamoDB Streams hands it to the publisher. */
function streamRecord(sequenceNumber: string, change: { before: SiteState; after: SiteState }): DynamoDBRecord {
  const image = (state: SiteState) => marshall(itemFromSiteState(state), { removeUndefinedValues: true });
  const keys = marshall({ pk: image(change.after).pk?.S, sk: siteStateSk });
  return {
    eventName: 'MODIFY',
    dynamodb: { SequenceNumber: sequenceNumber, Keys: keys, OldImage: image(change.before), NewImage: image(change.after) },
  } as DynamoDBRecord;
}

const trailOf = (siteId: string) => trail.eventsUntil('acme-it', siteId, t0 + 60_000, t0 + 60_000);

describe('the publisher refuses an event its published schema refuses', () => {
  it('the record is handed back and nothing of it is written or published; the records before it are recorded', async () => {
    const valid = firstGrant('valid-site', ['node-a', 'node-b']);
    // A state a bug could have written (the stored state allows it): a node id the contract does not (no capitals).
    const invalid = firstGrant('invalid-site', ['Node-A', 'node-b']);
    expect(eventsOf(invalid.before, invalid.after, defaultSettings).map((e) => [e.type, e.data.nodeId])).toEqual([
      ['failover.granted', 'Node-A'],
    ]);
    const later = firstGrant('later-site', ['node-a', 'node-b']);

    const errors = vi.spyOn(logger, 'error');
    const handler = publisherHandler(() => ({ trail, bus, settings: defaultSettings }));
    const result = await handler(
      { Records: [streamRecord('1', valid), streamRecord('2', invalid), streamRecord('3', later)] },
      lambdaContext('publisher', 'r-1'),
    );

    expect(result.batchItemFailures).toEqual([{ itemIdentifier: '2' }]);
    // Refused by the event's schema, not by anything before it.
    expect(errors).toHaveBeenCalledWith(
      expect.stringContaining('event refused by its schema'),
      expect.objectContaining({
        type: 'failover.granted',
        issues: expect.arrayContaining([expect.objectContaining({ path: ['data', 'nodeId'] })]) as unknown,
      }),
    );
    expect(await trailOf('invalid-site')).toEqual([]);
    expect(bus.published.map((e) => e.data.siteId)).toEqual(['valid-site']);
    expect((await trailOf('valid-site')).map((e) => e.type)).toEqual(['failover.granted']);
    // The stream retries from the refused record: nothing after it is recorded out of order.
    expect(await trailOf('later-site')).toEqual([]);
  });
});
