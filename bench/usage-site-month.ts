/**
 * The cost bench's measurements as usage records (`usage.ts`): the measured site-day × 30 for each
 * part a site pays (the witness, the event path, the webhook path), and the silence detector's
 * month (the deployment's, whatever the number of sites). Counting only: no price here.
 */
import type { Invocation } from '../local/http-server.ts';
import { dynamoItemOverheadBytes, httpApiMeterBytes } from './prices.ts';
import type { EventPathDay, WebhookPathDay } from './event-path-usage.ts';
import { accessLogLine, linesBytes, type PlatformLogFormat, platformLogBytes } from './usage-modelled-logs.ts';
import { addUsage, daysPerMonth, type FunctionUsage, noUsage, type Usage } from './usage.ts';

/** What the stack deploys that the bill depends on. */
export interface StackFacts {
  memoryMb: number;
  retentionDays: number;
}

/** One witness request as the local server served it, with the log bytes its handler wrote. */
export interface MeasuredInvocation extends Invocation {
  logBytes: number;
}

export const billedMsOf = (durationMs: number): number => Math.max(1, Math.ceil(durationMs));
const retentionMonths = (stack: StackFacts) => stack.retentionDays / daysPerMonth;

/** The witness's measured day × 30: its functions as the local server ran them, the day's capacity units, the site's item. */
export function witnessMonth(day: {
  invocations: MeasuredInvocation[];
  writeUnits: number;
  readUnits: number;
  /** The site item's size at the day's end. */
  storedItemBytes: number;
  platformLogs: PlatformLogFormat;
  stack: StackFacts;
}): Usage {
  const functions: Record<string, FunctionUsage> = {};
  let accessLogBytes = 0;
  let apiRequests = 0;
  for (const i of day.invocations) {
    const f = (functions[i.functionName] ??= { invocations: 0, billedMs: 0, memoryMb: day.stack.memoryMb, logBytes: 0 });
    f.invocations++;
    f.billedMs += billedMsOf(i.durationMs);
    f.logBytes += i.logBytes + platformLogBytes(day.platformLogs, i.durationMs, day.stack.memoryMb);
    accessLogBytes += linesBytes([accessLogLine(i)]);
    apiRequests += httpApiUnits(i);
  }
  return {
    apiRequests: apiRequests * daysPerMonth,
    apiAccessLogBytes: accessLogBytes * daysPerMonth,
    functions: Object.fromEntries(Object.entries(functions).map(([name, f]) => [name, monthOf(f)])),
    dynamo: {
      writeUnits: day.writeUnits * daysPerMonth,
      readUnits: day.readUnits * daysPerMonth,
      storedBytes: day.storedItemBytes + dynamoItemOverheadBytes,
    },
    logRetentionMonths: retentionMonths(day.stack),
    sns: { publishes: 0, emails: 0 },
    sqsRequests: 0,
  };
}

/** HTTP API metering: one unit per started 512 KB of the larger of request and response. */
export const httpApiUnits = (i: Invocation): number =>
  Math.max(1, Math.ceil(Math.max(i.requestBytes, i.responseBytes) / httpApiMeterBytes));

const monthOf = (f: FunctionUsage): FunctionUsage => ({
  ...f,
  invocations: f.invocations * daysPerMonth,
  billedMs: f.billedMs * daysPerMonth,
  logBytes: f.logBytes * daysPerMonth,
});

/** A site-day of the event path × 30 (its functions at the stack's memory size; the audit trail it adds is kept: a month of it). */
export function eventPathMonth(d: EventPathDay, stack: StackFacts): Usage {
  return {
    ...noUsage(retentionMonths(stack)),
    functions: {
      'event path (publisher, incidents)': monthOf({
        invocations: d.publisherInvocations + d.incidentsInvocations,
        billedMs: d.billedMs,
        memoryMb: stack.memoryMb,
        logBytes: d.handlerLogBytes + d.platformLogBytes,
      }),
    },
    dynamo: { writeUnits: d.wru * daysPerMonth, readUnits: d.rru * daysPerMonth, storedBytes: d.storedBytesAdded * daysPerMonth },
    sns: { publishes: d.snsPublishesBilled * daysPerMonth, emails: d.snsEmails * daysPerMonth },
    sqsRequests: (d.sqsRequestsBilled + d.sqsConsumerModelled) * daysPerMonth,
  };
}

/** A site-day of one webhook variant × 30 (router, deliverer and the publisher's share; its items at steady state under their TTL). */
export function webhookMonth(d: WebhookPathDay, stack: StackFacts): Usage {
  return {
    ...noUsage(retentionMonths(stack)),
    functions: {
      [`webhook path ${d.variant} (router, deliverer, publisher share)`]: monthOf({
        invocations: d.invocations,
        billedMs: d.billedMs,
        memoryMb: stack.memoryMb,
        logBytes: d.handlerLogBytes + d.platformLogBytes,
      }),
    },
    dynamo: { writeUnits: d.wru * daysPerMonth, readUnits: d.rru * daysPerMonth, storedBytes: d.storedBytes },
    sns: { publishes: d.snsPublishesBilled * daysPerMonth, emails: 0 },
    sqsRequests: d.sqsRequestsBilled * daysPerMonth,
  };
}

/** A month of the silence detector (per deployment): a run a minute at the measured mean time, a bucket every `dueBucketMs`. */
export function detectorMonth(o: { meanMs: number; dueBucketMs: number; platformLogs: PlatformLogFormat; stack: StackFacts }): Usage {
  const runs = daysPerMonth * 1_440;
  const buckets = (daysPerMonth * 86_400_000) / o.dueBucketMs;
  return {
    ...noUsage(retentionMonths(o.stack)),
    functions: {
      'tiebreak-detect-silence': {
        invocations: runs,
        billedMs: runs * billedMsOf(o.meanMs),
        memoryMb: o.stack.memoryMb,
        logBytes: runs * platformLogBytes(o.platformLogs, o.meanMs, o.stack.memoryMb),
      },
    },
    // A bucket: its cursor UpdateItem (1 WRU); its Query (0.5 RRU: keys only, eventually consistent). A run: the cursor's consistent GetItem (1 RRU).
    dynamo: { writeUnits: buckets, readUnits: runs + buckets * 0.5, storedBytes: 0 },
  };
}

/** What a site pays a month, in parts: every site pays the witness, the event path and the webhook path with no endpoint. */
export interface SiteMonth {
  witness: Usage;
  eventPath: Usage;
  /** The outbox's router for a reseller with no endpoint: every site pays it. */
  webhookPath: Usage;
  /** The same with one endpoint (what an endpoint adds is this minus `webhookPath`): not in `total`. */
  webhookPathWithEndpoint: Usage;
  total: Usage;
}

export function siteMonth(parts: Omit<SiteMonth, 'total'>): SiteMonth {
  return { ...parts, total: addUsage(addUsage(parts.witness, parts.eventPath), parts.webhookPath) };
}

/** The usage record a run writes (`--usage-json`): no price in it. */
export interface UsageRecord {
  daysPerMonth: number;
  /** The fleet size the per-site month assumes (the publisher's batch fill depends on it). */
  fleetSites: number;
  perSiteMonth: SiteMonth;
  /** A site's month in fleets of other sizes (the publisher's batches fill otherwise). */
  perSiteMonthInFleet: Record<string, Usage>;
  perDeploymentMonth: { detector: Usage };
}
