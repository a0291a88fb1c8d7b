import type { Command, Standalone } from '../../protocol/node.ts';
import { set } from './observe.ts';
import { and, eq, gt, type Guard, holds, lt, missing, ne, or, type Plan, type Update } from './plan.ts';
import type { WitnessSettings } from './settings.ts';
import { activeExclusion, type DecisionRecord, type Exclusion, type ExclusionEnding, leaseHeld, type SiteState } from './site-state.ts';

/**
 * Survivor mode (DESIGN.md, W5): the last node standing keeps its lease through any outage of the
 * witness or of its internet link, because the witness excludes the node it no longer hears and
 * refuses that node every claim until the survivor, knowingly, gives the standalone lease back.
 */
type Timings = Pick<
  WitnessSettings,
  'exclusionMs' | 'fastHeartbeatMs' | 'slowHeartbeatMs' | 'leaseMs' | 'standaloneLeaseMs' | 'skewMarginMs'
>;

/**
 * A bounded standalone lease's length, never under the ordinary lease: answers also carry the
 * ordinary `leaseMs`, which agents predating survivor mode count (W1). Null: no end.
 */
function standaloneBound(settings: Pick<WitnessSettings, 'leaseMs' | 'standaloneLeaseMs'>): number | null {
  return settings.standaloneLeaseMs === null ? null : Math.max(settings.standaloneLeaseMs, settings.leaseMs);
}

/** The site's other node (a site has two), if it has one. */
export function peerOf(state: SiteState, nodeId: string): string | undefined {
  return Object.keys(state.nodes).find((id) => id !== nodeId);
}

/** The node was heard after `t`; one never heard counts from the site's first contact. */
function heardAfter(nodeId: string, t: number): Guard {
  const lastSeen = ['nodes', nodeId, 'lastSeenAt'];
  return or(gt(lastSeen, t), and(eq(lastSeen, null), gt(['firstContactAt'], t)));
}

/**
 * W5's silence test, as a guard a write can pin: the node was heard within `exclusionMs` beyond the
 * slowest cadence the witness may have asked of it in its last answer. The fast cadence is certain
 * only when it reported its own peer unreachable; otherwise the answer may have been slow, and
 * counting from the slow one errs towards hearing a live node, never towards excluding it. (A
 * survivor whose lease has no end is asked the slow cadence though it reports its peer unreachable;
 * it stops being the primary only by an operator's force, which waits out that cadence first.)
 */
export function heardLately(nodeId: string, now: number, settings: Timings): Guard {
  const reported = ['nodes', nodeId, 'peerReachable'];
  return or(
    and(eq(reported, true), heardAfter(nodeId, now - settings.exclusionMs - settings.slowHeartbeatMs)),
    and(ne(reported, true), heardAfter(nodeId, now - settings.exclusionMs - settings.fastHeartbeatMs)),
  );
}

/** The command that ends the survivor's standalone lease: rebuilt the same from the exclusion whenever it is written. */
export function endStandaloneCommand(state: SiteState, survivor: string, exclusion: Exclusion, ending: ExclusionEnding): Command {
  const asked =
    ending.by === 'survivor' ? `${survivor} hears ${exclusion.nodeId} again` : `an operator asked to readmit ${exclusion.nodeId}`;
  return {
    id: ending.commandId,
    type: 'end-standalone',
    epoch: state.epoch,
    issuedAt: ending.at,
    reason: `${asked}: the lease is no longer standalone; ${exclusion.nodeId} is readmitted once this is acknowledged`,
  };
}

/**
 * One id per exclusion (its start, in ms): an acknowledgement still on its way for the end of an
 * earlier exclusion must never end a later one that the survivor has not yet been told of.
 */
export const endStandaloneId = (exclusion: Pick<Exclusion, 'at'>, survivor: string) => `end-standalone-${String(exclusion.at)}-${survivor}`;

/** What a write adds to grant or renew the survivor's lease under W5, and what it pins of the state it was decided on. */
export interface SurvivorTerms {
  guard: Guard;
  updates: Update[];
  /** The lease to store: the standalone bound while standalone (`leaseMs` when unbounded: it does not end anyway). */
  leaseMs: number;
}

