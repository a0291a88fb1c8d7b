import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type { ScheduledEvent } from 'aws-lambda';
import { type DetectorDeps, detectorDepsFromEnv } from '../adapters/detector-config.ts';
import { logger } from '../adapters/logger.ts';
import { type DetectorRun, detectSilence } from '../jobs/detect-silence.ts';

/**
 * The silence detector (DESIGN.md, "Events"): run every minute by an EventBridge schedule in AWS,
 * by a timer locally (local/detector-timer.ts). It marks silent sites on their state items; the
 * table's stream turns each mark into `site.down`, and the next contact into `site.recovered`.
 */
export const detectorHandler = (getDeps: () => DetectorDeps | Promise<DetectorDeps>) =>
  middy<ScheduledEvent, DetectorRun>()
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .handler(async () => {
      const run = await detectSilence(await getDeps());
      // A quiet minute is the common case: at debug, so that it costs no log line.
      const noteworthy = run.marked + run.refiled + run.raced > 0 || run.stopped !== null;
      if (noteworthy) logger.info('silence detector ran', { ...run });
      else logger.debug('silence detector ran', { ...run });
      return run;
    });

export const handler = detectorHandler(detectorDepsFromEnv);
