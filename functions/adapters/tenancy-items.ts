import type { IncidentKind } from '../../protocol/incidents.ts';

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
 * | site state        | SITE#<reseller>#<site>| STATE (fields: site-item.ts)|
 * | maintenance       | SITE#<reseller>#<site>| MAINT#<start ISO>#<window>  |
 * | audit event       | SITE#<reseller>#<site>| EVENT#<timestamp ISO>#<id>  |
 * | incident tracker  | SITE#<reseller>#<site>| INCIDENT#<kind>             |
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
// Each key spelled here once; a `…Prefix` is what a Query's `begins_with(sk, …)` (pagination.ts)
// or the stream's filter (lib/table-stream-feed.ts) matches: the key's fixed start.
export const resellersPk = 'RESELLERS';
export const resellerSkPrefix = 'RESELLER#';
export const resellerSk = (resellerId: string) => `${resellerSkPrefix}${resellerId}`;
export const resellerPk = (resellerId: string) => `RESELLER#${resellerId}`;
export const apiKeySkPrefix = 'APIKEY#';
export const apiKeySk = (keyId: string) => `${apiKeySkPrefix}${keyId}`;
export const customerSkPrefix = 'CUSTOMER#';
export const customerSk = (customerId: string) => `${customerSkPrefix}${customerId}`;
export const siteListingSkPrefix = 'SITE#';
export const siteListingSk = (siteId: string) => `${siteListingSkPrefix}${siteId}`;
export const escalationSkPrefix = 'ESCALATION#';
export const escalationSk = (scope: 'reseller' | 'customer' | 'site', id: string | null) =>
  id === null ? `${escalationSkPrefix}${scope}` : `${escalationSkPrefix}${scope}#${id}`;
export const sitePkPrefix = 'SITE#';
export const sitePk = (resellerId: string, siteId: string) => `${sitePkPrefix}${resellerId}#${siteId}`;
/** The partitions of one reseller's sites all begin with this. */
export const resellerSitesPkPrefix = (resellerId: string) => sitePk(resellerId, '');
/** The site a site partition's key names (`sitePk` read back): identifiers hold no `#` (protocol/ids.ts). */
export function siteOfPk(pk: string): { resellerId: string; siteId: string } {
  const [, resellerId = '', siteId = ''] = pk.split('#');
  return { resellerId, siteId };
}
/** The site's state item's sort key (its fields: site-item.ts). */
export const siteStateSk = 'STATE';
export const maintenanceSkPrefix = 'MAINT#';
export const maintenanceSk = (startIso: string, windowId: string) => `${maintenanceSkPrefix}${startIso}#${windowId}`;
export const eventSkPrefix = 'EVENT#';
export const eventSk = (timestampIso: string, eventId: string) => `${eventSkPrefix}${timestampIso}#${eventId}`;
export const incidentSkPrefix = 'INCIDENT#';
/** A tracker's sort key in its site's partition: one per (site, kind), so one incident per (site, kind) at a time. */
export const incidentSk = (kind: IncidentKind) => `${incidentSkPrefix}${kind}`;
export const enrollmentPk = (codeHash: string) => `ENROLL#${codeHash}`;
export const enrollmentSk = 'CODE';
export const webhookEndpointSkPrefix = 'WEBHOOK#';
export const webhookEndpointSk = (endpointId: string) => `${webhookEndpointSkPrefix}${endpointId}`;
/** The partitions of the webhook items (messages, delivery log), one per endpoint. */
export const webhookPkPrefix = 'WEBHOOK#';
export const webhookPk = (resellerId: string, endpointId: string) => `${webhookPkPrefix}${resellerId}#${endpointId}`;
export const webhookMessageSkPrefix = 'MSG#';
export const webhookMessageSk = (messageId: string) => `${webhookMessageSkPrefix}${messageId}`;
export const deliveryAttemptSkPrefix = 'ATTEMPT#';
export const deliveryAttemptSk = (atIso: string, messageId: string, round: number, attempt: number) =>
  `${deliveryAttemptSkPrefix}${atIso}#${messageId}#${String(round)}.${String(attempt)}`;
export const integrationSk = (integrationId: string) => `INTEGRATION#${integrationId}`;
export const integrationPk = (integrationId: string) => `INTEGRATION#${integrationId}`;
export const integrationConfigSk = 'CONFIG';
export const inboundSeenSk = (webhookId: string) => `SEEN#${webhookId}`;
export const alertSkPrefix = 'ALERT#';
export const alertSk = (integrationId: string, alert: string) => `${alertSkPrefix}${integrationId}#${alert}`;
/** The alerts one integration raised in a site's partition all begin with this. */
export const integrationAlertsSkPrefix = (integrationId: string) => alertSk(integrationId, '');
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
