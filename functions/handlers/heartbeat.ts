import { type DepsSource, witnessDepsFromEnv } from '../adapters/config.ts';
import { logger } from '../adapters/logger.ts';
import { decideHeartbeat, heartbeatResponse, planHeartbeat } from '../domain/heartbeat.ts';
import { HeartbeatRequest } from '../../protocol/node.ts';
import { nodeEndpoint } from './node-endpoint.ts';
import { settle } from './settle.ts';

/**
 * POST /v1/node/heartbeat. One write, no read: the write is planned from what the node believes;
 * only when its guard fails (a stale belief, a stale request, a revoked token) is the state it
 * returns used to decide again.
 */
export const heartbeatHandler = (getDeps: DepsSource) =>
  nodeEndpoint(HeartbeatRequest, getDeps, async ({ caller, input }, { store, settings, now }) => {
    const at = now();
    const result = await store.apply(caller, planHeartbeat(caller, input, at, settings));
    if (result.ok) {
      logger.debug('heartbeat applied', { role: input.role, epoch: result.state.epoch, renewed: input.role === 'primary' });
      return heartbeatResponse(result.state, caller, input, settings, input.role === 'primary');
    }
    return settle(store, caller, result.current, (state) => decideHeartbeat(state, caller, input, at, settings), 'heartbeat');
  });

export const handler = heartbeatHandler(witnessDepsFromEnv);
