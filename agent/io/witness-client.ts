import * as z from 'zod';
import { ErrorBody } from '../../protocol/errors.ts';
import { ClaimResponse, HeartbeatResponse, type MaintenanceRequest, MaintenanceResponse } from '../../protocol/node.ts';
import { nodePaths } from '../../protocol/node-routes.ts';
import { fetchFailureCause } from './fetch-failure.ts';

/** Where the witness could not be reached, and why (`connect ECONNREFUSED 127.0.0.1:8787`). */
export interface Unreachable {
  url: string;
  cause: string;
}

export type WitnessResult<T> =
  | { ok: true; body: T }
  /** `unreachable`: no answer came (status null). */
  | { ok: false; status: number | null; code: string | null; unreachable?: Unreachable };

/** Posts one request to the witness; any failure (network, timeout, 4xx/5xx, bad body) is a value. */
async function post<S extends z.core.$ZodType>(
  url: string,
  token: string,
  body: unknown,
  schema: S,
  timeoutMs: number,
): Promise<WitnessResult<z.output<S>>> {
  try {
    const response = await fetch(url, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(timeoutMs),
    });
    const json: unknown = await response.json().catch(() => undefined);
    if (response.ok) {
      // The protocol's schemas are zod/mini ones (shared with the Lambda functions): parsed with the function form.
      const parsed = z.safeParse(schema, json);
      return parsed.success ? { ok: true, body: parsed.data } : { ok: false, status: response.status, code: 'bad-response' };
    }
    const error = ErrorBody.safeParse(json);
    return { ok: false, status: response.status, code: error.success ? error.data.error.code : null };
  } catch (error) {
    return {
      ok: false,
      status: null,
      code: error instanceof Error ? error.name : 'error',
      unreachable: { url, cause: fetchFailureCause(error, timeoutMs) },
    };
  }
}

export class WitnessClient {
  constructor(
    private readonly baseUrl: string,
    private readonly token: string,
    private readonly timeoutMs: number,
  ) {}

  heartbeat(request: unknown): Promise<WitnessResult<HeartbeatResponse>> {
    return post(new URL(nodePaths.heartbeat, this.baseUrl).href, this.token, request, HeartbeatResponse, this.timeoutMs);
  }

  claim(request: unknown): Promise<WitnessResult<ClaimResponse>> {
    return post(new URL(nodePaths.claim, this.baseUrl).href, this.token, request, ClaimResponse, this.timeoutMs);
  }

  /** Declares a maintenance window for the site from now: nobody is paged for what happens inside it. */
  maintenance(request: MaintenanceRequest): Promise<WitnessResult<MaintenanceResponse>> {
    return post(new URL(nodePaths.maintenance, this.baseUrl).href, this.token, request, MaintenanceResponse, this.timeoutMs);
  }
}
