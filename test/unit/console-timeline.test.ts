import { describe, expect, it } from 'vitest';
import { describeEvent, timeline } from '../../console/timeline.ts';
import { EventType, type StoredEvent } from '../../protocol/events.ts';
import { trailOf } from '../support/trail-events.ts';

const at = Date.parse('2026-11-10T10:00:00Z');
const event = trailOf('acme', 'main-office');
const say = (e: StoredEvent) => describeEvent(e).text;

describe('the console’s timeline: audit trail events in plain words', () => {
  it.each([
    [
      event('1', 'failover.granted', at, { nodeId: 'node-a', epoch: 1, previousPrimary: null, previousLeaseEndedAt: null }),
      'node-a became primary (epoch 1)',
    ],
    [
      event('2', 'failover.granted', at + 30_000, { nodeId: 'node-b', epoch: 3, previousPrimary: 'node-a', previousLeaseEndedAt: at }),
      'node-b became primary (epoch 3), taking over from node-a, after 30 s without a primary',
    ],
    [event('3', 'failover.completed', at, { nodeId: 'node-b', epoch: 3 }), 'node-b finished taking over as primary (epoch 3)'],
    [
      event('4', 'node.lost', at, { nodeId: 'node-b', reportedBy: 'node-a', severity: 'critical' }),
      'node-b stopped answering (reported by node-a)',
    ],
    [event('5', 'node.recovered', at, { nodeId: 'node-b', reportedBy: 'node-a' }), 'node-b is answering again'],
    [
      event('6', 'node.recovered', at, { nodeId: 'node-a', recoveredFrom: 'node.degraded', health: 80 }),
      'node-a is healthy again (health 80)',
    ],
    [event('7', 'node.degraded', at, { nodeId: 'node-a', health: 30, threshold: 50 }), "node-a's health fell to 30 (under 50)"],
    [event('8', 'link.lost', at), 'The link between the nodes was cut; both still answer'],
    [event('9', 'link.restored', at), 'The link between the nodes is back'],
    [event('10', 'site.down', at, { severity: 'critical' }), 'No node answered: the site is down'],
    [event('11', 'site.recovered', at), 'The site answers again'],
    [
      event('12', 'node.excluded', at, { nodeId: 'node-b', survivor: 'node-a', epoch: 2 }),
      'node-b was excluded: node-a runs alone (survivor mode)',
    ],
    [
      event('13', 'node.readmitted', at, { nodeId: 'node-b', survivor: 'node-a', by: 'survivor' }),
      'node-b was readmitted: the survivor hears it again',
    ],
    [event('14', 'node.readmitted', at, { nodeId: 'node-b', by: 'operator' }), 'node-b was readmitted: an operator readmitted it'],
    [
      event('15', 'failover.forced', at, { nodeId: 'node-b', epoch: 4, confirm: 'node-a is powered off', reason: 'no power' }),
      'An operator forced node-b to primary (epoch 4), declaring “node-a is powered off”: no power',
    ],
    [
      event('16', 'command.unacknowledged', at, { nodeId: 'node-a', commandType: 'demote', epoch: 2 }),
      'node-a has not acknowledged its demote command (epoch 2)',
    ],
    [
      event('17', 'command.acknowledged', at, { nodeId: 'node-a', commandType: 'demote', outcome: 'superseded' }),
      "node-a's demote command was superseded by a newer epoch",
    ],
    [event('18', 'incident.opened', at, { incidentId: 'node-lost-1', kind: 'node.lost' }), 'Incident opened: node lost'],
    [
      event('19', 'incident.escalated', at, { incidentId: 'node-lost-1', kind: 'node.lost', level: 2 }),
      'Incident (node lost) escalated to level 2',
    ],
    [
      event('20', 'incident.acknowledged', at, { incidentId: 'node-lost-1', kind: 'node.lost', by: 'api-key:0a1b2c3d4e5f' }),
      'Incident (node lost) acknowledged with API key 0a1b2c3d4e5f',
    ],
    [
      event('21', 'incident.resolved', at, { incidentId: 'node-lost-1', kind: 'node.lost', by: 'recovery' }),
      'Incident (node lost) resolved (the condition recovered)',
    ],
    [event('22', 'alert.raised', at, { alert: 'ups-power', integrationName: 'UPS' }), 'Alert ups-power from UPS raised'],
    [
      event('22b', 'alert.raised', at, { alert: 'ups-power', integrationName: 'UPS', summary: 'UPS on battery, 38 min left' }),
      'Alert ups-power from UPS raised: UPS on battery, 38 min left',
    ],
    [event('23', 'webhook.failed', at, { endpointId: 'psa' }), 'A webhook delivery to psa failed after all its tries'],
  ])('%#: %s', (e, words) => {
    expect(say(e)).toBe(words);
  });

  it('has its own sentence for every event type, even with none of the optional fields', () => {
    for (const type of EventType.options) {
      const words = say(event(type, type, at));
      expect(words, type).not.toContain(type);
      expect(words, type).not.toMatch(/undefined|null|NaN|\[object/);
    }
  });

  it('fields of the wrong type (events come from storage) are left out, not printed', () => {
    const stored = event('x', 'failover.granted', at, { nodeId: 'node-a', epoch: 1, previousPrimary: 'node-b' });
    expect(say({ ...stored, data: { ...stored.data, previousLeaseEndedAt: 'soon' as unknown as number } })).toBe(
      'node-a became primary (epoch 1), taking over from node-b',
    );
  });

  it('lists the trail newest first, each with its time and severity', () => {
    const entries = timeline([
      event('a', 'node.lost', at, { nodeId: 'node-b', severity: 'critical' }),
      event('b', 'node.recovered', at + 60_000, { nodeId: 'node-b' }),
    ]);
    expect(entries).toEqual([
      { id: 'b', at: at + 60_000, severity: 'info', text: 'node-b is answering again' },
      { id: 'a', at, severity: 'critical', text: 'node-b stopped answering' },
    ]);
  });
});