/**
 * W5 in a write that grants or renews `survivor`'s lease, decided on `known` (the state the handler
 * has, perhaps a cached one: the guard pins everything read, so a stale one fails and is decided
 * again). With no exclusion: exclude the peer if the survivor reports it unreachable and it has not
 * been heard lately. With one: once the survivor hears its peer again, send it the command that ends
 * its standalone lease (kept in its commands until acknowledged), and readmit the peer in the write
 * that applies that acknowledgement, never before: an answer lost on the way must not leave a
 * survivor that still believes its lease standalone beside a peer allowed to claim. An exclusion
 * whose bounded standalone lease lapsed is over: the write ends it (as a grant would) and decides
 * anew, so that a renewal never revives the exclusion of a node heard since.
 */
export function survivorTerms(
  known: SiteState | undefined,
  survivor: string,
  report: { peerReachable: boolean | null; acks: readonly string[] },
  now: number,
  settings: Timings,
): SurvivorTerms {
  const standalone = standaloneBound(settings) ?? settings.leaseMs;
  const exclusion = known?.exclusion;
  if (!known || !exclusion) {
    const terms = excludeIfUnheard(known, survivor, report, now, settings);
    return { ...terms, guard: and(missing(['exclusion']), ...terms.pins) };
  }

  // Everything the command below is built from: the epoch, and which exclusion this is (its ending is
  // set once per exclusion). A bounded standalone lease: whether it still holds (the exclusion with it).
  const bounded = settings.standaloneLeaseMs !== null;
  const exclusionPins = [eq(['epoch'], known.epoch), eq(['exclusion', 'nodeId'], exclusion.nodeId), eq(['exclusion', 'at'], exclusion.at)];
  if (bounded && !leaseHeld(known, now, settings)) {
    const unexcluded: SiteState = { ...known };
    delete unexcluded.exclusion;
    const terms = excludeIfUnheard(unexcluded, survivor, report, now, settings);
    return {
      guard: and(...exclusionPins, lt(['leaseExpiresAt'], now - settings.skewMarginMs), ...terms.pins),
      updates: [...(terms.updates.length > 0 ? terms.updates : readmit()), dropEndCommand(exclusion, survivor)],
      leaseMs: terms.leaseMs,
    };
  }
  const pinned = and(...exclusionPins, ...(bounded ? [gt(['leaseExpiresAt'], now - settings.skewMarginMs - 1)] : []));
  const ending = exclusion.ending;
  if (ending && report.acks.includes(ending.commandId)) {
    return {
      guard: and(pinned, eq(['exclusion', 'ending', 'commandId'], ending.commandId)),
      updates: [...readmit(), dropEndCommand(exclusion, survivor)],
      leaseMs: settings.leaseMs,
    };
  }
  if (!ending && report.peerReachable === true && !report.acks.includes(endStandaloneId(exclusion, survivor))) {
    const started: ExclusionEnding = { commandId: endStandaloneId(exclusion, survivor), at: now, by: 'survivor' };
    return {
      guard: and(pinned, missing(['exclusion', 'ending'])),
      updates: [set(['exclusion', 'ending'], started), keepCommand(known, survivor, exclusion, started)],
      leaseMs: standalone,
    };
  }
  return {
    guard: and(pinned, ending ? eq(['exclusion', 'ending', 'commandId'], ending.commandId) : missing(['exclusion', 'ending'])),
    // The command stays among the survivor's commands until acknowledged, whatever else rewrote them.
    updates: ending && !report.acks.includes(ending.commandId) ? [keepCommand(known, survivor, exclusion, ending)] : [],
    leaseMs: standalone,
  };
}

/**
 * W5's test on a state with no exclusion (or one that lapsed): exclude the peer if the survivor
 * reports it unreachable and it has not been heard lately. `pins` are what the decision read.
 */
function excludeIfUnheard(
  known: SiteState | undefined,
  survivor: string,
  report: { peerReachable: boolean | null },
  now: number,
  settings: Timings,
): { pins: Guard[]; updates: Update[]; leaseMs: number } {
  const peer = known && report.peerReachable === false ? peerOf(known, survivor) : undefined;
  if (!known || peer === undefined) return { pins: [], updates: [], leaseMs: settings.leaseMs };
  const lately = heardLately(peer, now, settings);
  if (holds(lately, known)) return { pins: [lately], updates: [], leaseMs: settings.leaseMs };
  const lastSeenAt = known.nodes[peer]?.lastSeenAt ?? null;
  return {
    // What made the peer unheard: its last contact and report (and the site's first contact, if it never spoke).
    pins: [
      eq(['nodes', peer, 'lastSeenAt'], lastSeenAt),
      eq(['nodes', peer, 'peerReachable'], known.nodes[peer]?.peerReachable ?? null),
      ...(lastSeenAt === null ? [eq(['firstContactAt'], known.firstContactAt ?? null)] : []),
    ],
    updates: [set(['exclusion'], { nodeId: peer, at: now, lastSeenAt } satisfies Exclusion)],
    leaseMs: standaloneBound(settings) ?? settings.leaseMs,
  };
}

