import type { Caller } from './decision.ts';
import type { Update } from './plan.ts';

const set = (path: readonly string[], value: unknown): Update => ({ op: 'set', path, value });

/** What every applied request records: its order (W4), when it came, and one more rev. */
export function recordRequest(caller: Caller, request: { incarnation: number; seq: number }, now: number): Update[] {
  const node = ['nodes', caller.nodeId];
  return [
    set([...node, 'incarnation'], request.incarnation),
    set([...node, 'seq'], request.seq),
    set([...node, 'lastSeenAt'], now),
    { op: 'setIfMissing', path: ['firstContactAt'], value: now },
    { op: 'increment', path: ['rev'], by: 1 },
  ];
}

export { set };
