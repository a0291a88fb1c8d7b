import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EventType, type StoredEvent, WebhookTestEvent } from '../../protocol/events.ts';
import { type WebhookContext, WebhookTemplate } from '../../protocol/webhooks.ts';
import { type OutboundEvent, renderWebhookBody } from '../../functions/domain/webhook-templates.ts';

const at = '2026-11-29T10:00:00.000Z';
const routingKey = 'R0123456789abcdefghijklmnopqrstu';
const links = { acknowledge: 'https://w.example/v1/links/a?t=1&s=2', resolve: 'https://w.example/v1/links/r?t=1' };

type Step = 'incident.opened' | 'incident.escalated' | 'incident.acknowledged' | 'incident.resolved';

/** An incident step as an escalation policy sends it: the base fields, and the incident, site, customer and links. */
function step(type: Step, o: { siteId?: string; siteName?: string | null; incidentId?: string; withLinks?: boolean } = {}): StoredEvent {
  const siteId = o.siteId ?? 'zurich';
  const incidentId = o.incidentId ?? 'node-lost-1764410400000';
  const state = type === 'incident.acknowledged' ? 'acknowledged' : type === 'incident.resolved' ? 'resolved' : 'open';
  return {
    id: `r/${siteId}/${type}/${incidentId}`,
    type,
    timestamp: at,
    data: {
      resellerId: 'r',
      siteId,
      severity: type === 'incident.opened' || type === 'incident.escalated' ? 'critical' : 'info',
      incidentId,
      kind: 'node.lost',
      level: type === 'incident.escalated' ? 2 : null,
      incident: {
        incidentId,
        kind: 'node.lost',
        state,
        openedAt: at,
        subjects: ['node-a'],
        acknowledgedBy: type === 'incident.acknowledged' ? 'api-key:k1' : null,
        resolvedBy: null,
      },
      site: { siteId, name: o.siteName === undefined ? 'Dental Office Zürich' : o.siteName },
      customer: { customerId: 'dental', name: 'Zahnarztpraxis Müller' },
      links: o.withLinks === false ? null : links,
    },
  };
}

/** A plain event from the topic: the base fields and a few extras. */
const nodeLost: StoredEvent = {
  id: 'r/zurich/node.lost/node-a/7',
  type: 'node.lost',
  timestamp: at,
  data: { resellerId: 'r', siteId: 'zurich', nodeId: 'node-a', severity: 'critical', reportedBy: 'node-b' },
};

/** A test of endpoint `psa`, as POST /v1/webhooks/psa/test makes it. */
const webhookTest: WebhookTestEvent = {
  id: 'r/webhook.test/psa/7f1c2e4a-0c1d-4e55-9a53-2b3f8a1d9e01',
  type: 'webhook.test',
  timestamp: at,
  data: {
    resellerId: 'r',
    test: true,
    severity: 'info',
    endpointId: 'psa',
    keyId: 'k1',
    message: 'This is a test of webhook endpoint psa, asked for with API key k1: nothing happened at any site, and no action is needed.',
  },
};

interface TextObject {
  type: string;
  text: string;
}
interface SlackBlock {
  type: string;
  text?: TextObject;
  elements?: ({ type: string; action_id?: string; url?: string; text: TextObject | string } & Partial<TextObject>)[];
}
interface SlackBody {
  text: string;
  blocks: SlackBlock[];
}
interface TeamsBody {
  type: string;
  attachments: {
    contentType: string;
    contentUrl: null;
    content: {
      type: string;
      version: string;
      body: { type: string; text?: string; color?: string; facts?: { title: string; value: string }[] }[];
      actions: { type: string; title: string; url: string }[];
    };
  }[];
}
interface PagerDutyBody {
  routing_key: string;
  event_action: string;
  dedup_key: string;
  payload?: { summary: string; source: string; severity: string; custom_details: Record<string, unknown> };
  links?: { href: string; text: string }[];
}

