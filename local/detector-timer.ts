import type { Context, ScheduledEvent } from 'aws-lambda';
import { lambdaContext } from './api-gateway-event.ts';

export type ScheduledHandler<R> = (event: ScheduledEvent, context: Context) => Promise<R>;

export interface DetectorTimer {
  /** Stops the timer, after the run under way if any. */
  stop(): Promise<void>;
}

/** An EventBridge scheduled event, as Lambda hands one to its target. */
function scheduledEvent(at: Date): ScheduledEvent {
  return {
    version: '0',
    id: `local-${String(at.getTime())}`,
    'detail-type': 'Scheduled Event',
    source: 'aws.events',
    account: '000000000000',
    time: at.toISOString(),
    region: 'local',
    resources: ['arn:aws:events:local:000000000000:rule/tiebreak-detector'],
    detail: {},
  };
}

/**
 * What the EventBridge schedule does in AWS, on this machine: hands the same handler (the silence
 * detector) a scheduled event every `intervalMs`, one run at a time. A run that fails is logged;
 * the next one comes as scheduled, as in AWS.
 */
export function startDetectorTimer<R>(options: {
  handler: ScheduledHandler<R>;
  intervalMs?: number;
  functionName?: string;
}): DetectorTimer {
  const intervalMs = options.intervalMs ?? 60_000;
  const functionName = options.functionName ?? 'tiebreak-detector';
  // One run at a time here (EventBridge may overlap two slow runs; the cursor's condition stops the second).
  let chain: Promise<unknown> = Promise.resolve();
  const timer = setInterval(() => {
    const at = new Date();
    chain = chain
      .then(() => options.handler(scheduledEvent(at), lambdaContext(functionName, `detector-${String(at.getTime())}`)))
      .catch((error: unknown) => {
        console.error('detector timer: a run failed; the next one comes as scheduled', error);
      });
  }, intervalMs);
  return {
    async stop() {
      clearInterval(timer);
      await chain;
    },
  };
}
