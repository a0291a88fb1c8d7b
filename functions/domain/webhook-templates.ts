import type { EventType, OutboundEvent as Outbound, Severity, StoredEvent } from '../../protocol/events.ts';

/** What an endpoint is sent: an event as published or read back (its fields are checked here), or a test. */
export type OutboundEvent = Outbound | StoredEvent;
import { linkedEventTypes, pagerDutyEventTypes, type WebhookContext, type WebhookTemplate } from '../../protocol/webhooks.ts';

// The body of one outbound webhook delivery, shaped for the tool that receives it. Pure and
// deterministic: a delivery is retried and replayed with the same webhook-id and signature
// scheme, so the same event must always give the same bytes (no clock, no random, fixed key order).

export interface TemplateOptions {
  /** PagerDuty's integration (routing) key: only the `pagerduty` template reads it. */
  routingKey: string | null;
  /**
   * The site and customer by name and an incident's links, as the router found them (store reads,
   * links it signed); unset, what the event itself says (`contextOf`). Every template shows them.
   */
  context?: WebhookContext;
}

/**
 * What the event itself says of its site, customer and links: an incident step an escalation sends
 * carries them in `data` (functions/domain/webhook-delivery.ts, stepEvent); any other event its site
 * id only. A name missing is the id; links only for an incident someone may still act on.
 */
export function contextOf(event: OutboundEvent): WebhookContext {
  const data: Fields = event.data;
  if (event.type === 'webhook.test' || typeof data.siteId !== 'string') return { site: null, customer: null, links: null };
  const customer = fields(data.customer);
  const customerId = text(customer?.customerId);
  const links = fields(data.links);
  const acknowledge = url(links?.acknowledge);
  const resolve = url(links?.resolve);
  return {
    site: { siteId: data.siteId, name: text(fields(data.site)?.name) ?? data.siteId },
    customer: customerId === null ? null : { customerId, name: text(customer?.name) ?? customerId },
    links: linksFit(event) && acknowledge !== null && resolve !== null ? { acknowledge, resolve } : null,
  };
}

/** Whether an event's message offers the one-click links: an incident that someone may still acknowledge or resolve. */
export const linksFit = (event: Pick<OutboundEvent, 'type'>): boolean => (linkedEventTypes as readonly string[]).includes(event.type);

/**
 * The JSON body to POST, or null when this template has nothing to say about this event (the
 * message is then not sent). A test (`webhook.test`) has a body in every template.
 */
export function renderWebhookBody(template: WebhookTemplate, event: OutboundEvent, options: TemplateOptions): string | null {
  const context = options.context ?? contextOf(event);
  switch (template) {
    case 'generic': {
      // The envelope as it is, and beside it (top level, so that the envelope's schema still holds)
      // the site, customer and links. Receivers verify the signature over exactly these bytes.
      const { id, type, timestamp, data } = event;
      return JSON.stringify({ id, type, timestamp, data, site: context.site, customer: context.customer, links: context.links });
    }
    case 'slack':
      return JSON.stringify(slackBody(event, detailsOf(event, context)));
    case 'teams':
      return JSON.stringify(teamsBody(event, detailsOf(event, context)));
    case 'pagerduty':
      return pagerDutyBody(event, detailsOf(event, context), options.routingKey);
  }
}

// ---------------------------------------------------------------------------------------------
// What an event says, read defensively: besides the base fields, `data` is loose (incident steps
// from an escalation policy carry `incident`, `site`, `customer`, `links`…), so every extra field
// is checked before it is used and anything malformed is simply left out.

interface Details {
  /** The site's name, or its id when it has none. */
  site: string;
  siteId: string;
  customer: string | null;
  nodeId: string | null;
  incidentId: string | null;
  kind: string | null;
  state: string | null;
  level: number | null;
  subjects: string[];
  /** Who acknowledged or resolved (`api-key:…`, `link`, `recovery`), when the event says. */
  by: string | null;
  severity: Severity;
  links: { acknowledge: string; resolve: string } | null;
  /** A test's (`webhook.test`) endpoint, the API key that asked, and its sentence; null for any other event. */
  test: { endpointId: string | null; keyId: string | null; message: string | null } | null;
}

