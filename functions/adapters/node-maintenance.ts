import { type DynamoDBDocumentClient, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import type { Caller } from '../domain/decision.ts';
import { conditionFailed } from './conditions.ts';
import { siteKey } from './site-item.ts';
import { iso, maintenanceRetentionMs, maintenanceSk, sitePk, ttlSeconds } from './tenancy-items.ts';

export interface NodeMaintenanceWindow {
  windowId: string;
  start: number;
  end: number;
  reason: string;
}

/**
 * Maintenance windows an agent declares for its own site. The window is written together with a
 * check of the node's token version on the site's state item (one transaction), so a revoked
 * token declares nothing: authentication still costs no read.
 */
export class NodeMaintenanceStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  /** Declares the window; false if the node's token is no longer valid. */
  async declare(caller: Caller, window: NodeMaintenanceWindow): Promise<boolean> {
    try {
      await this.doc.send(
        new TransactWriteCommand({
          TransactItems: [
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
                Item: {
                  pk: sitePk(caller.resellerId, caller.siteId),
                  sk: maintenanceSk(iso(window.start), window.windowId),
                  ...window,
                  requestedBy: caller.nodeId,
                  expiresAt: ttlSeconds(window.end + maintenanceRetentionMs),
                },
                ConditionExpression: 'attribute_not_exists(pk)',
              },
            },
          ],
        }),
      );
      return true;
    } catch (error) {
      if (conditionFailed(error)) return false;
      throw error;
    }
  }
}
