import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { applyUpdates, holds } from '../../functions/domain/plan.ts';
import { defaultSettings } from '../../functions/domain/settings.ts';
import {
  bucketsDue,
  checkSilence,
  defaultDetectorLimits,
  dueBucket,
  indexLagMarginMs,
  isSilent,
  lastCompleteBucket,
} from '../../functions/domain/silence.ts';
import { newSite, type SiteState } from '../../functions/domain/site-state.ts';

const settings = defaultSettings;
const t0 = 1_800_000_000_000;

/** A site whose nodes were last heard at the given times (null: never), filed as its last contact files it. */
function heardAt(a: number | null, b: number | null): SiteState {
  const site = newSite({ resellerId: 'r', siteId: 's', nodeIds: ['node-a', 'node-b'] });
  site.nodes['node-a']!.lastSeenAt = a;
  site.nodes['node-b']!.lastSeenAt = b;
  const last = Math.max(a ?? -Infinity, b ?? -Infinity);
  return Number.isFinite(last) ? { ...site, rev: 7, due: dueBucket(last, settings) } : site;
}

describe('which buckets a run reads', () => {
  test('a bucket is read once it is over by the silence and the index lag margin, not a millisecond before', () => {
    const k = 6_000_000;
    const over = (k + 1) * settings.dueBucketMs + settings.silenceMs + indexLagMarginMs;
    expect(lastCompleteBucket(over - 1, settings)).toBe(k - 1);
    expect(lastCompleteBucket(over, settings)).toBe(k);
  });

  test('a site is first read between silenceMs and silenceMs + one bucket + the margin after its last contact', () => {
    fc.assert(
      fc.property(fc.integer({ min: t0, max: t0 + 30 * 86_400_000 }), (contact) => {
        const k = dueBucket(contact, settings);
        const firstRead = (k + 1) * settings.dueBucketMs + settings.silenceMs + indexLagMarginMs;
        expect(lastCompleteBucket(firstRead, settings)).toBeGreaterThanOrEqual(k);
        expect(lastCompleteBucket(firstRead - 1, settings)).toBeLessThan(k);
        expect(firstRead - contact).toBeGreaterThanOrEqual(settings.silenceMs + indexLagMarginMs);
        expect(firstRead - contact).toBeLessThanOrEqual(settings.silenceMs + settings.dueBucketMs + indexLagMarginMs);
      }),
    );
  });

  test('without a cursor a run looks back a bounded number of buckets; with one, it reads on from it, bounded per run', () => {
    const now = t0;
    const last = lastCompleteBucket(now, settings);
    const limits = { lookbackBuckets: 3, bucketsPerRun: 5 };
    expect(bucketsDue(undefined, now, settings, limits)).toEqual([last - 2, last - 1, last]);
    expect(bucketsDue(last - 1, now, settings, limits)).toEqual([last]);
    expect(bucketsDue(last, now, settings, limits)).toEqual([]);
    // After downtime: at most bucketsPerRun, oldest first; the rest next run.
    expect(bucketsDue(last - 100, now, settings, limits)).toEqual([last - 99, last - 98, last - 97, last - 96, last - 95]);
    expect(defaultDetectorLimits).toEqual({ lookbackBuckets: 12, bucketsPerRun: 12 });
  });
});

