/**
 * Where the tenancy lives in the one table (pk, sk). A reseller's own records share its
 * partition, so a list is one Query and no key of one reseller can name another's record.
 *
 * | record            | pk                    | sk                          |
 * | ----------------- | --------------------- | --------------------------- |
 * | reseller          | RESELLERS             | RESELLER#<reseller>         |
 * | API key           | RESELLER#<reseller>   | APIKEY#<keyId>              |
 * | customer          | RESELLER#<reseller>   | CUSTOMER#<customer>         |
 * | site (listing)    | RESELLER#<reseller>   | SITE#<site>                 |
 * | escalation policy | RESELLER#<reseller>   | ESCALATION#<scope>[#<id>]   |
 * | site state        | SITE#<reseller>#<site>| STATE (site-item.ts)        |
 * | maintenance       | SITE#<reseller>#<site>| MAINT#<start ISO>#<window>  |
 * | audit event       | SITE#<reseller>#<site>| EVENT#<timestamp ISO>#<id>  |
 * | enrollment code   | ENROLL#<code hash>    | CODE                        |
 * | detector cursor   | DETECTOR              | CURSOR                      |
 * | webhook endpoint  | RESELLER#<reseller>   | WEBHOOK#<endpoint>          |
 * | webhook message   | WEBHOOK#<reseller>#<endpoint> | MSG#<messageId>     |
 * | delivery attempt  | WEBHOOK#<reseller>#<endpoint> | ATTEMPT#<ISO>#<messageId>#<round>.<attempt> |
 * | integration       | RESELLER#<reseller>   | INTEGRATION#<integration>   |
 * | integration (by id) | INTEGRATION#<integration> | CONFIG                |
 * | inbound hook seen | INTEGRATION#<integration> | SEEN#<webhook-id>       |
 * | alert             | SITE#<reseller>#<site>| ALERT#<integration>#<alert> |
 *
 * Site listing items also carry, for the fleet view, `maintenance`, the site's windows not yet ended
 * at the last window write (window id → start, end; listing-windows.ts), and `incidentKinds`, the
 * kinds the site has an incident tracker of (kind → true; incident-store.ts).
 *
 * Site state items also carry `due` (the time bucket of their last contact) and `dueShard`
 * (`<bucket>#<shard>`), the key of the sparse `due-shard-index` (site-item.ts) the silence detector
 * reads (and `due` of the old `due-index`, kept for the migration); the detector's cursor holds the last
 * bucket it finished (`bucket`), moved only from the value a run read, so overlapping runs don't fight.
 */
export const resellersPk = 'RESELLERS';
export const resellerSk = (resellerId: string) => `RESELLER#${resellerId}`;
export const resellerPk = (resellerId: string) => `RESELLER#${resellerId}`;
export const apiKeySk = (keyId: string) => `APIKEY#${keyId}`;
export const customerSk = (customerId: string) => `CUSTOMER#${customerId}`;
export const siteListingSk = (siteId: string) => `SITE#${siteId}`;
export const escalationSk = (scope: 'reseller' | 'customer' | 'site', id: string | null) =>
  id === null ? `ESCALATION#${scope}` : `ESCALATION#${scope}#${id}`;
export const sitePk = (resellerId: string, siteId: string) => `SITE#${resellerId}#${siteId}`;
export const maintenanceSk = (startIso: string, windowId: string) => `MAINT#${startIso}#${windowId}`;
export const eventSk = (timestampIso: string, eventId: string) => `EVENT#${timestampIso}#${eventId}`;
export const enrollmentPk = (codeHash: string) => `ENROLL#${codeHash}`;
export const webhookEndpointSk = (endpointId: string) => `WEBHOOK#${endpointId}`;
export const webhookPk = (resellerId: string, endpointId: string) => `WEBHOOK#${resellerId}#${endpointId}`;
export const webhookMessageSkPrefix = 'MSG#';
export const webhookMessageSk = (messageId: string) => `${webhookMessageSkPrefix}${messageId}`;
export const deliveryAttemptSk = (atIso: string, messageId: string, round: number, attempt: number) =>
  `ATTEMPT#${atIso}#${messageId}#${String(round)}.${String(attempt)}`;
export const integrationSk = (integrationId: string) => `INTEGRATION#${integrationId}`;
export const integrationPk = (integrationId: string) => `INTEGRATION#${integrationId}`;
export const integrationConfigSk = 'CONFIG';
export const inboundSeenSk = (webhookId: string) => `SEEN#${webhookId}`;
export const alertSkPrefix = 'ALERT#';
export const alertSk = (integrationId: string, alert: string) => `${alertSkPrefix}${integrationId}#${alert}`;
export const detectorCursorKey = { pk: 'DETECTOR', sk: 'CURSOR' } as const;

/** How long an unused enrollment code stays valid. */
export const enrollmentCodeTtlMs = 7 * 24 * 3_600_000;
/** Maintenance windows are kept this long after they end: SLA reports read them. */
export const maintenanceRetentionMs = 400 * 24 * 3_600_000;

/**
 * The table's TTL attribute (lib/site-table.ts, and the local table: table.ts), in epoch seconds:
 * records that should vanish on their own (audit events, webhook messages and tries, maintenance
 * windows, enrollment codes, …) set it. Lists of such records filter on it as well (pagination.ts).
 */
export const ttlAttribute = 'expiresAt';

/** DynamoDB TTL is in epoch seconds. */
export const ttlSeconds = (ms: number) => Math.ceil(ms / 1000);

export const iso = (ms: number) => new Date(ms).toISOString();

/** When a maintenance window's item expires (the table's TTL, s): the retention after its end. */
export const maintenanceTtl = (end: number) => ttlSeconds(end + maintenanceRetentionMs);

/** A maintenance window as stored in its site's partition, by start; kept a while after it ends (SLA reports read it), then expired. */
export function maintenanceItem(
  resellerId: string,
  siteId: string,
  window: { windowId: string; start: number; end: number; reason: string },
): Record<string, unknown> {
  return {
    pk: sitePk(resellerId, siteId),
    sk: maintenanceSk(iso(window.start), window.windowId),
    ...window,
    expiresAt: maintenanceTtl(window.end),
  };
}
