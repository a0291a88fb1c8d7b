import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { logger } from '../adapters/logger.ts';
import { eachRecord } from '../jobs/sqs-records.ts';
import { type DelivererDeps, delivererDepsFromEnv } from '../adapters/deliverer-config.ts';
import { DeliveryJob, nextJob } from '../adapters/webhook-jobs.ts';
import type { MessageRecord } from '../adapters/webhook-message-item.ts';
import type { EndpointRecord } from '../adapters/webhook-endpoint-store.ts';
import { type AttemptOutcome, afterAttempt, signingSecrets } from '../domain/webhook-delivery.ts';

/**
 * What follows a recorded try: the next try scheduled, the dead-letter queue, the endpoint's
 * failing streak or its disabling. Done again when a job comes back after its try was recorded
 * (the run that recorded it may have stopped before this): each step is idempotent.
 */
async function followUp(deps: DelivererDeps, message: MessageRecord, endpoint: EndpointRecord | undefined): Promise<void> {
  const now = deps.now();
  const { resellerId, endpointId } = message;
  if (message.status === 'pending') await deps.jobs.schedule(nextJob(message), now);
  if (message.failure === 'exhausted') await deps.deadLetters.send(message);
  if (message.disabledEndpoint) await deps.endpointStore.disable(resellerId, endpointId, message.disabledEndpoint, now);
  const failedTry = message.status === 'pending' || message.failure === 'exhausted';
  if (failedTry && endpoint?.failingSince === null) await deps.endpointStore.markFailing(resellerId, endpointId, now);
  if (message.status === 'delivered' && endpoint && endpoint.failingSince !== null)
    await deps.endpointStore.clearFailing(resellerId, endpointId);
}

async function deliver(deps: DelivererDeps, job: DeliveryJob, redelivered: boolean): Promise<void> {
  const context = { endpointId: job.endpointId, messageId: job.messageId, round: job.round, attempt: job.attempt };
  if (job.dueAt > deps.now() + 1000) {
    // SQS holds a message 15 minutes at most: a longer wait goes round again.
    await deps.jobs.schedule(job, deps.now());
    return;
  }
  const message = await deps.messages.getMessage(job.resellerId, job.endpointId, job.messageId);
  if (message?.round !== job.round || message.attempts > job.attempt) {
    logger.info('webhook try skipped: the message has moved on (a replay, or a later try)', context);
    return;
  }
  const endpoint = await deps.endpoints.get(job.resellerId, job.endpointId, deps.now());
  if (message.attempts === job.attempt) {
    // This job's own earlier run recorded the try: finish what it may have left. A different job
    // for the same try (a duplicate) leaves it alone, or duplicates would shadow the retries.
    if (redelivered) await followUp(deps, message, endpoint);
    return;
  }
  if (message.status !== 'pending' || message.attempts !== job.attempt - 1) return;
  if (!endpoint) {
    logger.info('webhook try skipped: the endpoint was removed', context);
    return;
  }

  let outcome: AttemptOutcome = { kind: 'endpoint-disabled' };
  let line = null;
  if (endpoint.enabled) {
    const result = await deps.sender.send(
      { url: endpoint.url, messageId: message.messageId, body: message.payload, secrets: signingSecrets(endpoint.secrets, deps.now()) },
      new Date(deps.now()),
    );
    outcome = { kind: result.outcome };
    line = { messageId: message.messageId, round: job.round, attempt: job.attempt, at: deps.now(), ...result };
  }
  const after = afterAttempt(job.attempt, outcome, endpoint, deps.now(), deps.settings, deps.random());
  const recorded = await deps.messages.recordAttempt(message, job.round, after, line);
  if (!recorded) {
    logger.info('webhook try already recorded by another worker', context);
    return;
  }
  await followUp(deps, recorded, endpoint);
  logger.info(`webhook ${recorded.status === 'pending' ? 'try failed, will retry' : recorded.status}`, {
    ...context,
    status: line?.status,
    latencyMs: line?.latencyMs,
    error: line?.error,
    failure: recorded.failure,
    nextAttemptAt: recorded.nextAttemptAt,
    disabledEndpoint: recorded.disabledEndpoint,
  });
}

/**
 * The deliveries queue → HTTP. Each record is one try of one message (delayed by its backoff);
 * the batch's tries run at once. A try is recorded only if the message is still where the job
 * expects it, so duplicate jobs send at most a duplicate (same webhook-id), never fork the retries.
 */
export const webhookDelivererHandler = (getDeps: () => DelivererDeps | Promise<DelivererDeps>) =>
  middy<SQSEvent, SQSBatchResponse>()
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .handler(async (event) => {
      const deps = await getDeps();
      return eachRecord(event.Records, 'webhook job', async (record) => {
        const redelivered = Number(record.attributes.ApproximateReceiveCount) > 1;
        await deliver(deps, DeliveryJob.parse(JSON.parse(record.body)), redelivered);
      });
    });

export const handler = webhookDelivererHandler(delivererDepsFromEnv);
