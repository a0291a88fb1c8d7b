import type { Caller } from './decision.ts';
import type { Update } from './plan.ts';
import type { WitnessSettings } from './settings.ts';
import { dueBucket } from './silence.ts';

const set = (path: readonly string[], value: unknown): Update => ({ op: 'set', path, value });

/**
 * What every applied request records: its order (W4), when it came, and one more rev. Also that
 * the site is heard: filed under this moment's due bucket (which changes the index once a bucket,
 * not once a request: the same value written again writes no index entry), and no longer silent.
 */
export function recordRequest(
  caller: Caller,
  request: { incarnation: number; seq: number },
  now: number,
  settings: Pick<WitnessSettings, 'dueBucketMs'>,
): Update[] {
  const node = ['nodes', caller.nodeId];
  return [
    set([...node, 'incarnation'], request.incarnation),
    set([...node, 'seq'], request.seq),
    set([...node, 'lastSeenAt'], now),
    { op: 'setIfMissing', path: ['firstContactAt'], value: now },
    { op: 'increment', path: ['rev'], by: 1 },
    set(['due'], dueBucket(now, settings)),
    { op: 'remove', path: ['silence'] },
  ];
}

export { set };
