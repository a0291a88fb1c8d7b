import * as z from 'zod/mini';
import './zod-locale.ts';

/** How urgent an event or an incident is: every event's `data.severity`, and what an incident pages as. */
export const Severity = z.enum(['info', 'warning', 'critical']);
export type Severity = z.infer<typeof Severity>;
