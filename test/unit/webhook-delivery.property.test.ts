import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EventType, type StoredEvent } from '../../protocol/events.ts';
import {
  afterAttempt,
  defaultWebhookSettings as settings,
  endpointsFor,
  retryDelayMs,
  rotatedSecrets,
  signingSecrets,
} from '../../functions/domain/webhook-delivery.ts';
import { type MessageImage, webhookEventsOf } from '../../functions/domain/webhook-events.ts';

const hour = 3_600_000;
const random = fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true });

describe('the retry schedule', () => {
  it('tries eight times: at once, then about 5 s, 5 min, 30 min, 2 h, 5 h, 10 h and 10 h later, each wait within 20% of its mark', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 12 }), random, (attempt, r) => {
        const wait = retryDelayMs(attempt, settings, r);
        const mark = [5_000, 300_000, 1_800_000, 2 * hour, 5 * hour, 10 * hour, 10 * hour][attempt - 1];
        if (mark === undefined) {
          expect(wait).toBeNull();
        } else {
          expect(wait).toBeGreaterThanOrEqual(mark * 0.8);
          expect(wait).toBeLessThanOrEqual(mark * 1.2);
        }
      }),
    );
  });

  it('a message that keeps failing is given up after about 28 hours (22 to 34), never sooner', () => {
    fc.assert(
      fc.property(fc.array(random, { minLength: 8, maxLength: 8 }), (draws) => {
        let now = 0;
        let after = afterAttempt(1, { kind: 'failed' }, { failingSince: null }, now, settings, draws[0] ?? 0);
        for (let attempt = 2; after.status === 'pending'; attempt++) {
          expect(after.nextAttemptAt).toBeGreaterThan(now);
          now = after.nextAttemptAt ?? now;
          after = afterAttempt(attempt, { kind: 'failed' }, { failingSince: null }, now, settings, draws[attempt - 1] ?? 0);
        }
        expect(after).toMatchObject({ status: 'failed', failure: 'exhausted', attempts: 8 });
        expect(now).toBeGreaterThan(22 * hour);
        expect(now).toBeLessThan(34 * hour);
      }),
    );
  });
});

describe('one try', () => {
  it('2xx delivers; 410 fails the message and disables the endpoint; a disabled endpoint fails it without a send', () => {
    expect(afterAttempt(3, { kind: 'delivered' }, { failingSince: 0 }, 10, settings, 0.5)).toMatchObject({
      status: 'delivered',
      attempts: 3,
      disabledEndpoint: null,
    });
    expect(afterAttempt(1, { kind: 'gone' }, { failingSince: null }, 10, settings, 0.5)).toMatchObject({
      status: 'failed',
      failure: 'gone',
      disabledEndpoint: 'gone',
    });
    expect(afterAttempt(1, { kind: 'endpoint-disabled' }, { failingSince: null }, 10, settings, 0.5)).toMatchObject({
      status: 'failed',
      failure: 'endpoint-disabled',
      disabledEndpoint: null,
    });
  });

  it('an endpoint whose every delivery has failed for 5 days is disabled by the next failure, not before', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 10 * 24 * hour }), fc.integer({ min: 1, max: 8 }), random, (failingFor, attempt, r) => {
        const now = 20 * 24 * hour;
        const after = afterAttempt(attempt, { kind: 'failed' }, { failingSince: now - failingFor }, now, settings, r);
        expect(after.disabledEndpoint === 'failing').toBe(failingFor >= settings.disableAfterFailingMs);
      }),
    );
  });
});

const event = (type: EventType, endpointId?: string): StoredEvent => ({
  id: `e-${type}`,
  type,
  timestamp: '2026-11-29T10:00:00.000Z',
  data: { resellerId: 'r', siteId: 's', severity: 'warning', ...(endpointId ? { endpointId } : {}) },
});

/** An endpoint of a, b or c, hearing any subset of the event types. */
const endpoint = fc.record({
  endpointId: fc.constantFrom('a', 'b', 'c'),
  enabled: fc.boolean(),
  eventTypes: fc.subarray([...EventType.options]),
  failingSince: fc.constant(null),
});

describe('which endpoints hear an event', () => {
  it('exactly those whose filter names its type, disabled ones included (kept for a replay), never the endpoint a webhook failure is about', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(endpoint, { selector: (e) => e.endpointId }),
        fc.constantFrom(...EventType.options),
        fc.constantFrom('a', 'b', undefined),
        (endpoints, type, about) => {
          const chosen = endpointsFor(event(type, about), endpoints).map((e) => e.endpointId);
          const expected = endpoints
            .filter((e) => e.eventTypes.includes(type) && !(type.startsWith('webhook.') && e.endpointId === about))
            .map((e) => e.endpointId);
          expect(chosen).toEqual(expected);
        },
      ),
    );
  });
});

