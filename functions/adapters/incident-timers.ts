import type { SQSClient } from '@aws-sdk/client-sqs';
import * as z from 'zod/mini';
import { Identifier } from '../../protocol/ids.ts';
import { IncidentKind } from '../../protocol/incidents.ts';
import '../../protocol/zod-locale.ts';
import type { Timer } from '../domain/incidents.ts';
import { DelayedQueue } from './delayed-queue.ts';

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

/** Incident timers as delayed messages on the incidents queue (a timer due later than 15 min is re-armed on arrival). */
export class IncidentTimers {
  private readonly queue: DelayedQueue<TimerMessage>;

  constructor(sqs: SQSClient, queueUrl: string) {
    this.queue = new DelayedQueue(sqs, queueUrl);
  }

  async arm(message: TimerMessage, now: number): Promise<void> {
    await this.queue.send(message, message.timer.dueAt, now);
  }
}

export function timerMessage(site: { resellerId: string; siteId: string; kind: IncidentKind }, timer: Timer): TimerMessage {
  return { timer, resellerId: site.resellerId, siteId: site.siteId, kind: site.kind };
}
