import type { DetectorDeps } from '../adapters/detector-config.ts';
import type { SiteKey } from '../adapters/site-item.ts';
import { bucketsDue, checkSilence } from '../domain/silence.ts';

/** What one run did: its figures are logged, and the benchmark reads them. */
export interface DetectorRun {
  /** Buckets read to the end (the cursor moved past them). */
  buckets: number;
  /** Every item read: the cursor, the index's keys, the sites' state items. */
  itemsRead: number;
  /** Of which, sites the index listed. */
  sitesListed: number;
  /** Sites marked silent (each a `site.down`). */
  marked: number;
  /** Sites filed again under a later bucket (heard lately, filed by a clock far behind). */
  refiled: number;
  /** Guarded writes that lost to a write in between (a contact, mostly): the site was decided again. */
  raced: number;
  /** Why the run stopped before the last due bucket, if it did. */
  stopped: 'another run moved the cursor' | 'time budget spent' | null;
}

/** The detector runs every minute with a 60 s timeout (lib/witness-stack.ts): no new bucket is begun after this. */
export const runBudgetMs = 40_000;
/** Sites checked at once: a region-wide outage silences many sites in one bucket. */
const concurrency = 8;
/** Guarded writes a site may lose (to an operator's change, say) before the next run takes it up again. */
const maxAttempts = 3;

/**
 * One run of the silence detector: the buckets that came due since the cursor, oldest first; per
 * bucket, each site the index lists, read (consistently) and checked; then the cursor moved past
 * it, conditionally, so that of two overlapping runs one stops. A site is decided again on the
 * state a lost write returns, so a contact in between wins, and an unrelated write does not hide
 * a silence. A run cut short does its unfinished bucket again next time: marking is idempotent.
 */
export async function detectSilence(deps: DetectorDeps): Promise<DetectorRun> {
  const startedAt = deps.now();
  const run: DetectorRun = { buckets: 0, itemsRead: 0, sitesListed: 0, marked: 0, refiled: 0, raced: 0, stopped: null };
  let cursor = await deps.detector.cursor();
  if (cursor !== undefined) run.itemsRead += 1;
  for (const bucket of bucketsDue(cursor, startedAt, deps.settings, deps.limits)) {
    if (deps.now() - startedAt > runBudgetMs) {
      run.stopped = 'time budget spent';
      break;
    }
    for await (const page of deps.detector.sitesIn(bucket)) {
      run.sitesListed += page.length;
      run.itemsRead += page.length;
      for (let i = 0; i < page.length; i += concurrency) {
        await Promise.all(page.slice(i, i + concurrency).map((site) => checkSite(deps, site, bucket, run)));
      }
    }
    if (!(await deps.detector.advance(cursor, bucket))) {
      run.stopped = 'another run moved the cursor';
      break;
    }
    cursor = bucket;
    run.buckets += 1;
  }
  return run;
}

async function checkSite(deps: DetectorDeps, site: SiteKey, bucket: number, run: DetectorRun): Promise<void> {
  let state = await deps.sites.load(site);
  run.itemsRead += 1;
  for (let attempt = 1; state && attempt <= maxAttempts; attempt++) {
    const check = checkSilence(state, bucket, deps.now(), deps.settings);
    if (check.kind === 'skip') return;
    const result = await deps.sites.apply(site, check.plan);
    if (result.ok) {
      if (check.marks) run.marked += 1;
      else run.refiled += 1;
      return;
    }
    run.raced += 1;
    state = result.current;
  }
}