function parse(body: string | null): unknown {
  expect(body).not.toBeNull();
  return JSON.parse(body!);
}
/** What the router reads of site `zurich`: its name and its customer's. */
const named = {
  site: { siteId: 'zurich', name: 'Dental Office Zürich' },
  customer: { customerId: 'dental', name: 'Zahnarztpraxis Müller' },
  links: null,
};
const slack = (e: OutboundEvent, context?: WebhookContext) =>
  parse(renderWebhookBody('slack', e, { routingKey: null, context })) as SlackBody;
const teams = (e: OutboundEvent, context?: WebhookContext) =>
  parse(renderWebhookBody('teams', e, { routingKey: null, context })) as TeamsBody;
const pagerDuty = (e: OutboundEvent) => parse(renderWebhookBody('pagerduty', e, { routingKey })) as PagerDutyBody;
const block = (body: SlackBody, type: string) => body.blocks.find((b) => b.type === type);
const card = (body: TeamsBody) => body.attachments[0]!.content;

describe('the generic template', () => {
  it('is the envelope as it is, with the site, customer and links beside it (receivers verify the signature over these bytes)', () => {
    const opened = step('incident.opened');
    expect(renderWebhookBody('generic', opened, { routingKey: null })).toBe(
      JSON.stringify({
        ...opened,
        site: { siteId: 'zurich', name: 'Dental Office Zürich' },
        customer: { customerId: 'dental', name: 'Zahnarztpraxis Müller' },
        links,
      }),
    );
    // A plain event, with what the router found: names read from the store, links it signed.
    expect(JSON.parse(renderWebhookBody('generic', nodeLost, { routingKey: null, context: named })!)).toEqual({ ...nodeLost, ...named });
    // Without them, what the event says: its site's id for a name, no customer, no links.
    expect(JSON.parse(renderWebhookBody('generic', nodeLost, { routingKey: null })!)).toEqual({
      ...nodeLost,
      site: { siteId: 'zurich', name: 'zurich' },
      customer: null,
      links: null,
    });
  });

  it('carries links for an incident someone may still act on, and none once it is resolved', () => {
    for (const [type, linked] of [
      ['incident.opened', true],
      ['incident.escalated', true],
      ['incident.acknowledged', true],
      ['incident.resolved', false],
    ] as const) {
      const body = JSON.parse(renderWebhookBody('generic', step(type), { routingKey: null })!) as { links: unknown };
      expect(body.links, type).toEqual(linked ? links : null);
    }
  });
});

describe('names and links the router found, in every template', () => {
  /** An incident event from the topic (an endpoint's eventTypes name it): ids only in `data`. */
  const fromTopic: StoredEvent = {
    id: 'r/zurich/incident.escalated/node-lost-1764410400000/1',
    type: 'incident.escalated',
    timestamp: at,
    data: {
      resellerId: 'r',
      siteId: 'zurich',
      severity: 'critical',
      incidentId: 'node-lost-1764410400000',
      kind: 'node.lost',
      openedAt: Date.parse(at),
      step: 1,
      level: 1,
      targets: [{ type: 'service-queue' }],
    },
  };
  const context = { ...named, links };

  it('Slack names the customer and the site, and offers Acknowledge and Resolve buttons', () => {
    const body = parse(renderWebhookBody('slack', fromTopic, { routingKey: null, context })) as SlackBody;
    expect(body.text).toContain('Dental Office Zürich');
    expect(block(body, 'section')?.text?.text).toContain('*Customer:* Zahnarztpraxis Müller');
    expect(block(body, 'actions')?.elements?.map((e) => e.url)).toEqual([links.acknowledge, links.resolve]);
  });

  it('Teams names them in its facts, and offers the two actions', () => {
    const content = card(parse(renderWebhookBody('teams', fromTopic, { routingKey: null, context })) as TeamsBody);
    const facts = content.body.find((b) => b.type === 'FactSet')?.facts;
    expect(facts).toContainEqual({ title: 'Site', value: 'Dental Office Zürich (zurich)' });
    expect(facts).toContainEqual({ title: 'Customer', value: 'Zahnarztpraxis Müller' });
    expect(content.actions.map((a) => a.url)).toEqual([links.acknowledge, links.resolve]);
  });

  it('PagerDuty names them in the summary and custom_details, with the links', () => {
    const body = parse(renderWebhookBody('pagerduty', fromTopic, { routingKey, context })) as PagerDutyBody;
    expect(body.payload?.summary).toMatch(
      /^Incident node-lost-1764410400000 escalated to level 1 at Dental Office Zürich \(Zahnarztpraxis Müller\)\./,
    );
    expect(body.payload?.custom_details).toMatchObject({ site: 'Dental Office Zürich', customer: 'Zahnarztpraxis Müller' });
    expect(body.links?.map((l) => l.href)).toEqual([links.acknowledge, links.resolve]);
  });

  it('a plain event is named too, with no buttons', () => {
    const body = slack(nodeLost, named);
    expect(body.text).toBe('Node node-a lost at Dental Office Zürich');
    expect(block(body, 'section')?.text?.text).toContain('*Customer:* Zahnarztpraxis Müller');
    expect(block(body, 'actions')).toBeUndefined();
    const facts = card(teams(nodeLost, named)).body.find((b) => b.type === 'FactSet')?.facts;
    expect(facts).toContainEqual({ title: 'Customer', value: 'Zahnarztpraxis Müller' });
  });
});

