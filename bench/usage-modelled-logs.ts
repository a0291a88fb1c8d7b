/**
 * Log lines the cost bench cannot catch offline, modelled on their documented formats with the
 * day's measured values in them: Lambda's own events per invocation, and the HTTP API's access log
 * line per request. Only their sizes go into the usage record.
 */
import { randomUUID } from 'node:crypto';
import type { Invocation } from '../local/http-server.ts';

export type PlatformLogFormat = 'json' | 'text' | 'none';

/** The witness's virtual clock starts here (as TestClock does); the modelled lines carry it. */
export const serverOrigin = 1_800_000_000_000;
/** "Max Memory Used" in the modelled report line: two digits, as a small Node function uses. */
const modelledMaxMemoryMb = 90;

export const platformFormatNote = {
  json: 'JSON (lib/witness-function.ts: loggingFormat JSON, system log level INFO by default): platform.start and platform.report per invocation',
  text: 'text: START, END and REPORT lines per invocation',
  none: 'none (JSON format with the system log level at WARN drops them)',
} as const satisfies Record<PlatformLogFormat, string>;

/**
 * Lambda's own log events per invocation, as CloudWatch receives them: modelled on Lambda's
 * documented formats (they cannot be measured here), with the measured duration in them.
 */
export function platformLogLines(format: PlatformLogFormat, durationMs: number, memoryMb: number): string[] {
  const requestId = randomUUID();
  const billed = Math.max(1, Math.ceil(durationMs));
  const duration = Math.round(durationMs * 100) / 100;
  const time = new Date(serverOrigin).toISOString();
  switch (format) {
    case 'none':
      return [];
    case 'text':
      return [
        `START RequestId: ${requestId} Version: $LATEST`,
        `END RequestId: ${requestId}`,
        `REPORT RequestId: ${requestId}\tDuration: ${duration.toFixed(2)} ms\tBilled Duration: ${billed} ms\tMemory Size: ${memoryMb} MB\tMax Memory Used: ${modelledMaxMemoryMb} MB\t`,
      ];
    case 'json':
      return [
        JSON.stringify({ time, type: 'platform.start', record: { requestId, version: '$LATEST' } }),
        JSON.stringify({
          time,
          type: 'platform.report',
          record: {
            requestId,
            metrics: { durationMs: duration, billedDurationMs: billed, memorySizeMB: memoryMb, maxMemoryUsedMB: modelledMaxMemoryMb },
            status: 'success',
          },
        }),
      ];
  }
}

/** Bytes of Lambda's own events for one invocation of `durationMs`. */
export const platformLogBytes = (format: PlatformLogFormat, durationMs: number, memoryMb: number): number =>
  linesBytes(platformLogLines(format, durationMs, memoryMb));

/**
 * The HTTP API's access log line for one request: the fields of lib/node-api.ts's
 * `accessLogFields` (copied here: lib/ does not export them), filled as API Gateway fills them
 * (`-` for an empty variable), with the measured route, status and response length.
 */
export function accessLogLine(invocation: Invocation): string {
  const routeKey = invocation.functionName === 'tiebreak-claim' ? 'POST /v1/node/claim' : 'POST /v1/node/heartbeat';
  return JSON.stringify({
    requestId: 'Xk3aBhb0IAMEbJw=',
    time: String(serverOrigin),
    ip: '203.0.113.120',
    routeKey,
    status: String(invocation.status),
    responseLength: String(invocation.responseBytes),
    latencyMs: '12',
    integrationLatencyMs: '10',
    integrationStatus: String(invocation.status),
    integrationError: '-',
    error: '-',
  });
}

export const linesBytes = (lines: string[]): number => lines.reduce((sum, line) => sum + Buffer.byteLength(line), 0);
