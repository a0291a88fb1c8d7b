import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { WitnessEvent as EventSchema } from '../../protocol/events.ts';
import { eventsOf } from '../../functions/domain/events.ts';
import { defaultSettings, type WitnessSettings } from '../../functions/domain/settings.ts';
import { isSilent } from '../../functions/domain/silence.ts';
import { newSite } from '../../functions/domain/site-state.ts';
import { callers, nodeOf, Recorder } from '../support/event-recorder.ts';

const settings = defaultSettings;
const t0 = 1_800_000_000_000;

/**
 * Both nodes up, node-a primary at epoch 1 (promote acknowledged); node-b dies after t0 + 1 s
 * (reporting its peer unreachable, so on the fast cadence) and node-a renews alone until node-b is
 * excluded, at t0 + 36 s.
 */
function survivorMode(settings: WitnessSettings = defaultSettings): Recorder {
  const r = new Recorder(settings);
  r.heartbeat('a', t0, 0, 'secondary', true);
  r.heartbeat('b', t0, 0, 'secondary', true);
  r.claim('a', t0, 0);
  r.heartbeat('b', t0 + 1_000, 1, 'secondary', false);
  r.heartbeat('a', t0 + 5_000, 1, 'primary', false, { acks: ['1-promote-node-a'] });
  r.heartbeat('a', t0 + 35_999, 1, 'primary', false);
  expect(r.witness.state.exclusion).toBeUndefined();
  r.heartbeat('a', t0 + 36_000, 1, 'primary', false);
  expect(r.witness.state.exclusion).toMatchObject({ nodeId: 'node-b', at: t0 + 36_000 });
  return r;
}

