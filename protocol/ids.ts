import * as z from 'zod/mini';
import './zod-locale.ts';

// Identifiers travel in tokens, DynamoDB keys and log lines: keep them short and plain.
// zod/mini (the Lambda bundles stay small); classic schemas (the agent's) embed them as they are.
// Never a name every object already has (`constructor`): ids are keys of plain objects (a site's nodes).
export const Identifier = z.string().check(
  z.regex(/^[a-z0-9][a-z0-9-]{0,47}$/, 'lowercase letters, digits and dashes, at most 48'),
  z.refine((id) => !(id in Object.prototype), 'a reserved name'),
);
export const CommandId = z.string().check(z.regex(/^[A-Za-z0-9._:-]{1,80}$/, 'letters, digits and . _ : -, at most 80'));
