import { type DepsSource, witnessDepsFromEnv } from '../adapters/config.ts';
import { logger } from '../adapters/logger.ts';
import { decideHeartbeat, heartbeatResponse, planHeartbeat } from '../domain/heartbeat.ts';
import { HeartbeatRequest } from '../../protocol/node.ts';
import { nodeEndpoint } from '../http/node-endpoint.ts';
import { retryConditionalWrite } from '../http/retry-conditional-write.ts';

/**
 * POST /v1/node/heartbeat. One write, no read: the write is planned from what the node believes
 * (and, for survivor mode, from this process's last sight of the site); only when its guard fails
 * (a stale belief or sight, a stale request, a revoked token) is the state it returns used to decide
 * again. A node reporting its peer unreachable with no sight of the site reads it first: whether a
 * primary excludes that peer (W5), and whether a secondary's report makes the primary lost (its
 * lapse recorded for the SLA report), depend on when the witness last heard it.
 */
export const heartbeatHandler = (getDeps: DepsSource) =>
  nodeEndpoint(HeartbeatRequest, getDeps, async ({ caller, input }, { store, settings, now }) => {
    const at = now();
    const reportsPeerLost = input.peer?.reachable === false;
    const known = store.recent(caller) ?? (reportsPeerLost ? await store.load(caller) : undefined);
    const result = await store.apply(caller, planHeartbeat(caller, input, at, settings, known));
    if (result.ok) {
      logger.debug('heartbeat applied', { role: input.role, epoch: result.state.epoch, renewed: input.role === 'primary' });
      if (result.state.exclusion && !known?.exclusion)
        logger.info('peer excluded: the lease is standalone', { excluded: result.state.exclusion });
      if (result.state.lapsed && !known?.lapsed) logger.info('the primary is lost: its lease lapsed', { lapsed: result.state.lapsed });
      return heartbeatResponse(result.state, caller, input, settings, input.role === 'primary', at);
    }
    return retryConditionalWrite(
      store,
      caller,
      result.current,
      (state) => decideHeartbeat(state, caller, input, at, settings),
      'heartbeat',
    );
  });

export const handler = heartbeatHandler(witnessDepsFromEnv);