function keepCommand(state: SiteState, survivor: string, exclusion: Exclusion, ending: ExclusionEnding): Update {
  return set(['nodes', survivor, 'commands', ending.commandId], endStandaloneCommand(state, survivor, exclusion, ending));
}

const readmit = (): Update[] => [{ op: 'remove', path: ['exclusion'] }];

/**
 * With an exclusion goes its end-standalone command, sent or not (the id is the exclusion's own, so
 * a write decided on a sight that never saw the command removes the same): left behind, it would
 * be delivered for nothing until acknowledged.
 */
const dropEndCommand = (exclusion: Exclusion, survivor: string): Update => ({
  op: 'remove',
  path: ['nodes', survivor, 'commands', endStandaloneId(exclusion, survivor)],
});

/**
 * A heartbeat that does not renew (its sender reports itself other than primary) may still carry
 * the acknowledgement of `end-standalone`: that node no longer counts on a standalone lease, so the
 * exclusion ends there too. Only the survivor's acknowledgement counts (the command is its own, and
 * its ids are predictable): any other node's, the excluded node's above all, readmits nobody. The
 * caller's write is pinned to `rev`.
 */
export function readmissionOnAck(state: SiteState, nodeId: string, acks: readonly string[]): Update[] {
  const ending = state.exclusion?.ending;
  return ending && state.primary === nodeId && acks.includes(ending.commandId) ? readmit() : [];
}

/** What an answer tells the survivor of its lease: standalone, and for how long, while its peer is excluded and no end is on its way. */
export function standaloneOf(next: SiteState, nodeId: string, now: number, settings: Timings): Standalone {
  const exclusion = activeExclusion(next, now, settings);
  if (!exclusion || next.primary !== nodeId || exclusion.ending) return null;
  return { leaseMs: standaloneBound(settings) };
}

/** Whether the witness excludes this node now (W5). */
export function isExcluded(next: SiteState, nodeId: string, now: number, settings: Timings): boolean {
  return activeExclusion(next, now, settings)?.nodeId === nodeId;
}

export type OperatorRefusal = 'not-found' | 'not-in-survivor-mode' | 'not-excluded' | 'survivor-heard' | 'confirmation-mismatch';

export type OperatorDecision =
  | { kind: 'refuse'; status: 404 | 409; code: OperatorRefusal; message: string }
  | { kind: 'answer'; reason: string }
  | { kind: 'write'; plan: Plan; reason: string };

/** The words an operator must send to force `nodeId` back: they name the survivor they declare powered off. */
export const forceConfirmation = (survivor: string) => `${survivor} is powered off`;

/**
 * The operator override (DESIGN.md, survivor mode): only a person can know that the survivor is
 * really off, so only a person may put the excluded node back as primary, saying so in words that
 * name the survivor. The epoch rises, the standalone lease ends, the named node is granted (it
 * promotes once its own claim is answered, A4), the survivor is told to demote. Pinned to `rev`.
 */
