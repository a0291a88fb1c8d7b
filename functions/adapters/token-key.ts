import { getSecret } from '@aws-lambda-powertools/parameters/secrets';
import * as z from 'zod/mini';
import '../../protocol/zod-locale.ts';

/** A token-signing key as configured: base64 of at least 32 bytes. */
export const TokenKey = z
  .pipe(
    z.string(),
    z.transform((s: string) => Buffer.from(s, 'base64')),
  )
  .check(z.refine((key) => key.length >= 32, 'must be at least 32 bytes, base64'));

/** Reads a secret's value by ARN or name. In Lambda: Secrets Manager, through Powertools Parameters. */
export type SecretReader = (secretId: string) => Promise<unknown>;

const secretsManager: SecretReader = (secretId) => getSecret(secretId);

/**
 * The token-signing key kept in Secrets Manager as a base64 string (the CDK stack generates 64
 * letters and digits: valid base64 of 48 random bytes). Read once per cold start by the caller.
 */
export async function tokenKeyFromSecret(secretId: string, read: SecretReader = secretsManager): Promise<Buffer> {
  const value = await read(secretId);
  if (typeof value !== 'string') throw new Error(`token key secret ${secretId}: expected a base64 string value`);
  const key = TokenKey.safeParse(value);
  if (!key.success) throw new Error(`token key secret ${secretId}: ${key.error.issues.map((i) => i.message).join('; ')}`);
  return key.data;
}
