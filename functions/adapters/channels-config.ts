import type { SNSClient } from '@aws-sdk/client-sns';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { type ApiBaseDeps, apiBaseDeps, type ApiDeps, type ApiDepsOptions } from './api-config.ts';
import { documentClient } from './dynamo-clients.ts';
import { EscalationStore } from './escalation-store.ts';
import { snsClient, sqsClient } from './messaging-clients.ts';
import { ResellerChannels } from './reseller-channels.ts';

/** The channels function's own deps (protocol/api-routes.ts apiFunctionRoutes.channels): the resellers' queues and topics, and the escalation policies that subscribe to them. */
export type ChannelsDeps = Pick<ApiDeps, 'channels' | 'escalation'>;

export type ChannelsDepsOptions = ApiDepsOptions & {
  /** Given, or made for `endpoints` by the client factory. */
  sqs?: SQSClient;
  sns?: SNSClient;
};

export function channelsDeps(options: ChannelsDepsOptions): ChannelsDeps {
  const endpoints = options.endpoints ?? {};
  return {
    channels: new ResellerChannels(options.sqs ?? sqsClient(endpoints), options.sns ?? snsClient(endpoints), options.channelPrefix),
    escalation: new EscalationStore(documentClient(options.dynamo), options.tableName),
  };
}

/** The channels function's assembly (SQS and SNS: the only api function that bundles them). */
export function channelsFunctionDeps(options: ChannelsDepsOptions): ApiBaseDeps & ChannelsDeps {
  return { ...apiBaseDeps(options), ...channelsDeps(options) };
}
