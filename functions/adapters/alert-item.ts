import * as z from 'zod/mini';
import { Severity } from '../../protocol/events.ts';
import '../../protocol/zod-locale.ts';
import type { Alert } from '../domain/alert-events.ts';
import { alertSk, alertSkPrefix, sitePk } from './tenancy-items.ts';

/** An alert's item: `pk = SITE#<reseller>#<site>`, `sk = ALERT#<integration>#<alert>`, the alert's fields beside the keys. */
export const alertKey = (alert: Pick<Alert, 'resellerId' | 'siteId' | 'integrationId' | 'alert'>) => ({
  pk: sitePk(alert.resellerId, alert.siteId),
  sk: alertSk(alert.integrationId, alert.alert),
});

const AlertItem = z.object({
  resellerId: z.string(),
  siteId: z.string(),
  integrationId: z.string(),
  integrationName: z.string(),
  alert: z.string(),
  raised: z.boolean(),
  severity: Severity,
  at: z.number(),
  webhookId: z.string(),
  type: z.string(),
  summary: z.optional(z.string()),
});

/** Reads an alert item back (the stream's images too); a malformed item is a bug, not bad input. */
export function alertFromItem(item: Record<string, unknown>): Alert {
  return AlertItem.parse(item);
}

export function isAlertSk(sk: string | undefined): boolean {
  return sk?.startsWith(alertSkPrefix) === true;
}
