import type { Command, Role } from '../../protocol/node.ts';
import type { WitnessSettings } from './settings.ts';

export type TieBreak = 'keep-primary' | 'preferred-node' | 'health-weighted';

export interface SitePolicy {
  tieBreak: TieBreak;
  /** Under `preferred-node`: the node that wins the start-up window. */
  preferredNode: string | null;
  /** A claimant's last reported health score must be at least this (0 to 100). */
  healthThreshold: number;
}

/** What the witness knows of one node: credentials, request order, last report, pending commands. */
export interface NodeState {
  tokenVersion: number;
  /** The last applied request's (incarnation, seq): W4 compares against it. */
  incarnation: number;
  seq: number;
  lastSeenAt: number | null;
  role: Role | null;
  reportedEpoch: number | null;
  health: number | null;
  peerReachable: boolean | null;
  /** Since when it has reported its peer unreachable (its first such report); absent while it reports it reachable. */
  peerLostSince?: number;
  /** Commands not yet acknowledged, by id. */
  commands: Record<string, PendingCommand>;
  /**
   * When this node's next heartbeat must look at its promote and demote commands (heartbeat.ts): the
   * issue time of one not yet delivered, else the earliest deadline not yet passed. Absent when none awaits.
   */
  commandsDueAt?: number;
}

/**
 * A command as the witness keeps it until acknowledged: what the node is sent (the wire's `Command`),
 * and, for a promote or demote, when the witness awaits its acknowledgement (heartbeat.ts). These
 * marks never reach the wire and no grant or renewal reads them.
 */
export interface PendingCommand extends Command {
  /** The first heartbeat write that knew of it: that answer delivered it. */
  deliveredAt?: number;
  /** Set once, by the node's first heartbeat `commandAckMs` or more after delivery that did not acknowledge it. */
  overdueAt?: number;
}

export type DecisionKind = 'renew' | 'grant' | 'demote' | 'force';

/** Why the witness last changed who is primary or for how long: the stream turns it into events. */
export interface DecisionRecord {
  kind: DecisionKind;
  nodeId: string;
  at: number;
  epoch: number;
  reason: string;
  inputs: Record<string, string | number | boolean | null>;
}

export interface SiteState {
  resellerId: string;
  siteId: string;
  /** Bumped by every write: a guard on it pins everything a decision read. */
  rev: number;
  /** Fencing token (W2): rises by exactly one per change of primary. */
  epoch: number;
  primary: string | null;
  /** Server ms; the lease counts as held until this plus the skew margin. 0 when never granted. */
  leaseExpiresAt: number;
  /** First request from any node: opens the start-up window. Absent until then. */
  firstContactAt?: number;
  policy: SitePolicy;
  nodes: Record<string, NodeState>;
  decision: DecisionRecord | null;
  /**
   * The due index's key (silence.ts): the time bucket of the last contact from any node. Absent
   * until the first contact, so that a site nobody ever spoke for is never checked for silence.
   */
  due?: number;
  /** Set by the silence detector when no node has been heard for `silenceMs`; the next contact removes it. */
  silence?: Silence;
  /**
   * Set beside `silence` when the site fell silent with a primary, or by the report that made the
   * primary lost: that primary's lease ran out unrenewed (`site.down`, `node.lost` told it). Its next
   * renewal at that epoch removes it (a grant too), and the stream tells that renewal (events.ts),
   * even when it comes after the contact that ended the silence or the report of its return.
   */
  lapsed?: Lapse;
  /**
   * W5: the node the witness excludes. While it is set the primary's lease is standalone: it does
   * not expire (or, with `standaloneLeaseMs`, lasts that long after each renewal), and the excluded
   * node's claims are refused. Removed when the survivor acknowledges the command that ends its
   * standalone lease (`ending`), by an operator's forced failover, or by a grant once it lapsed.
   */
  exclusion?: Exclusion;
}

export interface Exclusion {
  nodeId: string;
  /** The write that excluded it (and made the survivor's lease standalone). */
  at: number;
  /** Its last contact at that moment, or null if it was never heard. */
  lastSeenAt: number | null;
  /** Set once the survivor has been sent the command that ends its standalone lease. */
  ending?: ExclusionEnding;
}

export interface ExclusionEnding {
  commandId: string;
  at: number;
  /** Who asked: the survivor, hearing its peer again, or an operator (with the key's id). */
  by: 'survivor' | 'operator';
  keyId?: string;
}

/** The primary whose lease lapsed, at its epoch, and when the lease ended (the `leaseEndedAt` of `site.down` or `node.lost`). */
export interface Lapse {
  primary: string;
  epoch: number;
  leaseEndedAt: number;
  /** Its peer reported it lost (heartbeat.ts); absent: its site fell silent (silence.ts). */
  cause?: 'node.lost';
}

export interface Silence {
  /** The last contact from any node. */
  since: number;
  /** When the detector noticed. */
  at: number;
}

export const defaultPolicy: SitePolicy = { tieBreak: 'keep-primary', preferredNode: null, healthThreshold: 0 };

export function newNode(tokenVersion = 1): NodeState {
  return {
    tokenVersion,
    incarnation: 0,
    seq: 0,
    lastSeenAt: null,
    role: null,
    reportedEpoch: null,
    health: null,
    peerReachable: null,
    commands: {},
  };
}

export function newSite(input: {
  resellerId: string;
  siteId: string;
  nodeIds: readonly string[];
  policy?: SitePolicy;
  /** The nodes' first token version: 0 (no token yet) for a site whose nodes enroll with a code. */
  tokenVersion?: number;
}): SiteState {
  return {
    resellerId: input.resellerId,
    siteId: input.siteId,
    rev: 0,
    epoch: 0,
    primary: null,
    leaseExpiresAt: 0,
    policy: input.policy ?? defaultPolicy,
    nodes: Object.fromEntries(input.nodeIds.map((id) => [id, newNode(input.tokenVersion)])),
    decision: null,
  };
}

type LeaseTimings = Pick<WitnessSettings, 'skewMarginMs' | 'standaloneLeaseMs'>;

/** W1: the lease counts as held through its expiry plus the skew margin, and without end while standalone (W5). */
export function leaseHeld(state: SiteState, now: number, settings: LeaseTimings): boolean {
  if (state.primary === null) return false;
  return now <= state.leaseExpiresAt + settings.skewMarginMs || (state.exclusion !== undefined && settings.standaloneLeaseMs === null);
}

/** W5: a node is excluded while the survivor's standalone lease holds (a bounded one lapses, and the exclusion with it). */
export function activeExclusion(state: SiteState, now: number, settings: LeaseTimings): Exclusion | undefined {
  return state.exclusion && leaseHeld(state, now, settings) ? state.exclusion : undefined;
}
