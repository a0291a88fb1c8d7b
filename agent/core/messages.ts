import type { ClaimRequest, ClaimResponse, HeartbeatRequest, HeartbeatResponse } from '../../protocol/node.ts';
import type { PeerHello, PeerReply } from '../../protocol/peer.ts';

export type Hook = 'promote' | 'demote';

/** What happens to the agent: time passes, an answer arrives, a hook exits. */
export type AgentInput =
  | { type: 'tick' }
  | { type: 'witness-heartbeat-ok'; seq: number; body: HeartbeatResponse }
  | { type: 'witness-claim-ok'; seq: number; body: ClaimResponse }
  /** `unreachable`: no answer came; the URL asked and why, for the log. */
  | { type: 'witness-failed'; seq: number; status: number | null; code: string | null; unreachable?: { url: string; cause: string } }
  | { type: 'peer-hello'; hello: PeerHello }
  | { type: 'peer-reply'; sentAt: number; reply: PeerReply }
  | { type: 'peer-failed'; sentAt: number }
  | { type: 'hook-exited'; hook: Hook; code: number | null }
  | { type: 'health'; score: number; checks: Record<string, 'ok' | 'warn' | 'fail'> }
  /** The agent is asked to stop: workloads must stop first, since nothing will renew their lease. */
  | { type: 'shutdown' };

/** What the agent asks its I/O loop to do. */
export type AgentAction =
  | { type: 'witness-heartbeat'; request: HeartbeatRequest }
  | { type: 'witness-claim'; request: ClaimRequest }
  | { type: 'peer-hello'; hello: PeerHello }
  /** The answer to an incoming `peer-hello` input. */
  | { type: 'peer-answer'; reply: PeerReply }
  | { type: 'run-hook'; hook: Hook; epoch: number; reason: string }
  | { type: 'log'; level: 'info' | 'warn' | 'error'; message: string; fields: Record<string, unknown> };
