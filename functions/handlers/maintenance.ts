import { type DepsSource, witnessDepsFromEnv } from '../adapters/config.ts';
import { newId } from '../adapters/credentials.ts';
import { logger } from '../adapters/logger.ts';
import { iso } from '../adapters/tenancy-items.ts';
import { MaintenanceRequest, type MaintenanceResponse } from '../../protocol/node.ts';
import { HttpError } from '../http/http-error.ts';
import { nodeEndpoint } from '../http/node-endpoint.ts';

/** POST /v1/node/maintenance: the agent declares a window for its own site, from now, for `minutes`. */
export const maintenanceHandler = (getDeps: DepsSource) =>
  nodeEndpoint(MaintenanceRequest, getDeps, async ({ caller, input }, { maintenance, now }): Promise<MaintenanceResponse> => {
    const start = now();
    const declaredBy = { kind: 'node', nodeId: caller.nodeId } as const;
    const window = { windowId: newId(), start, end: start + input.minutes * 60_000, reason: input.reason, declaredAt: start, declaredBy };
    if (!(await maintenance.declare(caller, window))) throw new HttpError(401, 'token-revoked', 'this node token is no longer valid');
    logger.info('maintenance window declared by the agent', {
      siteId: caller.siteId,
      nodeId: caller.nodeId,
      windowId: window.windowId,
      minutes: input.minutes,
    });
    return { windowId: window.windowId, start: iso(window.start), end: iso(window.end), reason: window.reason };
  });

export const handler = maintenanceHandler(witnessDepsFromEnv);