describe('the Slack template', () => {
  it('says what happened in the notification line, the header, the section and the context', () => {
    const body = slack(step('incident.escalated'));
    expect(body.text).toBe('Incident node-lost-1764410400000 escalated to level 2 at Dental Office Zürich');
    expect(block(body, 'header')?.text).toEqual({ type: 'plain_text', text: body.text, emoji: true });
    const section = block(body, 'section')?.text;
    expect(section?.type).toBe('mrkdwn');
    for (const part of [
      'Severity: critical',
      'Affected: node-a',
      '*Site:* Dental Office Zürich (zurich)',
      '*Customer:* Zahnarztpraxis Müller',
      '*Incident:* node-lost-1764410400000',
      '*State:* open',
      '*Level:* 2',
    ]) {
      expect(section?.text).toContain(part);
    }
    // Slack shows the time in each reader's zone, with the ISO form as the fallback.
    expect(section?.text).toContain(`<!date^${Date.parse(at) / 1000}^{date_short_pretty} {time_secs}|${at}>`);
    expect(block(body, 'context')?.elements?.[0]?.text).toBe(
      'Tiebreak · incident.escalated · r/zurich/incident.escalated/node-lost-1764410400000',
    );
  });

  it('titles a plain event from the topic by its type, with the site id when there is no name', () => {
    const body = slack(nodeLost);
    expect(body.text).toBe('Node node-a lost at zurich');
    expect(block(body, 'actions')).toBeUndefined();
    expect(slack({ ...nodeLost, type: 'site.down' }).text).toBe('Site zurich is down');
    expect(slack({ ...nodeLost, type: 'webhook.disabled', data: { ...nodeLost.data, endpointId: 'ops-slack', reason: 'gone' } }).text).toBe(
      'Webhook endpoint ops-slack disabled (gone)',
    );
    expect(
      slack({ ...nodeLost, type: 'alert.raised', data: { ...nodeLost.data, alert: 'disk-full', integrationName: 'Backup NAS' } }).text,
    ).toBe('Alert disk-full from Backup NAS raised at zurich');
    // The summary the tool sent is what a reader sees first of the alert.
    const ups = { ...nodeLost.data, alert: 'ups-power', integrationName: 'APC UPS', summary: 'UPS on battery, 38 min left' };
    expect(slack({ ...nodeLost, type: 'alert.raised', data: ups }).text).toBe(
      'Alert ups-power from APC UPS raised at zurich: UPS on battery, 38 min left',
    );
    expect(slack(step('incident.acknowledged')).text).toBe(
      'Incident node-lost-1764410400000 acknowledged by api-key:k1 at Dental Office Zürich',
    );
    const command = { ...nodeLost.data, commandId: '2-demote-node-a', commandType: 'demote' };
    expect(slack({ ...nodeLost, type: 'command.unacknowledged', data: command }).text).toBe(
      'Demote command 2-demote-node-a not acknowledged by node-a at zurich',
    );
    expect(slack({ ...nodeLost, type: 'command.acknowledged', data: { ...command, outcome: 'acknowledged' } }).text).toBe(
      'Demote command 2-demote-node-a acknowledged late by node-a at zurich',
    );
    expect(slack({ ...nodeLost, type: 'command.acknowledged', data: { ...command, outcome: 'superseded' } }).text).toBe(
      'Demote command 2-demote-node-a for node-a superseded at zurich',
    );
  });

  it('escapes <, > and & of a hostile site name in mrkdwn, and shows plain_text as written', () => {
    const hostile = '<!channel> Tom & Jerry <https://evil.example|click>';
    const body = slack(step('incident.opened', { siteName: hostile }));
    const escaped = '&lt;!channel&gt; Tom &amp; Jerry &lt;https://evil.example|click&gt;';
    expect(block(body, 'section')?.text?.text).toContain(`*Site:* ${escaped} (zurich)`);
    expect(body.text).toBe(`Incident node-lost-1764410400000 opened at ${escaped}`);
    expect(block(body, 'header')?.text?.text).toBe(`Incident node-lost-1764410400000 opened at ${hostile}`);
    expect(JSON.stringify(body.blocks.filter((b) => b.type !== 'header'))).not.toContain('<!channel>');
  });

  it('offers Acknowledge and Resolve url buttons only when there are links and the incident is not resolved', () => {
    const actions = block(slack(step('incident.opened')), 'actions');
    expect(actions?.elements).toEqual([
      { type: 'button', action_id: 'acknowledge', text: { type: 'plain_text', text: 'Acknowledge' }, url: links.acknowledge },
      { type: 'button', action_id: 'resolve', text: { type: 'plain_text', text: 'Resolve' }, url: links.resolve },
    ]);
    expect(block(slack(step('incident.acknowledged')), 'actions')).toBeDefined();
    expect(block(slack(step('incident.resolved')), 'actions')).toBeUndefined();
    expect(block(slack(step('incident.opened', { withLinks: false })), 'actions')).toBeUndefined();
  });
});

