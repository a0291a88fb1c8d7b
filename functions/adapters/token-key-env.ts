import * as z from 'zod/mini';
import '../../protocol/zod-locale.ts';
import { envPiece } from './env-settings.ts';
import { TokenKey } from './token-key.ts';

// Apart from env-settings.ts: token-key.ts brings the Secrets Manager client, which only the
// functions that sign or check tokens bundle.

/** The token-signing key itself (local mode), or the secret that holds it (Lambda). */
export type TokenKeySource = { key: Buffer } | { secretId: string };

export const tokenKeySourcePiece = envPiece(
  z
    .object({
      /** The key itself: local mode. */
      TIEBREAK_TOKEN_KEY: z.optional(TokenKey),
      /** Where the key is kept: Lambda (ARN or name of a Secrets Manager secret). */
      TIEBREAK_TOKEN_KEY_SECRET_ARN: z.optional(z.string().check(z.minLength(1))),
    })
    .check(
      z.refine((env) => (env.TIEBREAK_TOKEN_KEY === undefined) !== (env.TIEBREAK_TOKEN_KEY_SECRET_ARN === undefined), {
        message: 'set exactly one of TIEBREAK_TOKEN_KEY (the key, base64) and TIEBREAK_TOKEN_KEY_SECRET_ARN (a secret holding it)',
        path: ['TIEBREAK_TOKEN_KEY'],
      }),
    ),
  // The refinement above makes exactly one of the two present.
  (e): TokenKeySource => (e.TIEBREAK_TOKEN_KEY ? { key: e.TIEBREAK_TOKEN_KEY } : { secretId: e.TIEBREAK_TOKEN_KEY_SECRET_ARN ?? '' }),
);