type Fields = Record<string, unknown>;

const text = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? v : null);
const fields = (v: unknown): Fields | null => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Fields) : null);
const texts = (v: unknown): string[] => (Array.isArray(v) ? v.filter((s): s is string => typeof s === 'string' && s !== '') : []);
// http(s) and printable ASCII only: a malformed url button makes Slack refuse the whole message.
const url = (v: unknown): string | null => (typeof v === 'string' && v.length <= 2048 && /^https?:\/\/[\x21-\x7e]+$/.test(v) ? v : null);

function detailsOf(event: OutboundEvent, context: WebhookContext): Details {
  const data: Fields = event.data;
  const incident = fields(data.incident);
  const acknowledge = url(context.links?.acknowledge);
  const resolve = url(context.links?.resolve);
  const siteId = typeof data.siteId === 'string' ? data.siteId : '';
  const subjects = texts(data.subjects);
  return {
    site: text(context.site?.name) ?? siteId,
    siteId,
    customer: text(context.customer?.name),
    nodeId: text(data.nodeId),
    incidentId: text(data.incidentId),
    kind: text(data.kind),
    state: text(incident?.state),
    level: typeof data.level === 'number' && Number.isFinite(data.level) ? data.level : null,
    // In words where the event has them (an inbound alert: its tool's summary), else by subject.
    subjects: [texts(data.affected), subjects, texts(incident?.affected), texts(incident?.subjects)].find((s) => s.length > 0) ?? [],
    by: text(data.by) ?? text(event.type === 'incident.resolved' ? incident?.resolvedBy : incident?.acknowledgedBy),
    severity: data.severity === 'critical' || data.severity === 'warning' ? data.severity : 'info',
    links: acknowledge !== null && resolve !== null ? { acknowledge, resolve } : null,
    test:
      event.type === 'webhook.test' ? { endpointId: text(data.endpointId), keyId: text(data.keyId), message: text(data.message) } : null,
  };
}

/** Whether the one-click links are worth offering: there is still something to do (a test has nothing to act on). */
const linksOf = (event: OutboundEvent, d: Details) => (event.type === 'incident.resolved' || d.test !== null ? null : d.links);

// ---------------------------------------------------------------------------------------------
// Shared wording: a title per type (fallback: the type itself), a summary sentence, the facts.

const node = (d: Details) => d.nodeId ?? 'a node';
const incidentName = (d: Details) => (d.incidentId === null ? 'Incident' : `Incident ${d.incidentId}`);
const by = (d: Details) => (d.by === null ? '' : ` by ${d.by}`);
/** ` name` when the field holds one, else nothing: "Alert disk-full raised" or "Alert raised". */
const spaced = (v: unknown) => {
  const name = text(v);
  return name === null ? '' : ` ${name}`;
};
/** The inbound integration an alert came through (functions/domain/alert-events.ts). */
const from = (data: Fields) => {
  const name = text(data.integrationName);
  return name === null ? '' : ` from ${name}`;
};

/** `: <summary>` when the tool that raised or cleared an alert sent one, else nothing. */
const said = (data: Fields) => {
  const summary = text(data.summary);
  return summary === null ? '' : `: ${summary}`;
};

/** `Demote command 3-demote-node-a`, or `Command` when the event does not say. */
const command = (data: Fields) => {
  const type = text(data.commandType);
  return `${type === null ? 'Command' : `${type[0]?.toUpperCase() ?? ''}${type.slice(1)} command`}${spaced(data.commandId)}`;
};

