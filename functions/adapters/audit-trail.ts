import { type DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { StoredEvent } from '../../protocol/events.ts';
import '../../protocol/zod-locale.ts';
import { conditionFailed } from './conditions.ts';
import { type Page, type PageRequest, queryPage } from './pagination.ts';
import { dayMs, defaultRetention } from './retention.ts';
import { eventSk, eventSkPrefix, iso, sitePk, ttlSeconds } from './tenancy-items.ts';

/**
 * Each site's audit trail: its events in the site's partition, by time (`EVENT#<ISO time>#<id>`).
 * Written by the event publisher, read by the reseller API and the SLA report. Each event is kept
 * `retentionDays` after it happened (`expiresAt`, the table's TTL), then DynamoDB deletes it.
 */
export class AuditTrail {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
    readonly retentionDays: number = defaultRetention.auditTrailDays,
  ) {}

  /**
   * Appends an event to the site's audit trail; a repeat of the same event (at-least-once delivery) changes nothing.
   * It expires `retentionDays` after its own time (which the publisher writes it at, give or take a
   * stream's lag), so that "before now − retention" is exactly what a report may have lost.
   */
  async appendEvent(event: StoredEvent): Promise<void> {
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.tableName,
          Item: {
            pk: sitePk(event.data.resellerId, event.data.siteId),
            sk: eventSk(event.timestamp, event.id),
            ...event,
            expiresAt: ttlSeconds(Date.parse(event.timestamp) + this.retentionDays * dayMs),
          },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
    } catch (error) {
      if (!conditionFailed(error)) throw error;
    }
  }

  /** The site's events in [from, to] by time; those expired at `now` are left out (DynamoDB deletes them only later). */
  async listEvents(
    resellerId: string,
    siteId: string,
    request: PageRequest,
    from: number,
    to: number,
    now: number,
  ): Promise<Page<StoredEvent>> {
    const range = { from: `${eventSkPrefix}${iso(from)}`, to: `${eventSkPrefix}${iso(to)}` };
    const page = await queryPage(this.doc, this.tableName, sitePk(resellerId, siteId), eventSkPrefix, request, range, { liveAt: now });
    return { items: page.items.map(({ pk: _pk, sk: _sk, ...event }) => StoredEvent.parse(event)), nextCursor: page.nextCursor };
  }

  /** Every event of the site up to `to` (the report needs who was primary when the period began). */
  async eventsUntil(resellerId: string, siteId: string, to: number, now: number): Promise<StoredEvent[]> {
    const events: StoredEvent[] = [];
    let cursor: string | undefined;
    do {
      const page = await this.listEvents(resellerId, siteId, { cursor, limit: 100 }, 0, to, now);
      events.push(...page.items);
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    return events;
  }
}
