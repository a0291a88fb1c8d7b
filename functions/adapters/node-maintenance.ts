import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Caller } from '../domain/decision.ts';
import { writeWithListingWindows } from './listing-windows.ts';
import { siteKey } from './site-item.ts';
import type { MaintenanceRecord } from './site-admin-store.ts';
import { maintenanceItem } from './tenancy-items.ts';

/**
 * Maintenance windows an agent declares for its own site. The window is written together with a
 * check of the node's token version on the site's state item (one transaction), so a revoked
 * token declares nothing: the token is checked by the write, not by a read. The same transaction
 * records the window on the site's listing for the fleet view (listing-windows.ts), which reads
 * the listing first, whatever the token (to drop the windows that have ended): one GetItem.
 */
export class NodeMaintenanceStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  /** Declares the window (it starts now: `window.start`); false if the node's token is no longer valid. */
  async declare(caller: Caller, window: MaintenanceRecord): Promise<boolean> {
    return writeWithListingWindows(this.doc, this.tableName, caller, { set: window }, window.start, [
      {
        ConditionCheck: {
          TableName: this.tableName,
          Key: siteKey(caller),
          ConditionExpression: '#nodes.#node.#version = :version',
          ExpressionAttributeNames: { '#nodes': 'nodes', '#node': caller.nodeId, '#version': 'tokenVersion' },
          ExpressionAttributeValues: { ':version': caller.tokenVersion },
        },
      },
      {
        Put: {
          TableName: this.tableName,
          Item: maintenanceItem(caller.resellerId, caller.siteId, window),
          ConditionExpression: 'attribute_not_exists(pk)',
        },
      },
    ]);
  }
}
