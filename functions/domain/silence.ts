import { eq, type Plan, type Update } from './plan.ts';
import type { WitnessSettings } from './settings.ts';
import type { Lapse, SiteState } from './site-state.ts';

/**
 * Silence: a site none of whose nodes has been heard for `silenceMs` is down. Nobody reports that,
 * so a scheduled detector notices it, without scanning the sites: every contact files its site
 * under the time bucket it came in (`due`, a sparse index's key), and once a bucket is over by
 * `silenceMs`, every site still filed under it has been silent that long, unless a clock was off.
 * A run reads the buckets that came due since the last run, so its work grows with the sites that
 * fell silent, not with all sites.
 */
type Timings = Pick<WitnessSettings, 'silenceMs' | 'dueBucketMs'>;

/**
 * The index is eventually consistent, and Lambda hosts' clocks differ: a bucket is read this long
 * after its last contact could have been written, so that every site filed under it is there.
 */
export const indexLagMarginMs = 10_000;

/** How much one run reads when it has no cursor yet, and at most (catching up after downtime: the rest next run). */
export interface DetectorLimits {
  lookbackBuckets: number;
  bucketsPerRun: number;
}

/** An hour back with the default 5 min buckets: a silence older than that at the first run is not reported. */
export const defaultDetectorLimits: DetectorLimits = { lookbackBuckets: 12, bucketsPerRun: 12 };

/** The bucket a contact at `at` files its site under. */
export function dueBucket(at: number, settings: Pick<Timings, 'dueBucketMs'>): number {
  return Math.floor(at / settings.dueBucketMs);
}

/** The newest bucket that is over: bucket k is when now ≥ (k + 1) · dueBucketMs + silenceMs + the lag margin. */
export function lastCompleteBucket(now: number, settings: Timings): number {
  return Math.floor((now - settings.silenceMs - indexLagMarginMs) / settings.dueBucketMs) - 1;
}

/** The buckets one run reads, oldest first: the complete ones after the cursor (the last bucket read), bounded. */
export function bucketsDue(cursor: number | undefined, now: number, settings: Timings, limits: DetectorLimits): number[] {
  const last = lastCompleteBucket(now, settings);
  const first = cursor === undefined ? last - limits.lookbackBuckets + 1 : cursor + 1;
  const count = Math.max(0, Math.min(last - first + 1, limits.bucketsPerRun));
  return Array.from({ length: count }, (_, i) => first + i);
}

/** The last contact from any node, or null if none was ever heard. */
export function lastContact(state: SiteState): number | null {
  const seen = Object.values(state.nodes).flatMap((node) => (node.lastSeenAt === null ? [] : [node.lastSeenAt]));
  return seen.length === 0 ? null : Math.max(...seen);
}

/** No node heard for `silenceMs` (one never heard counts as silent, but one must have been), and not yet marked. */
export function isSilent(state: SiteState, now: number, settings: Timings): boolean {
  const since = lastContact(state);
  return state.silence === undefined && since !== null && since + settings.silenceMs <= now;
}

export type SilenceCheck = { kind: 'skip'; reason: string } | { kind: 'write'; plan: Plan; marks: boolean; reason: string };

/**
 * What the detector does with a site its index lists under `bucket`, on the site's state as read.
 * Both writes are pinned to `rev`: a contact between the read and the write wins, and the site is
 * read again (it has then moved to a later bucket, and is skipped).
 */
export function checkSilence(
  state: SiteState,
  bucket: number,
  now: number,
  settings: Timings & Pick<WitnessSettings, 'standaloneLeaseMs'>,
): SilenceCheck {
  if (state.due === undefined || state.due > bucket)
    return { kind: 'skip', reason: 'a node spoke since: the site is filed under a later bucket' };
  if (state.silence) return { kind: 'skip', reason: 'already marked silent' };
  const since = lastContact(state);
  if (since === null) return { kind: 'skip', reason: 'no node was ever heard' };
  const bump: Update = { op: 'increment', path: ['rev'], by: 1 };
  if (since + settings.silenceMs > now) {
    // Heard lately, yet filed under a bucket that is over: written by a clock far behind. File it
    // under its last contact's bucket, which is not over yet, so that a later run checks it.
    return {
      kind: 'write',
      marks: false,
      plan: { guard: eq(['rev'], state.rev), updates: [{ op: 'set', path: ['due'], value: dueBucket(since, settings) }, bump] },
      reason: 'heard within the silence but filed under an old bucket: filed again',
    };
  }
  return {
    kind: 'write',
    marks: true,
    plan: {
      guard: eq(['rev'], state.rev),
      updates: [{ op: 'set', path: ['silence'], value: { since, at: now } }, ...lapse(state, settings), bump],
    },
    reason: `no node heard for ${now - since} ms`,
  };
}

/**
 * A silent site's primary held the role until its lease ran out: recorded (`lapsed`), so that the
 * stream can tell when that primary renews again at its epoch (events.ts). The guard on `rev` pins
 * the primary, epoch and lease read. A standalone lease without end (W5) does not run out: its
 * survivor may well be running, cut off from the witness; nothing lapsed.
 */
function lapse(state: SiteState, settings: Pick<WitnessSettings, 'standaloneLeaseMs'>): Update[] {
  if (state.primary === null || (state.exclusion && settings.standaloneLeaseMs === null)) return [];
  const lapsed: Lapse = { primary: state.primary, epoch: state.epoch, leaseEndedAt: state.leaseExpiresAt };
  return [{ op: 'set', path: ['lapsed'], value: lapsed }];
}