describe('the Teams template', () => {
  it('is one Adaptive Card: a title coloured by severity, a summary, the facts and OpenUrl actions', () => {
    const body = teams(step('incident.escalated'));
    expect(body.type).toBe('message');
    expect(body.attachments).toHaveLength(1);
    expect(body.attachments[0]).toMatchObject({ contentType: 'application/vnd.microsoft.card.adaptive', contentUrl: null });
    const content = card(body);
    expect(content).toMatchObject({ $schema: 'http://adaptivecards.io/schemas/adaptive-card.json', type: 'AdaptiveCard', version: '1.4' });
    const [title, summary, facts] = content.body;
    expect(title).toEqual({
      type: 'TextBlock',
      text: 'Incident node-lost-1764410400000 escalated to level 2 at Dental Office Zürich',
      weight: 'bolder',
      size: 'medium',
      wrap: true,
      color: 'attention',
    });
    expect(summary).toEqual({ type: 'TextBlock', text: 'Severity: critical. Condition: node.lost. Affected: node-a.', wrap: true });
    expect(facts?.facts).toEqual([
      { title: 'Site', value: 'Dental Office Zürich (zurich)' },
      { title: 'Customer', value: 'Zahnarztpraxis Müller' },
      { title: 'Event', value: 'incident.escalated' },
      { title: 'Incident', value: 'node-lost-1764410400000' },
      { title: 'State', value: 'open' },
      { title: 'Level', value: '2' },
      { title: 'When', value: at },
    ]);
    expect(content.actions).toEqual([
      { type: 'Action.OpenUrl', title: 'Acknowledge', url: links.acknowledge },
      { type: 'Action.OpenUrl', title: 'Resolve', url: links.resolve },
    ]);
  });

  it('shows only the facts present, the colour of the severity, and no actions once resolved', () => {
    const resolved = card(teams(step('incident.resolved')));
    expect(resolved.body[0]?.color).toBe('default');
    expect(resolved.actions).toEqual([]);
    const plain = card(teams({ ...nodeLost, data: { ...nodeLost.data, severity: 'warning' } }));
    expect(plain.body[0]?.color).toBe('warning');
    expect(plain.body[2]?.facts?.map((f) => f.title)).toEqual(['Site', 'Event', 'When']);
    expect(plain.actions).toEqual([]);
  });
});