const titles: Partial<Record<EventType, (d: Details, data: Fields) => string>> = {
  'failover.granted': (d) => `Failover at ${d.site}: ${node(d)} is now primary`,
  'failover.completed': (d) => `Failover completed at ${d.site}: ${node(d)} is primary`,
  'node.lost': (d) => `Node ${node(d)} lost at ${d.site}`,
  'node.recovered': (d) => `Node ${node(d)} recovered at ${d.site}`,
  'site.down': (d) => `Site ${d.site} is down`,
  'site.recovered': (d) => `Site ${d.site} recovered`,
  'link.lost': (d) => `Link between the nodes lost at ${d.site}`,
  'link.restored': (d) => `Link between the nodes restored at ${d.site}`,
  'node.degraded': (d) => `Node ${node(d)} degraded at ${d.site}`,
  'command.unacknowledged': (d, data) => `${command(data)} not acknowledged by ${node(d)} at ${d.site}`,
  'command.acknowledged': (d, data) =>
    data.outcome === 'superseded'
      ? `${command(data)} for ${node(d)} superseded at ${d.site}`
      : `${command(data)} acknowledged late by ${node(d)} at ${d.site}`,
  'incident.opened': (d) => `${incidentName(d)} opened at ${d.site}`,
  'incident.escalated': (d) => `${incidentName(d)} escalated${d.level === null ? '' : ` to level ${d.level}`} at ${d.site}`,
  'incident.acknowledged': (d) => `${incidentName(d)} acknowledged${by(d)} at ${d.site}`,
  'incident.resolved': (d) => `${incidentName(d)} resolved${by(d)} at ${d.site}`,
  'alert.raised': (d, data) => `Alert${spaced(data.alert)}${from(data)} raised at ${d.site}${said(data)}`,
  'alert.cleared': (d, data) => `Alert${spaced(data.alert)}${from(data)} cleared at ${d.site}${said(data)}`,
  'webhook.failed': (_d, data) => `Webhook delivery to endpoint${spaced(data.endpointId)} failed`,
  'webhook.disabled': (_d, data) =>
    `Webhook endpoint${spaced(data.endpointId)} disabled${text(data.reason) === null ? '' : ` (${String(data.reason)})`}`,
  'webhook.test': (_d, data) => `Test event from Tiebreak for endpoint${spaced(data.endpointId)}`,
};

const titleOf = (event: OutboundEvent, d: Details): string => titles[event.type]?.(d, event.data) ?? `${event.type} at ${d.site}`;

/** A test's sentence, when its data has none: what a test means for whoever reads it. */
const testSentence = 'This is a test of the webhook endpoint: nothing happened at any site, and no action is needed.';

/** At most this many subjects are named; the rest are counted (a site has two nodes, but data is not trusted). */
const listedSubjects = 20;

function summaryOf(d: Details): string {
  if (d.test !== null) return d.test.message ?? testSentence;
  const shown = d.subjects.slice(0, listedSubjects).join(', ');
  const more = d.subjects.length > listedSubjects ? ` and ${d.subjects.length - listedSubjects} more` : '';
  return [
    `Severity: ${d.severity}.`,
    d.kind === null ? null : `Condition: ${d.kind}.`,
    d.subjects.length === 0 ? null : `Affected: ${shown}${more}.`,
  ]
    .filter((s) => s !== null)
    .join(' ');
}

type Fact = readonly [
  label: 'Site' | 'Customer' | 'Event' | 'Incident' | 'State' | 'Level' | 'Endpoint' | 'Requested by' | 'When',
  value: string,
];

function factsOf(event: OutboundEvent, d: Details): Fact[] {
  if (d.test !== null) {
    // About no site: the endpoint tested and who asked.
    const test: (Fact | null)[] = [
      d.test.endpointId === null ? null : ['Endpoint', d.test.endpointId],
      d.test.keyId === null ? null : ['Requested by', `API key ${d.test.keyId}`],
      ['Event', event.type],
      ['When', event.timestamp],
    ];
    return test.filter((f) => f !== null);
  }
  const facts: (Fact | null)[] = [
    ['Site', d.site === d.siteId ? d.siteId : `${d.site} (${d.siteId})`],
    d.customer === null ? null : ['Customer', d.customer],
    ['Event', event.type],
    d.incidentId === null ? null : ['Incident', d.incidentId],
    d.state === null ? null : ['State', d.state],
    d.level === null ? null : ['Level', String(d.level)],
    ['When', event.timestamp],
  ];
  return facts.filter((f) => f !== null);
}

/**
 * At most `max` UTF-16 units (the measure the tools' limits use, and never fewer characters than
 * that), ending in `…` when cut; a surrogate pair is never split, and `tidy` may trim a cut tail.
 */
