import * as z from 'zod';

export const ErrorCode = z.enum([
  'invalid-json',
  'invalid-body',
  'unauthorized',
  'token-revoked',
  'forbidden',
  'not-found',
  'conflict',
  // Survivor mode's operator routes (409): why a forced failover or a readmission is refused.
  'not-in-survivor-mode',
  'not-excluded',
  'survivor-heard',
  'confirmation-mismatch',
  // Enrollment (400): the code is another node's; its own code so the agent can tell its technician so (invalid-body: a malformed request).
  'wrong-node',
  // Maintenance windows (422): the SLA record is not rewritten after the fact.
  'maintenance-in-past',
  'maintenance-started',
  'maintenance-ended',
  // Webhooks (409): a test of a disabled endpoint would mislead (it is not sent to until enabled).
  'endpoint-disabled',
  // Inbound hooks (403): a bearer token is accepted over HTTPS only.
  'https-required',
  'method-not-allowed',
  'stale-request',
  'payload-too-large',
  'rate-limited',
  'unavailable',
  'internal',
]);
export type ErrorCode = z.infer<typeof ErrorCode>;

export const ErrorBody = z.object({
  error: z.object({
    code: ErrorCode,
    message: z.string(),
    details: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
  }),
});
export type ErrorBody = z.infer<typeof ErrorBody>;