export function decideForcePrimary(
  state: SiteState,
  nodeId: string,
  request: { confirm: string; reason: string },
  keyId: string,
  now: number,
  settings: Timings,
): OperatorDecision {
  if (!Object.hasOwn(state.nodes, nodeId))
    return { kind: 'refuse', status: 404, code: 'not-found', message: `node ${nodeId} of this site not found` };
  const exclusion = activeExclusion(state, now, settings);
  const survivor = state.primary;
  if (!exclusion || survivor === null) {
    return {
      kind: 'refuse',
      status: 409,
      code: 'not-in-survivor-mode',
      message: 'the site is not in survivor mode: no node is excluded, so the witness decides failovers itself',
    };
  }
  if (exclusion.nodeId !== nodeId) {
    return {
      kind: 'refuse',
      status: 409,
      code: 'not-excluded',
      message: `${nodeId} is the survivor and already leads; force-primary names the excluded node, ${exclusion.nodeId}`,
    };
  }
  // A survivor the witness hears is not off, whatever the words say: a slow heartbeat and the
  // exclusion time must pass in silence first (the survivor heartbeats slowly while standalone).
  const heardAt = state.nodes[survivor]?.lastSeenAt ?? null;
  const quietUntil = heardAt === null ? null : heardAt + settings.slowHeartbeatMs + settings.exclusionMs;
  if (quietUntil !== null && now < quietUntil) {
    return {
      kind: 'refuse',
      status: 409,
      code: 'survivor-heard',
      message:
        `the witness heard ${survivor} ${String(Math.round((now - (heardAt ?? now)) / 1000))} s ago: it is not powered off. ` +
        `If it runs, readmit ${nodeId} instead; if you are powering it off, send this again after ${new Date(quietUntil).toISOString()}`,
    };
  }
  const expected = forceConfirmation(survivor);
  if (request.confirm !== expected) {
    return {
      kind: 'refuse',
      status: 409,
      code: 'confirmation-mismatch',
      message: `the confirmation must read exactly "${expected}": check that ${survivor} is off before you send it`,
    };
  }
  const epoch = state.epoch + 1;
  const why = `forced by an operator (key ${keyId}): "${request.confirm}": ${request.reason}`;
  const promote: Command = { id: `${String(epoch)}-promote-${nodeId}`, type: 'promote', epoch, issuedAt: now, reason: why };
  const demote: Command = {
    id: `${String(epoch)}-demote-${survivor}`,
    type: 'demote',
    epoch,
    issuedAt: now,
    reason: `${nodeId} was forced primary at epoch ${String(epoch)}`,
  };
  const decision: DecisionRecord = {
    kind: 'force',
    nodeId,
    at: now,
    epoch,
    reason: why,
    inputs: { keyId, confirm: request.confirm, operatorReason: request.reason, previousPrimary: survivor, previousEpoch: state.epoch },
  };
  return {
    kind: 'write',
    reason: why,
    plan: {
      guard: eq(['rev'], state.rev),
      updates: [
        { op: 'increment', path: ['rev'], by: 1 },
        set(['epoch'], epoch),
        set(['primary'], nodeId),
        set(['leaseExpiresAt'], now + settings.leaseMs),
        set(['nodes', nodeId, 'commands'], { [promote.id]: promote }),
        set(['nodes', survivor, 'commands'], { [demote.id]: demote }),
        // Each is awaited from its delivery (commandAckMs, heartbeat.ts).
        set(['nodes', nodeId, 'commandsDueAt'], now),
        set(['nodes', survivor, 'commandsDueAt'], now),
        set(['decision'], decision),
        { op: 'remove', path: ['lapsed'] },
        ...readmit(),
      ],
    },
  };
}

/**
 * An operator readmits the excluded node: the survivor is sent the command that ends its standalone
 * lease, and the node is readmitted once the survivor acknowledges it, as when it hears its peer
 * again. If the survivor is gone too, only `force-primary` helps.
 */
export function decideReadmit(state: SiteState, nodeId: string, keyId: string, now: number, settings: Timings): OperatorDecision {
  if (!Object.hasOwn(state.nodes, nodeId))
    return { kind: 'refuse', status: 404, code: 'not-found', message: `node ${nodeId} of this site not found` };
  const exclusion = activeExclusion(state, now, settings);
  if (exclusion?.nodeId !== nodeId || state.primary === null) {
    return { kind: 'refuse', status: 409, code: 'not-excluded', message: `${nodeId} is not excluded: there is nothing to readmit` };
  }
  if (exclusion.ending)
    return { kind: 'answer', reason: `already asked (${exclusion.ending.by}) at ${new Date(exclusion.ending.at).toISOString()}` };
  const ending: ExclusionEnding = { commandId: endStandaloneId(exclusion, state.primary), at: now, by: 'operator', keyId };
  return {
    kind: 'write',
    reason: `an operator (key ${keyId}) asked to readmit ${nodeId}`,
    plan: {
      guard: eq(['rev'], state.rev),
      updates: [
        { op: 'increment', path: ['rev'], by: 1 },
        set(['exclusion', 'ending'], ending),
        keepCommand(state, state.primary, exclusion, ending),
      ],
    },
  };
}