describe('the events of a change', () => {
  test('a failover, told as it happened: granted, completed, the peer lost, granted to the other, completed', () => {
    const r = new Recorder();
    r.heartbeat('a', t0, 0, 'secondary', true);
    r.heartbeat('b', t0 + 100, 0, 'secondary', true);
    r.claim('a', t0 + 200, 0);
    r.heartbeat('a', t0 + 1_000, 1, 'primary', true, { acks: ['1-promote-node-a'] });
    // node-a dies after its renewal at t0 + 1 s (lease to t0 + 16 s); node-b notices at its next fast
    // heartbeat, t0 + 5 s, and still does not reach it a freshness window later, at t0 + 20 s: lost.
    r.heartbeat('b', t0 + 5_000, 1, 'secondary', false);
    r.heartbeat('b', t0 + 5_000 + settings.freshnessMs, 1, 'secondary', false);
    r.claim('b', t0 + 20_100, 1);
    r.heartbeat('b', t0 + 21_000, 2, 'primary', false, { acks: ['2-promote-node-b'] });

    expect(r.events.map((e) => `${e.type} ${nodeOf(e)}`)).toEqual([
      'failover.granted node-a',
      'failover.completed node-a',
      'node.lost node-a',
      'failover.granted node-b',
      'failover.completed node-b',
    ]);
    const [first, , lost, second] = r.events;
    expect(first?.data).toMatchObject({ epoch: 1, previousPrimary: null, previousLeaseEndedAt: null, severity: 'info' });
    expect(lost?.data).toMatchObject({ severity: 'critical', reportedBy: 'node-b', leaseEndedAt: t0 + 16_000 });
    expect(lost?.timestamp).toBe(new Date(t0 + 20_000).toISOString());
    expect(second?.data).toMatchObject({ epoch: 2, previousPrimary: 'node-a', previousLeaseEndedAt: t0 + 16_000, severity: 'warning' });
    expect(second?.timestamp).toBe(new Date(t0 + 20_100).toISOString());
    for (const e of r.events) expect(EventSchema.safeParse(e).success).toBe(true);
  });

  test('a cut link while both nodes report: lost, then restored; a node under the threshold: degraded once', () => {
    const r = new Recorder();
    r.witness.state = { ...r.witness.state, policy: { ...r.witness.state.policy, healthThreshold: 50 } };
    r.heartbeat('a', t0, 0, 'secondary', true, { health: 90 });
    r.heartbeat('b', t0 + 10, 0, 'secondary', true, { health: 90 });
    r.heartbeat('a', t0 + 1_000, 0, 'secondary', false, { health: 40 });
    r.heartbeat('b', t0 + 1_010, 0, 'secondary', false, { health: 90 });
    r.heartbeat('a', t0 + 2_000, 0, 'secondary', false, { health: 30 });
    r.heartbeat('a', t0 + 3_000, 0, 'secondary', true, { health: 30 });
    expect(r.events.map((e) => `${e.type} ${nodeOf(e)}`)).toEqual(['node.degraded node-a', 'link.lost ', 'link.restored ']);
  });

  test('a site silent for silenceMs is down once, however often the detector looks, and recovered at the next contact', () => {
    const r = new Recorder();
    r.heartbeat('a', t0, 0, 'secondary', true);
    r.claim('a', t0 + 100, 0);
    r.heartbeat('b', t0 + 200, 1, 'secondary', true);
    r.heartbeat('a', t0 + 1_000, 1, 'primary', true, { acks: ['1-promote-node-a'] });
    // Both fall silent (the office lost power); the detector looks before, at and after the silence.
    r.detect(t0 + 1_000 + settings.silenceMs - 1);
    r.detect(t0 + 1_000 + settings.silenceMs);
    r.detect(t0 + 1_000 + settings.silenceMs + 60_000);
    r.heartbeat('b', t0 + 900_000, 1, 'secondary', true);
    r.detect(t0 + 900_001);
    expect(r.events.map((e) => e.type)).toEqual(['failover.granted', 'failover.completed', 'site.down', 'site.recovered']);
    const [, , down, recovered] = r.events;
    expect(down).toMatchObject({
      id: `r/s/site.down/${String(t0 + 1_000 + settings.silenceMs)}`,
      timestamp: new Date(t0 + 1_000 + settings.silenceMs).toISOString(),
      data: { severity: 'critical', lastSeenAt: t0 + 1_000, nodeIds: ['node-a', 'node-b'], leaseEndedAt: t0 + 1_000 + settings.leaseMs },
    });
    expect(recovered).toMatchObject({
      id: `r/s/site.recovered/${String(t0 + 1_000 + settings.silenceMs)}`,
      timestamp: new Date(t0 + 900_000).toISOString(),
      data: { severity: 'info', downSince: t0 + 1_000 },
    });
    for (const e of r.events) expect(EventSchema.safeParse(e).success).toBe(true);
  });

  test('a primary whose lease lapsed in a silence renews in a later change than the return: node.recovered tells the renewal', () => {
    const r = new Recorder();
    r.heartbeat('a', t0, 0, 'secondary', true);
    r.claim('a', t0 + 100, 0);
    r.heartbeat('b', t0 + 200, 1, 'secondary', true);
    r.heartbeat('a', t0 + 1_000, 1, 'primary', true, { acks: ['1-promote-node-a'] });
    const leaseEnd = t0 + 1_000 + settings.leaseMs;
    r.detect(t0 + 1_000 + settings.silenceMs);
    expect(r.witness.state.lapsed).toEqual({ primary: 'node-a', epoch: 1, leaseEndedAt: leaseEnd });
    // The power comes back: both reboot, heartbeat as secondaries, then node-a's start-up claim renews.
    r.heartbeat('b', t0 + 900_000, 1, 'secondary', true);
    r.heartbeat('a', t0 + 900_500, 1, 'secondary', true);
    expect(r.witness.state.lapsed).toEqual({ primary: 'node-a', epoch: 1, leaseEndedAt: leaseEnd });
    const rev = r.witness.state.rev + 1;
    r.claim('a', t0 + 901_000, 1);
    expect(r.witness.state.lapsed).toBeUndefined();
    // Renewing again tells nothing more.
    r.heartbeat('a', t0 + 902_000, 1, 'primary', true);
    expect(r.events.map((e) => e.type)).toEqual([
      'failover.granted',
      'failover.completed',
      'site.down',
      'site.recovered',
      'node.recovered',
    ]);
    expect(r.events[3]?.data).toMatchObject({ primary: 'node-a', epoch: 1, leaseRenewedAt: null });
    expect(r.events[4]).toEqual({
      id: `r/s/node.recovered/node-a/renewed/${String(rev)}`,
      type: 'node.recovered',
      timestamp: new Date(t0 + 901_000).toISOString(),
      data: {
        resellerId: 'r',
        siteId: 's',
        severity: 'info',
        nodeId: 'node-a',
        primary: 'node-a',
        epoch: 1,
        leaseRenewedAt: t0 + 901_000,
        previousLeaseEndedAt: leaseEnd,
        recoveredFrom: 'site.down',
      },
    });
    for (const e of r.events) expect(EventSchema.safeParse(e).success).toBe(true);
  });

  test('a lapse ended by the return itself, or by a grant, tells nothing more', () => {
    const running = (): Recorder => {
      const r = new Recorder();
      r.heartbeat('a', t0, 0, 'secondary', true);
      r.claim('a', t0 + 100, 0);
      r.heartbeat('b', t0 + 200, 1, 'secondary', true);
      r.heartbeat('a', t0 + 1_000, 1, 'primary', true, { acks: ['1-promote-node-a'] });
      r.detect(t0 + 1_000 + settings.silenceMs);
      return r;
    };
    // The primary's own heartbeat ends the silence: site.recovered tells the renewal.
    const back = running();
    back.heartbeat('a', t0 + 900_000, 1, 'primary', true);
    expect(back.witness.state.lapsed).toBeUndefined();
    expect(back.events.slice(2).map((e) => [e.type, e.data.leaseRenewedAt])).toEqual([
      ['site.down', undefined],
      ['site.recovered', t0 + 900_000],
    ]);
    // The secondary takes over: the grant removes the lapse, and failover.granted tells it.
    // node-b is back first, not reaching node-a; still not a freshness window later: node-a is lost.
    const over = running();
    over.heartbeat('b', t0 + 900_000, 1, 'secondary', false);
    over.heartbeat('b', t0 + 900_000 + settings.freshnessMs, 1, 'secondary', false);
    over.claim('b', t0 + 900_100 + settings.freshnessMs, 1);
    expect(over.witness.state.lapsed).toBeUndefined();
    over.heartbeat('a', t0 + 900_200 + settings.freshnessMs, 1, 'primary', true);
    // node-a, unheard for 15 minutes, is excluded in the grant (W5): node-b's lease is standalone.
    expect(over.events.slice(2).map((e) => `${e.type} ${nodeOf(e)}`)).toEqual([
      'site.down ',
      'site.recovered ',
      'node.lost node-a',
      'failover.granted node-b',
      'node.excluded node-a',
      'node.recovered node-a',
    ]);
    expect(over.events.at(-1)?.data).toMatchObject({ leaseRenewedAt: null });
  });

  test('a site down with no primary says so: its lease ended nowhere', () => {
    const r = new Recorder();
    r.heartbeat('a', t0, 0, 'secondary', true);
    r.detect(t0 + settings.silenceMs);
    expect(r.events).toEqual([
      expect.objectContaining({ type: 'site.down', data: expect.objectContaining({ leaseEndedAt: null, lastSeenAt: t0 }) as unknown }),
    ]);
  });

  test('a lost node is recovered when it is heard again, or when its peer reaches it again', () => {
    const heard = new Recorder();
    heard.heartbeat('a', t0, 0, 'secondary', true);
    heard.heartbeat('b', t0 + 100, 0, 'secondary', true);
    heard.heartbeat('b', t0 + 30_000, 0, 'secondary', false);
    heard.heartbeat('b', t0 + 35_000, 0, 'secondary', false);
    heard.heartbeat('b', t0 + 30_000 + settings.freshnessMs, 0, 'secondary', false);
    heard.heartbeat('a', t0 + 50_000, 0, 'secondary', true);
    expect(heard.events.map((e) => `${e.type} ${nodeOf(e)} ${e.timestamp}`)).toEqual([
      `node.lost node-a ${new Date(t0 + 30_000 + settings.freshnessMs).toISOString()}`,
      `node.recovered node-a ${new Date(t0 + 50_000).toISOString()}`,
    ]);

    const reached = new Recorder();
    reached.heartbeat('a', t0, 0, 'secondary', true);
    reached.heartbeat('b', t0 + 100, 0, 'secondary', true);
    reached.heartbeat('b', t0 + 30_000, 0, 'secondary', false);
    reached.heartbeat('b', t0 + 30_000 + settings.freshnessMs, 0, 'secondary', false);
    reached.heartbeat('b', t0 + 31_000 + settings.freshnessMs, 0, 'secondary', true);
    expect(reached.events.map((e) => `${e.type} ${nodeOf(e)}`)).toEqual(['node.lost node-a', 'node.recovered node-a']);
    expect(reached.events[1]?.data).toMatchObject({ severity: 'info', reportedBy: 'node-b' });
    expect(reached.events[1]?.timestamp).toBe(new Date(t0 + 31_000 + settings.freshnessMs).toISOString());
  });

  test('a link lost while the peer is on the slow cadence is not a lost node', () => {
    const r = new Recorder();
    r.heartbeat('a', t0, 0, 'secondary', true);
    r.heartbeat('b', t0 + 10_000, 0, 'secondary', true);
    // Both on the slow cadence: node-b's last heartbeat is 50 s old when node-a loses the link.
    r.heartbeat('a', t0 + 60_000, 0, 'secondary', false);
    expect(t0 + 60_000 - (r.witness.state.nodes['node-b']?.lastSeenAt ?? 0)).toBeGreaterThan(settings.freshnessMs);
    expect(r.events).toEqual([]);
    // node-b, alive, is heard within seconds on the fast cadence, not reaching node-a either.
    r.heartbeat('b', t0 + 64_000, 0, 'secondary', false);
    // A freshness window and more after the first report, each side has been heard since: nobody is lost.
    r.heartbeat('a', t0 + 60_000 + settings.freshnessMs, 0, 'secondary', false);
    r.heartbeat('b', t0 + 64_000 + settings.freshnessMs, 0, 'secondary', false);
    r.heartbeat('a', t0 + 60_000 + 2 * settings.freshnessMs, 0, 'secondary', false);
    expect(r.events.map((e) => e.type)).toEqual(['link.lost']);
    expect(r.events[0]).toMatchObject({ timestamp: new Date(t0 + 64_000).toISOString(), data: { severity: 'warning' } });
    expect(r.events.filter((e) => e.type === 'node.lost')).toEqual([]);
  });

  test('a peer silent for the freshness window after the first unreachable report is lost exactly once', () => {
    const r = new Recorder();
    r.heartbeat('a', t0, 0, 'secondary', true);
    r.heartbeat('b', t0 + 100, 0, 'secondary', true);
    // node-a falls silent; node-b reports it unreachable from t0 + 5 s, every 5 s.
    const first = t0 + 5_000;
    r.heartbeat('b', first, 0, 'secondary', false);
    r.heartbeat('b', first + 5_000, 0, 'secondary', false);
    r.heartbeat('b', first + settings.freshnessMs - 1, 0, 'secondary', false);
    expect(r.events).toEqual([]);
    const rev = r.witness.state.rev + 1;
    r.heartbeat('b', first + settings.freshnessMs, 0, 'secondary', false);
    r.heartbeat('b', first + settings.freshnessMs + 5_000, 0, 'secondary', false);
    r.heartbeat('b', first + 10 * settings.freshnessMs, 0, 'secondary', false);
    expect(r.events).toEqual([
      {
        id: `r/s/node.lost/node-a/${String(rev)}`,
        type: 'node.lost',
        timestamp: new Date(first + settings.freshnessMs).toISOString(),
        data: { resellerId: 'r', siteId: 's', severity: 'critical', nodeId: 'node-a', reportedBy: 'node-b', leaseEndedAt: null },
      },
    ]);
    for (const e of r.events) expect(EventSchema.safeParse(e).success).toBe(true);
  });

  test('no change, no event; a site removed, no event', () => {
    const site = newSite({ resellerId: 'r', siteId: 's', nodeIds: ['node-a', 'node-b'] });
    expect(eventsOf(site, site, settings)).toEqual([]);
    expect(eventsOf(site, undefined, settings)).toEqual([]);
  });
});

