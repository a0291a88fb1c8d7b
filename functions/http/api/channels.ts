import { defaultTargets } from '../../../protocol/reseller.ts';
import type { ApiDeps } from '../../adapters/api-config.ts';
import { apiKeyView, resellerView } from '../../adapters/reseller-store.ts';
import { logger } from '../../adapters/logger.ts';
import { HttpError } from '../http-error.ts';
import { type ApiImplementations, notFound, resellerOf } from './call.ts';
import { newKeyRecord } from './resellers.ts';

/** The resellers' channels (an SQS service queue and an SNS alerts topic each): made with the reseller, and read back. */
export type ChannelRouteDeps = Pick<ApiDeps, 'resellers' | 'channels'>;

export const channelRoutes = {
  'POST /v1/resellers': async ({ body, deps, now }) => {
    // Channels first (creating them again changes nothing): a retry after a failure, or for a
    // reseller that exists already, still leaves the reseller with its queue and topic.
    const channels = await deps.channels.ensure(body.resellerId);
    logger.info('reseller channels ensured', { resellerId: body.resellerId, queueUrl: channels.queueUrl });
    const reseller = {
      resellerId: body.resellerId,
      name: body.name,
      targets: body.targets ?? defaultTargets,
      ...(body.timeZone ? { timeZone: body.timeZone } : {}),
      createdAt: now,
    };
    const first = newKeyRecord(body.resellerId, 'first key', 'read-write', now);
    if (!(await deps.resellers.createReseller(reseller, first.record))) {
      throw new HttpError(409, 'conflict', `reseller ${body.resellerId} exists already`);
    }
    logger.info('reseller created', { resellerId: body.resellerId });
    return { reseller: resellerView(reseller), apiKey: { ...apiKeyView(first.record), secret: first.key } };
  },

  'GET /v1/reseller/service-queue': async (call) => {
    const resellerId = resellerOf(call);
    try {
      return await call.deps.channels.serviceQueue(resellerId);
    } catch (error) {
      // A reseller made before channels existed: POST /v1/resellers again makes them (and changes nothing else).
      if (error instanceof Error && error.name === 'QueueDoesNotExist') throw notFound("the reseller's service queue");
      throw error;
    }
  },
} satisfies Partial<ApiImplementations<ChannelRouteDeps>>;