describe('the PagerDuty template', () => {
  it('triggers, acknowledges and resolves one PagerDuty incident through the life of a Tiebreak incident', () => {
    const [opened, escalated, acknowledged, resolved] = (
      ['incident.opened', 'incident.escalated', 'incident.acknowledged', 'incident.resolved'] as const
    ).map((t) => pagerDuty(step(t)));
    expect(new Set([opened, escalated, acknowledged, resolved].map((b) => b?.dedup_key))).toEqual(
      new Set(['zurich/node-lost-1764410400000']),
    );
    expect(opened).toEqual({
      routing_key: routingKey,
      event_action: 'trigger',
      dedup_key: 'zurich/node-lost-1764410400000',
      payload: {
        summary:
          'Incident node-lost-1764410400000 opened at Dental Office Zürich (Zahnarztpraxis Müller). Severity: critical. Condition: node.lost. Affected: node-a.',
        source: 'Dental Office Zürich',
        severity: 'critical',
        timestamp: at,
        component: 'node.lost',
        group: 'Zahnarztpraxis Müller',
        class: 'node.lost',
        custom_details: {
          incidentId: 'node-lost-1764410400000',
          siteId: 'zurich',
          site: 'Dental Office Zürich',
          customer: 'Zahnarztpraxis Müller',
          kind: 'node.lost',
          level: null,
          subjects: ['node-a'],
          eventId: 'r/zurich/incident.opened/node-lost-1764410400000',
        },
      },
      links: [
        { href: links.acknowledge, text: 'Acknowledge in Tiebreak' },
        { href: links.resolve, text: 'Resolve in Tiebreak' },
      ],
    });
    expect(escalated).toMatchObject({ event_action: 'trigger', payload: { custom_details: { level: 2 } } });
    expect(acknowledged).toEqual({ routing_key: routingKey, event_action: 'acknowledge', dedup_key: 'zurich/node-lost-1764410400000' });
    expect(resolved).toEqual({ routing_key: routingKey, event_action: 'resolve', dedup_key: 'zurich/node-lost-1764410400000' });
  });

  it('keeps apart incidents of the same id at two sites (incident ids are unique only within a site)', () => {
    const a = pagerDuty(step('incident.opened', { siteId: 'zurich' }));
    const b = pagerDuty(step('incident.opened', { siteId: 'basel' }));
    expect(a.dedup_key).not.toBe(b.dedup_key);
  });

  it('leaves out links when there are none, and the customer for the site id when there is no customer', () => {
    const e = step('incident.opened', { withLinks: false, siteName: null });
    const body = pagerDuty({ ...e, data: { ...e.data, customer: null } });
    expect(body.links).toBeUndefined();
    expect(body.payload).toMatchObject({ source: 'zurich', group: 'zurich' });
  });

  it('says nothing of other events, of an incident event without an incident id, or without a routing key', () => {
    expect(renderWebhookBody('pagerduty', nodeLost, { routingKey })).toBeNull();
    expect(renderWebhookBody('pagerduty', { ...nodeLost, type: 'webhook.disabled' }, { routingKey })).toBeNull();
    const opened = step('incident.opened');
    const withoutId = { ...opened.data };
    delete withoutId.incidentId;
    expect(renderWebhookBody('pagerduty', { ...opened, data: withoutId }, { routingKey })).toBeNull();
    expect(renderWebhookBody('pagerduty', opened, { routingKey: null })).toBeNull();
  });
});

