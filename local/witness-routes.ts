import type { WitnessDeps } from '../functions/adapters/config.ts';
import { claimHandler } from '../functions/handlers/claim.ts';
import { heartbeatHandler } from '../functions/handlers/heartbeat.ts';
import { maintenanceHandler } from '../functions/handlers/maintenance.ts';
import { type NodeRouteKey, nodeRouteKeys } from '../protocol/node-routes.ts';
import type { Routes } from './http-server.ts';

/** The witness's routes, as the HTTP API in AWS declares them: those of protocol/node-routes.ts, no more and no fewer. */
export function witnessRoutes(deps: WitnessDeps): Routes {
  const getDeps = () => deps;
  return {
    [nodeRouteKeys.heartbeat]: { functionName: 'tiebreak-heartbeat', handler: heartbeatHandler(getDeps) },
    [nodeRouteKeys.claim]: { functionName: 'tiebreak-claim', handler: claimHandler(getDeps) },
    [nodeRouteKeys.maintenance]: { functionName: 'tiebreak-maintenance', handler: maintenanceHandler(getDeps) },
  } satisfies Record<NodeRouteKey, Routes[string]>;
}
