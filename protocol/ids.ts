import * as z from 'zod';

// Identifiers travel in tokens, DynamoDB keys and log lines: keep them short and plain.
export const Identifier = z.string().regex(/^[a-z0-9][a-z0-9-]{0,47}$/, 'lowercase letters, digits and dashes, at most 48');
export const CommandId = z.string().regex(/^[A-Za-z0-9._:-]{1,80}$/, 'letters, digits and . _ : -, at most 80');
