import type { HeartbeatRequest } from '../../protocol/node.ts';

/** A heartbeat body of the first incarnation, for tests that drive the node protocol by hand. */
export const beat = (
  seq: number,
  epoch: number,
  role: 'primary' | 'secondary',
  reachable: boolean,
  acks: string[] = [],
): HeartbeatRequest => ({
  incarnation: 1,
  seq,
  epoch,
  role,
  peer: { reachable },
  acks,
});