describe('a test of an endpoint (webhook.test)', () => {
  it('generic: the envelope itself, which says it is a test, and names no site', () => {
    const body = renderWebhookBody('generic', webhookTest, { routingKey: null });
    expect(body).toBe(JSON.stringify({ ...webhookTest, site: null, customer: null, links: null }));
    const parsed = WebhookTestEvent.parse(JSON.parse(body!));
    expect(parsed.data).toMatchObject({ test: true, endpointId: 'psa', keyId: 'k1', severity: 'info' });
    expect(parsed.data).not.toHaveProperty('siteId');
  });

  it('Slack: "Test event from Tiebreak for endpoint psa", the sentence, the endpoint and who asked; no site, no buttons', () => {
    const body = slack(webhookTest);
    expect(body.text).toBe('Test event from Tiebreak for endpoint psa');
    expect(block(body, 'header')?.text).toEqual({ type: 'plain_text', text: 'Test event from Tiebreak for endpoint psa', emoji: true });
    const section = block(body, 'section')?.text?.text ?? '';
    expect(section).toContain(webhookTest.data.message);
    expect(section).toContain('*Endpoint:* psa');
    expect(section).toContain('*Requested by:* API key k1');
    expect(section).toContain(`<!date^${Date.parse(at) / 1000}^`);
    expect(section).not.toContain('*Site:*');
    expect(section).not.toContain('Severity');
    expect(block(body, 'context')?.elements?.[0]?.text).toBe(`Tiebreak · webhook.test · ${webhookTest.id}`);
    expect(block(body, 'actions')).toBeUndefined();
    // Links in the data (none are put there) would offer nothing to act on either.
    expect(block(slack({ ...webhookTest, data: { ...webhookTest.data, links } }), 'actions')).toBeUndefined();
  });

  it('Teams: the same title in the default colour (info), the sentence, the facts, no actions', () => {
    const content = card(teams(webhookTest));
    const [title, summary, facts] = content.body;
    expect(title).toMatchObject({ type: 'TextBlock', text: 'Test event from Tiebreak for endpoint psa', color: 'default' });
    expect(summary).toEqual({ type: 'TextBlock', text: webhookTest.data.message, wrap: true });
    expect(facts?.facts).toEqual([
      { title: 'Endpoint', value: 'psa' },
      { title: 'Requested by', value: 'API key k1' },
      { title: 'Event', value: 'webhook.test' },
      { title: 'When', value: at },
    ]);
    expect(content.actions).toEqual([]);
  });

  it('PagerDuty: an info trigger with a dedup_key of its own (never a Tiebreak incident’s), saying it is a test; nothing without a routing key', () => {
    const body = pagerDuty(webhookTest);
    expect(body).toEqual({
      routing_key: routingKey,
      event_action: 'trigger',
      dedup_key: `webhook.test/${webhookTest.id}`,
      payload: {
        summary: `Test event from Tiebreak for endpoint psa. ${webhookTest.data.message} Resolve it here once seen.`,
        source: 'Tiebreak',
        severity: 'info',
        timestamp: at,
        component: 'psa',
        group: 'webhook test',
        class: 'webhook.test',
        custom_details: { test: true, endpointId: 'psa', keyId: 'k1', eventId: webhookTest.id },
      },
    });
    // A site id has no dot: `<siteId>/<incidentId>` never starts `webhook.test/`.
    expect(pagerDuty(step('incident.opened', { siteId: 'webhook-test' })).dedup_key.startsWith('webhook.test/')).toBe(false);
    expect(renderWebhookBody('pagerduty', webhookTest, { routingKey: null })).toBeNull();
    // Two tests are two alerts.
    expect(pagerDuty({ ...webhookTest, id: 'r/webhook.test/psa/another' }).dedup_key).not.toBe(body.dedup_key);
  });

  it('a test without its sentence or its key still reads as a test', () => {
    const data: Partial<WebhookTestEvent['data']> = { ...webhookTest.data };
    delete data.message;
    delete data.keyId;
    const bare = { ...webhookTest, data } as unknown as OutboundEvent;
    expect(slack(bare).text).toBe('Test event from Tiebreak for endpoint psa');
    const content = card(teams(bare));
    expect(content.body[1]?.text).toContain('This is a test');
    expect(content.body[2]?.facts?.map((f) => f.title)).toEqual(['Endpoint', 'Event', 'When']);
    expect(pagerDuty(bare).payload?.summary).toContain('no action is needed');
  });
});

