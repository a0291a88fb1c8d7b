import { type DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { WitnessEvent } from '../../protocol/events.ts';
import '../../protocol/zod-locale.ts';
import { conditionFailed } from './conditions.ts';
import { type Page, type PageRequest, queryPage } from './pagination.ts';
import { eventSk, iso, sitePk } from './tenancy-items.ts';

/**
 * Each site's audit trail: its events in the site's partition, by time (`EVENT#<ISO time>#<id>`).
 * Written by the event publisher, read by the reseller API and the SLA report.
 */
export class AuditTrail {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  /** Appends an event to the site's audit trail; a repeat of the same event (at-least-once delivery) changes nothing. */
  async appendEvent(event: WitnessEvent): Promise<void> {
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { pk: sitePk(event.data.resellerId, event.data.siteId), sk: eventSk(event.timestamp, event.id), ...event },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
    } catch (error) {
      if (!conditionFailed(error)) throw error;
    }
  }

  async listEvents(resellerId: string, siteId: string, request: PageRequest, from: number, to: number): Promise<Page<WitnessEvent>> {
    const page = await queryPage(this.doc, this.tableName, sitePk(resellerId, siteId), 'EVENT#', request, {
      from: `EVENT#${iso(from)}`,
      to: `EVENT#${iso(to)}`,
    });
    return { items: page.items.map(({ pk: _pk, sk: _sk, ...event }) => WitnessEvent.parse(event)), nextCursor: page.nextCursor };
  }

  /** Every event of the site up to `to` (the report needs who was primary when the period began). */
  async eventsUntil(resellerId: string, siteId: string, to: number): Promise<WitnessEvent[]> {
    const events: WitnessEvent[] = [];
    let cursor: string | undefined;
    do {
      const page = await this.listEvents(resellerId, siteId, { cursor, limit: 100 }, 0, to);
      events.push(...page.items);
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    return events;
  }
}