function cut(s: string, max: number, tidy: (head: string) => string = (head) => head): string {
  if (s.length <= max) return s;
  const head = s.slice(0, max - 1).replace(/[\uD800-\uDBFF]$/, '');
  return `${tidy(head)}…`;
}

// ---------------------------------------------------------------------------------------------
// Slack: an incoming webhook with Block Kit (https://api.slack.com/reference/block-kit/blocks).

const slackLimits = { header: 150, text: 3000, line: 300, summary: 1200 };

// Slack's mrkdwn asks for exactly these three escapes; anything else is shown as written.
const escapeMrkdwn = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
/** Escaped, then cut without leaving half an entity (`&am…`) behind. */
const mrkdwn = (s: string, max: number) => cut(escapeMrkdwn(s), max, (head) => head.replace(/&[a-z]{0,3}$/, ''));

/** Slack shows each reader the time in their own time zone, and the ISO form where it cannot. */
function slackTime(iso: string): string {
  const ms = Date.parse(iso);
  const fallback = mrkdwn(iso, 64);
  return Number.isFinite(ms) ? `<!date^${Math.floor(ms / 1000)}^{date_short_pretty} {time_secs}|${fallback}>` : fallback;
}

function slackBody(event: OutboundEvent, d: Details) {
  const title = titleOf(event, d);
  const lines = [
    mrkdwn(summaryOf(d), slackLimits.summary),
    ...factsOf(event, d)
      .filter(([label]) => label !== 'Event') // in the context block
      .map(([label, value]) => `*${label}:* ${label === 'When' ? slackTime(value) : mrkdwn(value, slackLimits.line)}`),
  ];
  const links = linksOf(event, d);
  const button = (actionId: string, label: string, href: string) => ({
    type: 'button',
    action_id: actionId,
    text: { type: 'plain_text', text: label },
    url: href,
  });
  return {
    // The notification's line, and what clients without blocks show; Slack reads it as mrkdwn too.
    text: mrkdwn(title, slackLimits.text),
    blocks: [
      // plain_text is shown as written: no escaping.
      { type: 'header', text: { type: 'plain_text', text: cut(title, slackLimits.header), emoji: true } },
      { type: 'section', text: { type: 'mrkdwn', text: cut(lines.join('\n'), slackLimits.text) } },
      { type: 'context', elements: [{ type: 'mrkdwn', text: mrkdwn(`Tiebreak · ${event.type} · ${event.id}`, slackLimits.text) }] },
      ...(links === null
        ? []
        : [
            {
              type: 'actions',
              elements: [button('acknowledge', 'Acknowledge', links.acknowledge), button('resolve', 'Resolve', links.resolve)],
            },
          ]),
    ],
  };
}

// ---------------------------------------------------------------------------------------------
// Microsoft Teams: a Workflows incoming webhook carrying one Adaptive Card. Teams refuses messages
// over 28 KB: these caps keep a card under it even when every character is escaped in JSON.

const teamsLimits = { title: 200, summary: 1000, fact: 200 };

const teamsColors: Record<Severity, string> = { critical: 'attention', warning: 'warning', info: 'default' };

function teamsBody(event: OutboundEvent, d: Details) {
  const links = linksOf(event, d);
  const content = {
    $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
    type: 'AdaptiveCard',
    version: '1.4',
    body: [
      {
        type: 'TextBlock',
        text: cut(titleOf(event, d), teamsLimits.title),
        weight: 'bolder',
        size: 'medium',
        wrap: true,
        color: teamsColors[d.severity],
      },
      { type: 'TextBlock', text: cut(summaryOf(d), teamsLimits.summary), wrap: true },
      { type: 'FactSet', facts: factsOf(event, d).map(([title, value]) => ({ title, value: cut(value, teamsLimits.fact) })) },
    ],
    actions:
      links === null
        ? []
        : [
            { type: 'Action.OpenUrl', title: 'Acknowledge', url: links.acknowledge },
            { type: 'Action.OpenUrl', title: 'Resolve', url: links.resolve },
          ],
  };
  return { type: 'message', attachments: [{ contentType: 'application/vnd.microsoft.card.adaptive', contentUrl: null, content }] };
}