describe('what the detector does with a listed site', () => {
  const now = t0 + 3_600_000;

  test('a site no node was heard from for silenceMs is marked, guarded on its rev', () => {
    const site = heardAt(now - settings.silenceMs - 5, now - settings.silenceMs);
    expect(isSilent(site, now, settings)).toBe(true);
    const check = checkSilence(site, site.due!, now, settings);
    expect(check).toMatchObject({ kind: 'write', marks: true });
    if (check.kind !== 'write') return;
    expect(holds(check.plan.guard, site)).toBe(true);
    expect(holds(check.plan.guard, { ...site, rev: 8 })).toBe(false);
    expect(applyUpdates(site, check.plan.updates)).toEqual({ ...site, rev: 8, silence: { since: now - settings.silenceMs, at: now } });
  });

  test("a silent site's primary is recorded as lapsed at its epoch, its lease ended at its expiry", () => {
    const site = {
      ...heardAt(now - settings.silenceMs - 5, now - settings.silenceMs),
      epoch: 3,
      primary: 'node-a',
      leaseExpiresAt: now - settings.silenceMs + settings.leaseMs,
    };
    const check = checkSilence(site, site.due!, now, settings);
    if (check.kind !== 'write') throw new Error('expected a write');
    expect(applyUpdates(site, check.plan.updates)).toEqual({
      ...site,
      rev: 8,
      silence: { since: now - settings.silenceMs, at: now },
      lapsed: { primary: 'node-a', epoch: 3, leaseEndedAt: now - settings.silenceMs + settings.leaseMs },
    });
  });

  test('a survivor whose standalone lease has no end (W5) may be running, cut off from the witness: the site is marked silent, but nothing lapsed', () => {
    const site = {
      ...heardAt(now - settings.silenceMs - 5, now - settings.silenceMs),
      epoch: 3,
      primary: 'node-a',
      leaseExpiresAt: now - settings.silenceMs + settings.leaseMs,
      exclusion: { nodeId: 'node-b', at: now - settings.silenceMs - 5, lastSeenAt: now - 2 * settings.silenceMs },
    };
    expect(settings.standaloneLeaseMs).toBeNull();
    const check = checkSilence(site, site.due!, now, settings);
    if (check.kind !== 'write') throw new Error('expected a write');
    expect(check.marks).toBe(true);
    expect(applyUpdates(site, check.plan.updates)).toEqual({ ...site, rev: 8, silence: { since: now - settings.silenceMs, at: now } });
  });

  test("a bounded standalone lease runs out like any lease: the silent site's survivor is recorded as lapsed at the bound", () => {
    const bounded = { ...settings, standaloneLeaseMs: 60_000 };
    const leaseExpiresAt = now - settings.silenceMs + bounded.standaloneLeaseMs;
    const site = {
      ...heardAt(now - settings.silenceMs - 5, now - settings.silenceMs),
      epoch: 3,
      primary: 'node-a',
      leaseExpiresAt,
      exclusion: { nodeId: 'node-b', at: now - settings.silenceMs - 5, lastSeenAt: null },
    };
    const check = checkSilence(site, site.due!, now, bounded);
    if (check.kind !== 'write') throw new Error('expected a write');
    expect(applyUpdates(site, check.plan.updates)).toMatchObject({
      silence: { since: now - settings.silenceMs, at: now },
      lapsed: { primary: 'node-a', epoch: 3, leaseEndedAt: leaseExpiresAt },
    });
  });

  test('a node never heard counts as silent, but a site nobody was ever heard from is not down', () => {
    expect(isSilent(heardAt(now - settings.silenceMs, null), now, settings)).toBe(true);
    expect(isSilent(heardAt(null, null), now, settings)).toBe(false);
  });

  test('one node heard within the silence keeps the site up', () => {
    expect(isSilent(heardAt(now - 10 * settings.silenceMs, now - settings.silenceMs + 1), now, settings)).toBe(false);
  });

  test('a site that spoke since, or is marked already, is skipped without a write', () => {
    const moved = heardAt(now - 2 * settings.dueBucketMs, now - 1);
    expect(checkSilence(moved, dueBucket(now - 2 * settings.dueBucketMs, settings), now, settings).kind).toBe('skip');
    const marked = { ...heardAt(now - settings.silenceMs, null), silence: { since: now - settings.silenceMs, at: now - 1 } };
    expect(isSilent(marked, now, settings)).toBe(false);
    expect(checkSilence(marked, marked.due!, now, settings).kind).toBe('skip');
  });

  test('a site heard lately but filed under an old bucket (a clock far behind) is filed again under its last contact, not marked', () => {
    const site = { ...heardAt(now - 1_000, null), due: dueBucket(now - 3_600_000, settings) };
    const check = checkSilence(site, site.due, now, settings);
    expect(check).toMatchObject({ kind: 'write', marks: false });
    if (check.kind !== 'write') return;
    expect(applyUpdates(site, check.plan.updates)).toEqual({ ...site, rev: 8, due: dueBucket(now - 1_000, settings) });
  });
});