describe('every template', () => {
  it('renders the same bytes every time (a retried or replayed delivery must not change)', () => {
    for (const template of WebhookTemplate.options) {
      for (const e of [step('incident.opened'), step('incident.resolved'), nodeLost, webhookTest]) {
        const copy = JSON.parse(JSON.stringify(e)) as OutboundEvent;
        expect(renderWebhookBody(template, copy, { routingKey })).toBe(renderWebhookBody(template, e, { routingKey }));
      }
    }
  });

  it('cuts long names within the limits, never through an escape or an emoji', () => {
    const long = step('incident.opened', { siteName: `${'&'.repeat(2_000)}${'🦷'.repeat(2_000)}` });
    const body = slack(long);
    expect(block(body, 'header')?.text?.text.length).toBeLessThanOrEqual(150);
    expect(body.text.length).toBeLessThanOrEqual(3000);
    const section = block(body, 'section')?.text?.text ?? '';
    expect(section.length).toBeLessThanOrEqual(3000);
    expect(section).toContain('*Site:* &amp;&amp;');
    expect(section).not.toMatch(/&[a-z]{0,3}…/);
    expect(section).toContain('*When:*'); // the facts after the long one are still there
    const emoji = slack(step('incident.opened', { siteName: '🦷'.repeat(2_000) }));
    expect(block(emoji, 'header')?.text?.text.isWellFormed()).toBe(true);
    expect(block(emoji, 'header')?.text?.text.endsWith('…')).toBe(true);

    const pd = pagerDuty(long);
    expect(pd.payload?.summary.length).toBeLessThanOrEqual(1024);
    expect(pd.payload?.source.length).toBeLessThanOrEqual(255);
    expect(pd.payload?.summary.isWellFormed()).toBe(true);
    expect(card(teams(long)).body[0]?.text?.length).toBeLessThanOrEqual(200);
  });
});

/** Every string in a parsed body: none may hold half a surrogate pair left by a cut. */
function* strings(value: unknown): Generator<string> {
  if (typeof value === 'string') yield value;
  else if (Array.isArray(value)) for (const v of value) yield* strings(v);
  else if (typeof value === 'object' && value !== null) for (const v of Object.values(value)) yield* strings(v);
}

/** What each tool refuses: Slack's block limits, Teams' 28 KB message, PagerDuty's summary, dedup key and 512 KB. */
function expectWithinLimits(template: WebhookTemplate, event: OutboundEvent, body: string): void {
  const parsed: unknown = JSON.parse(body);
  for (const s of strings(parsed)) expect(s.isWellFormed()).toBe(true);
  const bytes = new TextEncoder().encode(body).length;
  switch (template) {
    case 'generic': {
      // The envelope as it is, first, and the three fields beside it.
      const { site, customer, links: linked, ...envelope } = parsed as Record<string, unknown>;
      expect(body.startsWith(JSON.stringify(event).slice(0, -1))).toBe(true);
      expect(envelope).toEqual(JSON.parse(JSON.stringify(event)));
      expect([site, customer, linked].every((v) => v === null || typeof v === 'object')).toBe(true);
      break;
    }
    case 'slack': {
      const b = parsed as SlackBody;
      expect(b.text.length).toBeGreaterThan(0);
      expect(b.text.length).toBeLessThanOrEqual(3000);
      expect(b.blocks.length).toBeLessThanOrEqual(50);
      expect(block(b, 'header')!.text!.text.length).toBeLessThanOrEqual(150);
      expect(block(b, 'section')!.text!.text.length).toBeLessThanOrEqual(3000);
      for (const e of block(b, 'context')!.elements!) expect(e.text.length).toBeLessThanOrEqual(3000);
      for (const button of block(b, 'actions')?.elements ?? []) {
        expect(button.url!.length).toBeLessThanOrEqual(3000);
        expect(button.action_id!.length).toBeLessThanOrEqual(255);
      }
      break;
    }
    case 'teams':
      expect(bytes).toBeLessThanOrEqual(28 * 1024);
      break;
    case 'pagerduty': {
      const b = parsed as PagerDutyBody;
      expect(bytes).toBeLessThanOrEqual(512 * 1024);
      expect(b.dedup_key.length).toBeLessThanOrEqual(255);
      if (b.payload) expect(b.payload.summary.length).toBeLessThanOrEqual(1024);
      break;
    }
  }
}

