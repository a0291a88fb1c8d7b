import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import * as z from 'zod/mini';
import { Identifier } from '../../protocol/ids.ts';
import { IncidentKind } from '../../protocol/incidents.ts';
import '../../protocol/zod-locale.ts';
import type { Timer } from '../domain/incidents.ts';

/** SQS delays a message by at most 15 minutes: a timer due later is re-armed on arrival for the rest. */
export const maxDelaySeconds = 900;

export const TimerMessage = z.object({
  timer: z.discriminatedUnion('type', [
    z.object({ type: z.literal('escalate'), incidentId: z.string(), step: z.number(), dueAt: z.number() }),
    z.object({ type: z.literal('settle'), incidentId: z.string(), dueAt: z.number() }),
  ]),
  resellerId: Identifier,
  siteId: Identifier,
  kind: IncidentKind,
});
export type TimerMessage = z.infer<typeof TimerMessage>;

/**
 * Incident timers as delayed SQS messages on the incidents queue: they outlive any process, and
 * the queue retries them until handled. No in-memory timeout anywhere.
 */
export class IncidentTimers {
  constructor(
    private readonly sqs: SQSClient,
    private readonly queueUrl: string,
  ) {}

  async arm(message: TimerMessage, now: number): Promise<void> {
    const delaySeconds = Math.min(maxDelaySeconds, Math.max(0, Math.ceil((message.timer.dueAt - now) / 1000)));
    await this.sqs.send(new SendMessageCommand({ QueueUrl: this.queueUrl, MessageBody: JSON.stringify(message), DelaySeconds: delaySeconds }));
  }
}

export function timerMessage(site: { resellerId: string; siteId: string; kind: IncidentKind }, timer: Timer): TimerMessage {
  return { timer, resellerId: site.resellerId, siteId: site.siteId, kind: site.kind };
}
