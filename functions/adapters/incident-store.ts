import { type DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import * as z from 'zod/mini';
import { Severity } from '../../protocol/events.ts';
import { type Incident, IncidentKind, IncidentState } from '../../protocol/incidents.ts';
import { EscalationPolicy, EscalationTarget } from '../../protocol/reseller.ts';
import '../../protocol/zod-locale.ts';
import { affectedWords, incidentSeverity, kindOfIncidentId, stepLevel, type Tracker } from '../domain/incidents.ts';
import { conditionFailed, unlessConditionFails } from './conditions.ts';
import { InvalidCursorError, type Page } from './pagination.ts';
import { incidentSk, incidentSkPrefix, iso, resellerPk, siteListingSk, sitePk } from './tenancy-items.ts';

/**
 * The kinds of the site's trackers, kept on its listing item (`incidentKinds`: kind → true), so that
 * the fleet view reads only the trackers that exist (site-admin-store.ts, listFleet). A listing made
 * since it is kept starts with it empty; one from before has none, and the fleet view reads every
 * kind's tracker of that site. Trackers are never deleted, so a kind is never taken off.
 */
export const incidentKindsAttribute = 'incidentKinds';

/** The sparse index of a reseller's incidents by opening time (only trackers with an incident carry its keys). */
export const incidentIndexName = 'incidents-index';
export const incidentIndexKeys = { partition: 'incidentReseller', sort: 'incidentOrder' } as const;

const Millis = z.number();
const NullableMillis = z.nullable(z.number());

const TrackerItem = z.object({
  resellerId: z.string(),
  siteId: z.string(),
  kind: IncidentKind,
  // `severity` (of subjects and incidents) is absent from items stored before it was kept.
  // `label` (an inbound alert's words) only on subjects raised since it is kept.
  subjects: z.record(
    z.string(),
    z.object({ raisedAt: Millis, clearedAt: Millis, severity: z.optional(Severity), label: z.optional(z.string()) }),
  ),
  incident: z.nullable(
    z.object({
      incidentId: z.string(),
      state: IncidentState,
      openedAt: Millis,
      openingEventId: z.string(),
      severity: z.optional(Severity),
      recoveredAt: NullableMillis,
      acknowledgedAt: NullableMillis,
      acknowledgedBy: z.nullable(z.string()),
      resolvedAt: NullableMillis,
      resolvedBy: z.nullable(z.string()),
      stepsTaken: z.number(),
      lastEscalatedAt: NullableMillis,
      notified: z.array(EscalationTarget),
      policy: EscalationPolicy,
    }),
  ),
  version: z.number(),
});

/** Reads a tracker item back (the stream's images too); a malformed item is a bug, not bad input. */
export function trackerFromItem(item: Record<string, unknown>): Tracker {
  return TrackerItem.parse(item);
}

export function isTrackerSk(sk: string | undefined): boolean {
  return sk?.startsWith(incidentSkPrefix) === true;
}

/** The incident as the API shows it. */
export function incidentView(tracker: Tracker): Incident | undefined {
  const incident = tracker.incident;
  if (!incident) return undefined;
  const time = (ms: number | null) => (ms === null ? null : iso(ms));
  const subjects = Object.keys(tracker.subjects).sort();
  return {
    incidentId: incident.incidentId,
    siteId: tracker.siteId,
    kind: tracker.kind,
    state: incident.state,
    severity: incidentSeverity(tracker),
    openedAt: iso(incident.openedAt),
    subjects,
    affected: affectedWords(tracker, subjects),
    recoveredAt: time(incident.recoveredAt),
    acknowledgedAt: time(incident.acknowledgedAt),
    acknowledgedBy: incident.acknowledgedBy,
    resolvedAt: time(incident.resolvedAt),
    resolvedBy: incident.resolvedBy,
    stepsTaken: incident.stepsTaken,
    escalation: {
      level: incident.stepsTaken === 0 ? null : stepLevel(incident.policy, incident.stepsTaken - 1),
      levels: incident.policy.levels.length,
    },
    notified: incident.notified,
  };
}

/** How many times a write is tried while other writers keep changing the tracker first, and the longest pause between. */
const attempts = 25;
const maxPauseMs = 200;

/** Full jitter: racers that lost together do not come back together. */
const pause = (attempt: number) => new Promise((resolve) => setTimeout(resolve, Math.random() * Math.min(maxPauseMs, 5 * 2 ** attempt)));

/**
 * The incident trackers, one item per (site, kind) in the site's partition (`INCIDENT#<kind>`).
 * Every change is a read, a pure step, and a write conditional on the version read; a writer
 * that lost the race reads again and re-decides, so concurrent deliveries of events, timers and
 * API calls serialise on the item and none is lost.
 */
export class IncidentStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async get(resellerId: string, siteId: string, kind: IncidentKind): Promise<Tracker | undefined> {
    const { Item } = await this.doc.send(
      new GetCommand({ TableName: this.tableName, Key: { pk: sitePk(resellerId, siteId), sk: incidentSk(kind) }, ConsistentRead: true }),
    );
    return Item ? trackerFromItem(Item) : undefined;
  }

  /** The tracker an incident id names (its kind is in the id), or undefined. */
  async getByIncidentId(resellerId: string, siteId: string, incidentId: string): Promise<Tracker | undefined> {
    const kind = kindOfIncidentId(incidentId);
    return kind ? this.get(resellerId, siteId, kind) : undefined;
  }

  /**
   * Applies `step` to the tracker as stored and writes the result if it differs, conditional on
   * the version read. `step` answers the next tracker, or undefined for "no change". Answers the
   * tracker before and after (the same when nothing changed).
   */
  async update(
    resellerId: string,
    siteId: string,
    kind: IncidentKind,
    step: (current: Tracker | undefined) => Tracker | undefined,
  ): Promise<{ before: Tracker | undefined; after: Tracker | undefined; changed: boolean }> {
    for (let attempt = 1; ; attempt++) {
      const before = await this.get(resellerId, siteId, kind);
      const next = step(before);
      if (!next || (before && JSON.stringify(next) === JSON.stringify(before))) return { before, after: before, changed: false };
      const after: Tracker = { ...next, version: (before?.version ?? 0) + 1 };
      // The site's first tracker of this kind: listed first, so no tracker is ever missing from the list.
      if (!before) await this.#listKind(resellerId, siteId, kind);
      try {
        await this.doc.send(
          new PutCommand({
            TableName: this.tableName,
            Item: { pk: sitePk(resellerId, siteId), sk: incidentSk(kind), ...after, ...indexKeys(after) },
            ConditionExpression: before ? '#version = :version' : 'attribute_not_exists(pk)',
            ...(before
              ? { ExpressionAttributeNames: { '#version': 'version' }, ExpressionAttributeValues: { ':version': before.version } }
              : {}),
          }),
        );
        return { before, after, changed: true };
      } catch (error) {
        if (!conditionFailed(error) || attempt >= attempts) throw error;
        await pause(attempt);
      }
    }
  }

  /**
   * Adds `kind` to the listing's `incidentKinds` (one UpdateItem, once per site and kind: a write that
   * finds it there already changes nothing); nothing if the listing has no such record (a listing
   * from before it was kept, whose trackers the fleet view reads by every kind) or no listing.
   */
  async #listKind(resellerId: string, siteId: string, kind: IncidentKind): Promise<void> {
    await unlessConditionFails(
      this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { pk: resellerPk(resellerId), sk: siteListingSk(siteId) },
          UpdateExpression: 'SET #kinds.#kind = :listed',
          ConditionExpression: 'attribute_exists(#kinds)',
          ExpressionAttributeNames: { '#kinds': incidentKindsAttribute, '#kind': kind },
          ExpressionAttributeValues: { ':listed': true },
        }),
      ),
    );
  }

  /** A reseller's incidents, newest first, from the index (eventually consistent: a second or so behind). */
  async list(
    resellerId: string,
    request: { cursor?: string | undefined; limit?: number | undefined; state?: string | undefined },
  ): Promise<Page<Tracker>> {
    const Cursor = z.strictObject({
      pk: z.string(),
      sk: z.string(),
      [incidentIndexKeys.partition]: z.literal(resellerId),
      [incidentIndexKeys.sort]: z.string(),
    });
    let start: Record<string, unknown> | undefined;
    if (request.cursor) {
      let json: unknown;
      try {
        json = JSON.parse(Buffer.from(request.cursor, 'base64url').toString('utf8'));
      } catch {
        throw new InvalidCursorError();
      }
      const parsed = Cursor.safeParse(json);
      if (!parsed.success) throw new InvalidCursorError();
      start = parsed.data;
    }
    const state = request.state;
    const filter = state === undefined ? undefined : state === 'unresolved' ? '#incident.#state <> :resolved' : '#incident.#state = :state';
    const { Items = [], LastEvaluatedKey } = await this.doc.send(
      new QueryCommand({
        TableName: this.tableName,
        IndexName: incidentIndexName,
        KeyConditionExpression: '#reseller = :reseller',
        ExpressionAttributeNames: {
          '#reseller': incidentIndexKeys.partition,
          ...(filter ? { '#incident': 'incident', '#state': 'state' } : {}),
        },
        ExpressionAttributeValues: {
          ':reseller': resellerId,
          ...(state === 'unresolved' ? { ':resolved': 'resolved' } : state !== undefined ? { ':state': state } : {}),
        },
        ...(filter ? { FilterExpression: filter } : {}),
        ScanIndexForward: false,
        Limit: request.limit ?? 50,
        ...(start ? { ExclusiveStartKey: start } : {}),
      }),
    );
    return {
      items: Items.map((item) => trackerFromItem(item)),
      nextCursor: LastEvaluatedKey ? Buffer.from(JSON.stringify(LastEvaluatedKey)).toString('base64url') : null,
    };
  }
}

/** The index keys of a tracker that has an incident: listed by reseller, newest opening first. */
function indexKeys(tracker: Tracker): Record<string, string> {
  if (!tracker.incident) return {};
  return {
    [incidentIndexKeys.partition]: tracker.resellerId,
    [incidentIndexKeys.sort]: `${iso(tracker.incident.openedAt)}#${tracker.siteId}#${tracker.kind}`,
  };
}