describe('commands awaiting acknowledgement (commandAckMs)', () => {
  const ack = defaultSettings.commandAckMs;
  const commandEvents = (r: Recorder) => r.events.filter((e) => e.type.startsWith('command.'));

  /** node-a primary at epoch 1 since t0; its promote was delivered by its heartbeat at t0 + 1 s and is not acknowledged. */
  function promoted(): Recorder {
    const r = new Recorder();
    r.heartbeat('a', t0, 0, 'secondary', true);
    r.heartbeat('b', t0, 0, 'secondary', true);
    r.claim('a', t0, 0);
    r.heartbeat('a', t0 + 1_000, 1, 'primary', true);
    return r;
  }

  test('a promote not acknowledged commandAckMs after its delivery: command.unacknowledged, once, at the first heartbeat past the deadline; the acknowledgement: command.acknowledged', () => {
    const r = promoted();
    r.heartbeat('a', t0 + 1_000 + ack - 1, 1, 'primary', true);
    expect(commandEvents(r)).toEqual([]);
    r.heartbeat('a', t0 + 1_000 + ack, 1, 'primary', true);
    r.heartbeat('a', t0 + 1_000 + ack + 5_000, 1, 'primary', true);
    r.heartbeat('a', t0 + 1_000 + ack + 10_000, 1, 'primary', true, { acks: ['1-promote-node-a'] });
    r.heartbeat('a', t0 + 1_000 + ack + 15_000, 1, 'primary', true);

    expect(commandEvents(r).map((e) => e.type)).toEqual(['command.unacknowledged', 'command.acknowledged']);
    const [late, acked] = commandEvents(r);
    expect(late).toMatchObject({
      timestamp: new Date(t0 + 1_000 + ack).toISOString(),
      data: {
        severity: 'warning',
        nodeId: 'node-a',
        commandId: '1-promote-node-a',
        commandType: 'promote',
        epoch: 1,
        issuedAt: t0,
        deliveredAt: t0 + 1_000,
      },
    });
    expect(acked).toMatchObject({
      timestamp: new Date(t0 + 1_000 + ack + 10_000).toISOString(),
      data: { severity: 'info', nodeId: 'node-a', commandId: '1-promote-node-a', outcome: 'acknowledged', overdueAt: t0 + 1_000 + ack },
    });
    // The promote acknowledged is also the failover completed; every event is valid.
    expect(r.told()).toContain('failover.completed node-a');
    for (const e of r.events) expect(EventSchema.safeParse(e).success).toBe(true);
  });

  test('acknowledged in time, or by the very heartbeat past the deadline: nothing to tell', () => {
    const r = promoted();
    r.heartbeat('a', t0 + 1_000 + ack, 1, 'primary', true, { acks: ['1-promote-node-a'] });
    expect(commandEvents(r)).toEqual([]);
  });

  test('a node owing a promote or demote is asked the fast cadence until it acknowledges, even with its peer link up', () => {
    const r = promoted();
    const owing = r.witness.heartbeat(
      callers.a,
      { incarnation: 1, seq: 90, epoch: 1, role: 'primary', peer: { reachable: true } },
      t0 + 2_000,
    );
    expect(owing).toMatchObject({ status: 200, body: { heartbeatMs: settings.fastHeartbeatMs } });
    // The witness's marks stay home: the wire's command is the protocol's.
    if (owing.status === 200)
      expect(Object.keys(owing.body.commands[0] ?? {}).sort()).toEqual(['epoch', 'id', 'issuedAt', 'reason', 'type']);
    const done = r.witness.heartbeat(
      callers.a,
      { incarnation: 1, seq: 91, epoch: 1, role: 'primary', peer: { reachable: true }, acks: ['1-promote-node-a'] },
      t0 + 3_000,
    );
    expect(done).toMatchObject({ status: 200, body: { heartbeatMs: settings.slowHeartbeatMs, commands: [] } });
  });

  test('a stale primary told to demote that keeps acting as primary: command.unacknowledged for the demote; its acknowledgement as secondary clears it', () => {
    const r = promoted();
    r.heartbeat('a', t0 + 2_000, 1, 'primary', true, { acks: ['1-promote-node-a'] });
    r.heartbeat('b', t0 + 3_000, 0, 'primary', true);
    expect(r.witness.state.nodes['node-b']?.commands['1-demote-node-b']).toMatchObject({ issuedAt: t0 + 3_000, deliveredAt: t0 + 3_000 });
    r.heartbeat('b', t0 + 3_000 + ack, 0, 'primary', true);
    r.heartbeat('b', t0 + 8_000 + ack, 1, 'secondary', true, { acks: ['1-demote-node-b'] });
    expect(
      commandEvents(r).map((e) =>
        `${e.type} ${String(e.data.commandId)} ${typeof e.data.outcome === 'string' ? e.data.outcome : ''}`.trim(),
      ),
    ).toEqual(['command.unacknowledged 1-demote-node-b', 'command.acknowledged 1-demote-node-b acknowledged']);
  });

  test('a demote waiting for a node that was away is delivered at its return and given the full time from then: node.lost covers the absence', () => {
    const r = new Recorder();
    r.heartbeat('a', t0, 0, 'secondary', true);
    r.heartbeat('b', t0, 0, 'secondary', true);
    r.claim('a', t0, 0);
    r.heartbeat('a', t0 + 1_000, 1, 'primary', true, { acks: ['1-promote-node-a'] });
    // node-a vanishes; node-b takes over and node-a owes the demote of epoch 2.
    r.heartbeat('b', t0 + 5_000, 1, 'secondary', false);
    r.heartbeat('b', t0 + 20_000, 1, 'secondary', false);
    r.claim('b', t0 + 20_100, 1);
    r.heartbeat('b', t0 + 21_000, 2, 'primary', false, { acks: ['2-promote-node-b'] });
    // node-a comes back ten minutes later, rebooted as secondary; it acknowledges at its next heartbeat.
    r.heartbeat('a', t0 + 600_000, 1, 'secondary', true);
    r.heartbeat('a', t0 + 605_000, 2, 'secondary', true, { acks: ['2-demote-node-a'] });
    expect(commandEvents(r)).toEqual([]);
  });

  test('an overdue demote superseded by a later grant is no longer awaited: command.acknowledged, superseded', () => {
    const r = promoted();
    r.heartbeat('a', t0 + 1_000 + ack, 1, 'primary', true);
    // node-a never acknowledges; its lease runs out and node-b, fresh and reporting it unreachable, takes over.
    r.heartbeat('b', t0 + 60_000, 1, 'secondary', false);
    r.claim('b', t0 + 60_100, 1);
    expect(r.witness.state.epoch).toBe(2);
    expect(commandEvents(r).map((e) => `${e.type} ${typeof e.data.outcome === 'string' ? e.data.outcome : ''}`.trim())).toEqual([
      'command.unacknowledged',
      'command.acknowledged superseded',
    ]);
    expect(commandEvents(r)[1]?.timestamp).toBe(new Date(t0 + 60_100).toISOString());
  });
});