// ---------------------------------------------------------------------------------------------
// PagerDuty Events API v2 (POST https://events.pagerduty.com/v2/enqueue): one PagerDuty incident
// per Tiebreak incident, triggered, acknowledged and resolved by its dedup_key.

const pagerDutyLimits = { summary: 1024, dedupKey: 255, field: 255, subjects: 100 };

const followsIncidents = (type: EventType) => (pagerDutyEventTypes as readonly EventType[]).includes(type);

function pagerDutyBody(event: OutboundEvent, d: Details, routingKey: string | null): string | null {
  if (routingKey !== null && d.test !== null) return pagerDutyTestBody(event, d, routingKey);
  if (routingKey === null || d.incidentId === null || !followsIncidents(event.type)) return null;
  // Incident ids are unique only within a site (`node-lost-<opening ms>`): the site keeps two
  // sites' incidents apart. Ids are short (48 + 80), so an over-long key means a malformed event:
  // better not sent than cut into a key another incident might share.
  const dedupKey = `${d.siteId}/${d.incidentId}`;
  if (dedupKey.length > pagerDutyLimits.dedupKey) return null;
  const head = { routing_key: routingKey, event_action: 'trigger', dedup_key: dedupKey };
  if (event.type === 'incident.acknowledged') return JSON.stringify({ ...head, event_action: 'acknowledge' });
  if (event.type === 'incident.resolved') return JSON.stringify({ ...head, event_action: 'resolve' });

  const field = (s: string | null) => (s === null ? undefined : cut(s, pagerDutyLimits.field)); // undefined: left out
  const links = linksOf(event, d);
  return JSON.stringify({
    ...head,
    payload: {
      // The site's name is in the title; the customer's beside it, for the on-call reading the page.
      summary: cut(`${titleOf(event, d)}${d.customer === null ? '' : ` (${d.customer})`}. ${summaryOf(d)}`, pagerDutyLimits.summary),
      source: field(d.site),
      severity: d.severity,
      timestamp: event.timestamp,
      component: field(d.kind),
      group: field(d.customer ?? d.siteId),
      class: field(d.kind),
      custom_details: {
        incidentId: d.incidentId,
        siteId: d.siteId,
        site: field(d.site),
        customer: field(d.customer) ?? null,
        kind: d.kind,
        level: d.level,
        subjects: d.subjects.slice(0, pagerDutyLimits.subjects).map((s) => cut(s, pagerDutyLimits.field)),
        eventId: event.id,
      },
    },
    links:
      links === null
        ? undefined
        : [
            { href: links.acknowledge, text: 'Acknowledge in Tiebreak' },
            { href: links.resolve, text: 'Resolve in Tiebreak' },
          ],
  });
}

/**
 * A test: PagerDuty's Events API (the endpoint's URL, /v2/enqueue) takes alerts only (change events
 * have a URL of their own), so a test triggers an alert, of severity `info` ("normal operational
 * messages that require no action": a low-urgency incident on a service whose notifications follow
 * alert severity). Its dedup_key is the test's own (`webhook.test/<event id>`: a site id has no
 * dot, so never a Tiebreak incident's `<siteId>/<incidentId>`), so it joins no real incident; it
 * resolves only in PagerDuty (or by the service's auto-resolve), and its summary says so.
 */
function pagerDutyTestBody(event: OutboundEvent, d: Details, routingKey: string): string | null {
  const dedupKey = `webhook.test/${event.id}`;
  if (dedupKey.length > pagerDutyLimits.dedupKey) return null;
  const endpointId = d.test?.endpointId ?? null;
  const field = (s: string | null) => (s === null ? undefined : cut(s, pagerDutyLimits.field));
  return JSON.stringify({
    routing_key: routingKey,
    event_action: 'trigger',
    dedup_key: dedupKey,
    payload: {
      summary: cut(`${titleOf(event, d)}. ${summaryOf(d)} Resolve it here once seen.`, pagerDutyLimits.summary),
      source: 'Tiebreak',
      severity: 'info',
      timestamp: event.timestamp,
      component: field(endpointId),
      group: 'webhook test',
      class: event.type,
      custom_details: { test: true, endpointId: field(endpointId) ?? null, keyId: field(d.test?.keyId ?? null) ?? null, eventId: event.id },
    },
  });
}