describe('one incident step, one message per endpoint', () => {
  const incidentTypes = ['incident.opened', 'incident.escalated', 'incident.acknowledged', 'incident.resolved'] as const;
  /** Where each incident event lists the targets of its step. */
  const listedIn = {
    'incident.opened': 'firstTargets',
    'incident.escalated': 'targets',
    'incident.acknowledged': 'notified',
    'incident.resolved': 'notified',
  } as const;
  const target = fc.oneof(
    fc.constant({ type: 'service-queue' as const }),
    fc.constant({ type: 'email' as const, address: 'oncall@example.com' }),
    fc.constantFrom('a', 'b', 'c').map((endpointId) => ({ type: 'webhook' as const, endpointId })),
  );

  it('an incident event from the topic skips the endpoints its step reaches as escalation targets, and only those', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(endpoint, { selector: (e) => e.endpointId }),
        fc.constantFrom(...incidentTypes),
        fc.array(target, { maxLength: 4 }),
        (endpoints, type, targets) => {
          const e = event(type);
          const withTargets: StoredEvent = { ...e, data: { ...e.data, [listedIn[type]]: targets } };
          const escalated = new Set(targets.flatMap((t) => (t.type === 'webhook' ? [t.endpointId] : [])));
          const chosen = endpointsFor(withTargets, endpoints).map((x) => x.endpointId);
          // Twice the same: a redelivered event decides the same.
          expect(endpointsFor(withTargets, endpoints).map((x) => x.endpointId)).toEqual(chosen);
          expect(chosen).toEqual(
            endpoints.filter((x) => x.eventTypes.includes(type) && !escalated.has(x.endpointId)).map((x) => x.endpointId),
          );
        },
      ),
    );
  });

  it('an incident event without its targets (published before they were carried) goes to every subscriber', () => {
    const endpoints = [{ endpointId: 'a', enabled: true, eventTypes: [...incidentTypes], failingSince: null }];
    for (const type of incidentTypes) expect(endpointsFor(event(type), endpoints).map((x) => x.endpointId)).toEqual(['a']);
  });
});

describe('secret rotation', () => {
  it('the new secret signs at once, the old ones until the overlap ends, and an expired secret never signs again', () => {
    const secret = fc.record({ secret: fc.string({ minLength: 1 }), createdAt: fc.nat(1000), expiresAt: fc.option(fc.nat(5000)) });
    fc.assert(
      fc.property(fc.array(secret, { maxLength: 4 }), fc.nat(3000), fc.nat(3000), (secrets, now, overlap) => {
        const fresh = { secret: 'fresh', createdAt: now, expiresAt: null };
        const rotated = rotatedSecrets(secrets, fresh, now, overlap);
        expect(rotated[0]).toEqual(fresh);
        expect(signingSecrets(rotated, now)[0]).toBe('fresh');
        for (const s of rotated.slice(1)) expect(s.expiresAt).toBeLessThanOrEqual(now + overlap);
        expect(signingSecrets(rotated, now + overlap)).toEqual(['fresh']);
        const live = secrets.filter((s) => s.expiresAt === null || s.expiresAt > now).length;
        expect(signingSecrets(rotated, now).length).toBe(overlap > 0 ? 1 + live : 1);
      }),
    );
  });
});

describe('events of a webhook message', () => {
  const message = (over: Partial<MessageImage>): MessageImage => ({
    resellerId: 'r',
    endpointId: 'ops',
    messageId: 'msg_1',
    eventId: 'e1',
    eventType: 'node.lost',
    siteId: 's',
    status: 'pending',
    failure: null,
    attempts: 7,
    round: 0,
    lastStatus: 500,
    lastAttemptAt: 1_000,
    disabledEndpoint: null,
    ...over,
  });

  it('webhook.failed once when the tries run out, again only for a later round; webhook.disabled when a try disabled the endpoint', () => {
    const exhausted = message({ status: 'failed', failure: 'exhausted', attempts: 8 });
    expect(webhookEventsOf(message({}), exhausted).map((e) => e.type)).toEqual(['webhook.failed']);
    expect(webhookEventsOf(exhausted, exhausted)).toEqual([]);
    expect(webhookEventsOf(exhausted, { ...exhausted, round: 1 }).map((e) => e.id)).not.toEqual(
      webhookEventsOf(message({}), exhausted).map((e) => e.id),
    );
    const gone = message({ status: 'failed', failure: 'gone', attempts: 1, disabledEndpoint: 'gone', lastStatus: 410 });
    expect(webhookEventsOf(message({ attempts: 0 }), gone)).toEqual([
      expect.objectContaining({
        type: 'webhook.disabled',
        data: expect.objectContaining({ reason: 'gone', endpointId: 'ops', severity: 'critical' }) as unknown,
      }),
    ]);
    expect(webhookEventsOf(undefined, message({ attempts: 0, lastAttemptAt: null }))).toEqual([]);
    expect(webhookEventsOf(message({}), message({ status: 'delivered', attempts: 8 }))).toEqual([]);
  });

  it("none for a test's message (webhook.test, about no site: no trail to put them in), even when its tries ran out or it disabled the endpoint", () => {
    const test = { eventType: 'webhook.test', siteId: null } as const;
    expect(webhookEventsOf(message({ ...test }), message({ ...test, status: 'failed', failure: 'exhausted', attempts: 8 }))).toEqual([]);
    expect(
      webhookEventsOf(
        message({ ...test, attempts: 0 }),
        message({ ...test, status: 'failed', failure: 'gone', attempts: 1, disabledEndpoint: 'gone', lastStatus: 410 }),
      ),
    ).toEqual([]);
  });
});