describe('survivor mode (W5): exclusion, readmission, forced failover', () => {
  const survivorEvents = (r: Recorder) =>
    r.events.filter((e) => ['node.excluded', 'node.readmitted', 'failover.forced', 'failover.granted'].includes(e.type));

  test("an exclusion is told once, as node.excluded, with the survivor and the excluded node's last contact; renewals after it tell nothing", () => {
    const r = survivorMode();
    r.heartbeat('a', t0 + 36_100, 1, 'primary', false);
    r.heartbeat('a', t0 + 96_000, 1, 'primary', false);
    // node-b reported node-a unreachable just before it died, and node-a it: a cut link, then a lost node, then excluded.
    expect(r.told()).toEqual([
      'failover.granted node-a',
      'failover.completed node-a',
      'link.lost',
      'node.lost node-b',
      'node.excluded node-b',
    ]);
    expect(r.events.at(-1)).toEqual({
      id: `r/s/node.excluded/node-b/${String(t0 + 36_000)}`,
      type: 'node.excluded',
      timestamp: new Date(t0 + 36_000).toISOString(),
      data: { resellerId: 'r', siteId: 's', severity: 'critical', nodeId: 'node-b', survivor: 'node-a', epoch: 1, lastSeenAt: t0 + 1_000 },
    });
    for (const e of r.events) expect(EventSchema.safeParse(e).success).toBe(true);
  });

  test('the survivor hearing its peer again: node.readmitted (by the survivor) when it acknowledges end-standalone, not when the command is issued', () => {
    const r = survivorMode();
    r.heartbeat('b', t0 + 100_000, 1, 'secondary', true);
    r.heartbeat('a', t0 + 100_100, 1, 'primary', true);
    expect(r.witness.state.exclusion?.ending).toMatchObject({ by: 'survivor' });
    expect(r.events.filter((e) => e.type === 'node.readmitted')).toEqual([]);
    r.heartbeat('a', t0 + 101_000, 1, 'primary', true, { acks: [`end-standalone-${String(t0 + 36_000)}-node-a`] });
    r.heartbeat('a', t0 + 102_000, 1, 'primary', true);
    const readmitted = r.events.filter((e) => e.type === 'node.readmitted');
    expect(readmitted).toEqual([
      {
        id: `r/s/node.readmitted/node-b/${String(t0 + 36_000)}`,
        type: 'node.readmitted',
        timestamp: new Date(t0 + 101_000).toISOString(),
        data: {
          resellerId: 'r',
          siteId: 's',
          severity: 'info',
          nodeId: 'node-b',
          survivor: 'node-a',
          epoch: 1,
          excludedAt: t0 + 36_000,
          by: 'survivor',
        },
      },
    ]);
    for (const e of r.events) expect(EventSchema.safeParse(e).success).toBe(true);
  });

  test("an operator's readmit: node.readmitted by the operator once the survivor acknowledges, even from a heartbeat where it reports itself fenced", () => {
    const r = survivorMode();
    r.readmit('b', t0 + 50_000);
    expect(r.events.filter((e) => e.type === 'node.readmitted')).toEqual([]);
    r.heartbeat('a', t0 + 55_000, 1, 'primary', false);
    r.heartbeat('a', t0 + 56_000, 1, 'fenced', false, { acks: [`end-standalone-${String(t0 + 36_000)}-node-a`] });
    expect(r.witness.state.exclusion).toBeUndefined();
    expect(r.events.filter((e) => e.type === 'node.readmitted').map((e) => [e.timestamp, e.data.by])).toEqual([
      [new Date(t0 + 56_000).toISOString(), 'operator'],
    ]);
  });

  test('a forced failover: failover.forced with who did it and what they confirmed, the exclusion ended by force, no failover.granted; completed once the forced node acknowledges its promote', () => {
    const r = survivorMode();
    // node-a, the survivor, silent since t0 + 36 s (on the slow cadence): the witness lets it be called off 90 s later.
    r.force('b', t0 + 126_000, 'node-a is powered off');
    expect(r.events.slice(-2)).toEqual([
      {
        id: 'r/s/failover.forced/2',
        type: 'failover.forced',
        timestamp: new Date(t0 + 126_000).toISOString(),
        data: {
          resellerId: 'r',
          siteId: 's',
          severity: 'warning',
          nodeId: 'node-b',
          epoch: 2,
          previousPrimary: 'node-a',
          previousLeaseEndedAt: t0 + 126_000,
          keyId: 'key-7',
          confirm: 'node-a is powered off',
          reason: 'the server room flooded',
        },
      },
      {
        id: `r/s/node.readmitted/node-b/${String(t0 + 36_000)}`,
        type: 'node.readmitted',
        timestamp: new Date(t0 + 126_000).toISOString(),
        data: {
          resellerId: 'r',
          siteId: 's',
          severity: 'info',
          nodeId: 'node-b',
          survivor: 'node-a',
          epoch: 2,
          excludedAt: t0 + 36_000,
          by: 'force',
        },
      },
    ]);
    r.heartbeat('b', t0 + 127_000, 2, 'secondary', false, { health: 90 });
    r.claim('b', t0 + 127_000, 2);
    r.heartbeat('b', t0 + 128_000, 2, 'primary', false, { acks: ['2-promote-node-b'] });
    // node-b is heard again (recovered); node-a, declared off and unheard since t0 + 36 s, is lost as node-b
    // reports it, and excluded by node-b's first renewal (its claim).
    expect(r.told().slice(5)).toEqual([
      'failover.forced node-b',
      'node.readmitted node-b',
      'node.recovered node-b',
      'node.lost node-a',
      'node.excluded node-a',
      'failover.completed node-b',
    ]);
    expect(r.events.filter((e) => e.type === 'failover.granted').map((e) => e.data.epoch)).toEqual([1]);
    for (const e of r.events) expect(EventSchema.safeParse(e).success).toBe(true);
  });

  test("a bounded standalone lease that lapsed: the grant that ends the exclusion tells node.readmitted by lapse, even with an operator's readmit pending, and may exclude the old survivor", () => {
    const r = survivorMode({ ...defaultSettings, standaloneLeaseMs: 60_000 });
    r.readmit('b', t0 + 50_000);
    // node-a is cut off from the witness past its bounded lease (t0 + 96 s, + 500 ms); node-b is back and takes over.
    r.heartbeat('b', t0 + 96_501, 1, 'secondary', false, { health: 90 });
    r.claim('b', t0 + 96_501, 1);
    expect(r.witness.state).toMatchObject({ epoch: 2, primary: 'node-b', exclusion: { nodeId: 'node-a', at: t0 + 96_501 } });
    expect(
      survivorEvents(r)
        .slice(2)
        .map((e) => [e.type, e.data.nodeId, e.data.by]),
    ).toEqual([
      ['failover.granted', 'node-b', undefined],
      ['node.readmitted', 'node-b', 'lapsed'],
      ['node.excluded', 'node-a', undefined],
    ]);
    expect(r.events.find((e) => e.type === 'node.readmitted')?.timestamp).toBe(new Date(t0 + 96_501).toISOString());
  });

  test("a bounded standalone lease that lapsed: the survivor's renewal after it ends the exclusion of a node heard since, told as readmitted by lapse", () => {
    const r = survivorMode({ ...defaultSettings, standaloneLeaseMs: 60_000 });
    r.heartbeat('b', t0 + 96_501, 1, 'secondary', false, { health: 90 });
    r.heartbeat('a', t0 + 96_600, 1, 'primary', false);
    expect(r.witness.state.exclusion).toBeUndefined();
    expect(r.events.filter((e) => e.type === 'node.readmitted').map((e) => [e.timestamp, e.data.by, e.data.epoch])).toEqual([
      [new Date(t0 + 96_600).toISOString(), 'lapsed', 1],
    ]);
  });

  test("a site down while its survivor's lease has no end: site.down says standalone, with no end to the lease, and nothing lapsed", () => {
    const r = survivorMode();
    r.detect(t0 + 36_000 + settings.silenceMs);
    expect(r.witness.state.lapsed).toBeUndefined();
    expect(r.events.at(-1)).toMatchObject({ type: 'site.down', data: { leaseEndedAt: null, standalone: true, lastSeenAt: t0 + 36_000 } });
    // Back: the survivor renews at its epoch; no node.recovered of a lapse that never was.
    r.heartbeat('a', t0 + 900_000, 1, 'primary', false);
    expect(r.told().slice(-2)).toEqual(['site.down', 'site.recovered']);
  });

  test("a site down while its survivor's lease is bounded: the lease ended at its bound, and lapsed", () => {
    const r = survivorMode({ ...defaultSettings, standaloneLeaseMs: 60_000 });
    r.detect(t0 + 36_000 + settings.silenceMs);
    expect(r.witness.state.lapsed).toEqual({ primary: 'node-a', epoch: 1, leaseEndedAt: t0 + 96_000 });
    expect(r.events.at(-1)).toMatchObject({ type: 'site.down', data: { leaseEndedAt: t0 + 96_000, standalone: false } });
  });
});