describe('whatever the event data says', () => {
  it('every template gives null or valid JSON within its tool’s limits, and never throws', () => {
    // Short text mostly, and long text of any code point or of the characters that grow when escaped.
    const anyText = fc.oneof(
      { arbitrary: fc.string({ unit: 'binary', maxLength: 40 }), weight: 4 },
      { arbitrary: fc.string({ unit: 'binary', minLength: 500, maxLength: 3000 }), weight: 1 },
      {
        arbitrary: fc.string({ unit: fc.constantFrom('\u0000', '&', '<', '>', '"', '\\', 'é', '🦷'), minLength: 500, maxLength: 3000 }),
        weight: 1,
      },
    );
    const maybe = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: undefined });
    const link = fc.oneof(anyText, fc.webUrl(), fc.constant(links.acknowledge));
    fc.assert(
      fc.property(
        fc.constantFrom(...WebhookTemplate.options),
        fc.constantFrom(...EventType.options),
        fc.record({
          siteId: anyText,
          siteName: fc.option(anyText),
          customer: maybe(fc.option(anyText)),
          nodeId: maybe(anyText),
          incidentId: maybe(anyText),
          kind: maybe(anyText),
          state: maybe(anyText),
          by: maybe(anyText),
          subjects: maybe(fc.array(anyText, { maxLength: 30, size: 'max' })),
          level: maybe(fc.oneof(fc.integer(), fc.double())),
          links: maybe(fc.option(fc.record({ acknowledge: link, resolve: link }))),
          severity: fc.constantFrom('info', 'warning', 'critical'),
        }),
        // Odd shapes where objects belong: the guards must leave them out.
        fc.dictionary(fc.constantFrom('incident', 'site', 'customer', 'links', 'subjects', 'level', 'alert', 'endpointId'), fc.jsonValue()),
        (template, type, d, odd) => {
          const data = {
            ...odd,
            resellerId: 'r',
            siteId: d.siteId,
            severity: d.severity,
            ...(d.siteName === null ? {} : { site: { siteId: d.siteId, name: d.siteName } }),
            ...(d.customer === undefined ? {} : { customer: d.customer === null ? null : { customerId: 'c', name: d.customer } }),
            ...(d.nodeId === undefined ? {} : { nodeId: d.nodeId }),
            ...(d.incidentId === undefined ? {} : { incidentId: d.incidentId }),
            ...(d.kind === undefined ? {} : { kind: d.kind }),
            ...(d.state === undefined
              ? {}
              : { incident: { state: d.state, subjects: d.subjects, acknowledgedBy: d.by, resolvedBy: d.by } }),
            ...(d.by === undefined ? {} : { by: d.by }),
            ...(d.subjects === undefined ? {} : { subjects: d.subjects }),
            ...(d.level === undefined ? {} : { level: d.level }),
            ...(d.links === undefined ? {} : { links: d.links }),
          };
          // The data is not what the schema promises: that is the point.
          const event = { id: 'r/s/e', type, timestamp: at, data } as unknown as StoredEvent;
          const body = renderWebhookBody(template, event, { routingKey });
          if (body === null) {
            expect(template).toBe('pagerduty');
            return;
          }
          expectWithinLimits(template, event, body);
          expect(renderWebhookBody(template, event, { routingKey })).toBe(body);
        },
      ),
      { numRuns: 200 },
    );
  });
});
