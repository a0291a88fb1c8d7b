import { apiDepsFromEnv, type ApiBaseDeps } from '../adapters/api-config.ts';
import { channelsFunctionDeps, type ChannelsDeps } from '../adapters/channels-config.ts';
import { apiHandler, type FunctionImplementations } from '../http/api-handler.ts';
import { channelRoutes } from '../http/api/channels.ts';
import { escalationRoutes } from '../http/api/escalation.ts';

/**
 * The routes that make or use the resellers' channels (apiFunctionRoutes.channels): a new
 * reseller's SQS queue and SNS topic, its service queue, and escalation policies subscribing to
 * its topic. The one api function with the SQS and SNS clients.
 */
export const channelsImplementations: FunctionImplementations<'channels', ApiBaseDeps & ChannelsDeps> = {
  ...channelRoutes,
  ...escalationRoutes,
};

export const handler = apiHandler(apiDepsFromEnv(channelsFunctionDeps), channelsImplementations);