describe('properties over random request sequences', () => {
  const stepArb = fc.record({
    node: fc.constantFrom<'a' | 'b'>('a', 'b'),
    kind: fc.constantFrom<'heartbeat' | 'claim'>('heartbeat', 'claim'),
    advanceMs: fc.integer({ min: 0, max: 20_000 }),
    role: fc.constantFrom<'primary' | 'secondary'>('primary', 'secondary'),
    peer: fc.boolean(),
    ack: fc.boolean(),
    // The silence detector looks now and then; long advances let sites fall silent.
    detect: fc.boolean(),
    silentMs: fc.constantFrom(0, 0, 0, settings.silenceMs, 2 * settings.silenceMs),
  });

  test('every grant is told once, with the epoch it made; a site is down once per silence; every exclusion is told once and its end once; every event is valid; the same change always tells the same', () => {
    const exclusions = new Set<number>();
    fc.assert(
      fc.property(fc.array(stepArb, { maxLength: 30 }), (steps) => {
        const r = new Recorder();
        let at = t0;
        const epochs: number[] = [];
        for (const s of steps) {
          at += s.advanceMs;
          const epoch = r.witness.state.epoch;
          const before = r.witness.state;
          if (s.kind === 'claim') r.claim(s.node, at, epoch);
          else r.heartbeat(s.node, at, epoch, s.role, s.peer, s.ack ? { acks: [`${epoch}-promote-node-${s.node}`] } : {});
          if (r.witness.state.epoch > before.epoch) epochs.push(r.witness.state.epoch);
          if (s.detect) {
            at += s.silentMs;
            const silent = isSilent(r.witness.state, at, settings);
            const seen = r.events.length;
            r.detect(at);
            // A site is marked exactly when it is silent.
            expect(r.events.slice(seen).map((e) => e.type)).toEqual(silent ? ['site.down'] : []);
          }
          // Deterministic: the publisher may see a change twice and must say the same.
          const told = eventsOf(before, r.witness.state, settings);
          expect(told).toEqual(eventsOf(before, r.witness.state, settings));
          // W5: each exclusion is told once when it begins and once when it ends, in the change that did it.
          const was = before.exclusion;
          const is = r.witness.state.exclusion;
          expect(told.filter((e) => e.type === 'node.excluded').length).toBe(is && is.at !== was?.at ? 1 : 0);
          expect(told.filter((e) => e.type === 'node.readmitted').length).toBe(was && was.at !== is?.at ? 1 : 0);
          if (is) exclusions.add(is.at);
        }
        const grants = r.events.filter((e) => e.type === 'failover.granted').map((e) => e.data.epoch);
        expect(grants).toEqual(epochs);
        // Down and recovered alternate, down first.
        const silences = r.events.filter((e) => e.type === 'site.down' || e.type === 'site.recovered').map((e) => e.type);
        silences.forEach((type, i) => {
          expect(type).toBe(i % 2 === 0 ? 'site.down' : 'site.recovered');
        });
        const ids = r.events.map((e) => e.id);
        expect(new Set(ids).size).toBe(ids.length);
        // A command is told overdue once per mark, and cleared at most once, after it.
        const marks = r.events
          .filter((e) => e.type.startsWith('command.'))
          .map((e) => `${e.type} ${String(e.data.commandId)} ${JSON.stringify(e.data.overdueAt ?? e.timestamp)}`);
        r.events.forEach((e, i) => {
          if (e.type !== 'command.acknowledged') return;
          const raised = r.events
            .slice(0, i)
            .filter(
              (u) =>
                u.type === 'command.unacknowledged' &&
                u.data.commandId === e.data.commandId &&
                Date.parse(u.timestamp) === e.data.overdueAt,
            );
          expect(raised, marks.join('\n')).toHaveLength(1);
        });
        for (const e of r.events) expect(EventSchema.safeParse(e).success).toBe(true);
      }),
      { numRuns: 2_000 },
    );
    // Long silences of one node while the other renews: survivor mode is reached.
    expect(exclusions.size).toBeGreaterThan(50);
  });
});
