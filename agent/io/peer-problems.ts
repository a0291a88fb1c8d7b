import { peerMaxSkewMs } from './peer-auth.ts';
import type { PeerProblem } from './peer-link.ts';

/** A problem that lasts is logged again this often, so a log shows it is still there without filling. */
export const peerProblemRepeatMs = 60_000;

const messages: Record<PeerProblem['kind'], { level: 'warn' | 'error'; message: string }> = {
  unreachable: { level: 'warn', message: 'peer unreachable' },
  'key-mismatch': { level: 'error', message: 'peer key mismatch' },
  'clock-skew': { level: 'error', message: 'peer clock differs' },
  'wrong-answer': { level: 'error', message: 'peer answers wrongly' },
};

export interface PeerProblemLine extends Record<string, unknown> {
  level: 'warn' | 'error';
  message: string;
}

/**
 * The peer link's last problem, for the status file, and its log lines: one when the problem
 * changes, then one a minute while it lasts (with how many hellos met it meanwhile), since the
 * agent says hello every second or so. A reply clears it.
 */
export class PeerProblems {
  #current: { problem: PeerProblem; loggedAt: number; unlogged: number } | undefined;

  constructor(
    private readonly log: (line: PeerProblemLine) => void,
    private readonly peerUrl: string,
  ) {}

  get current(): PeerProblem | undefined {
    return this.#current?.problem;
  }

  /** A hello's outcome: its problem, or undefined for a reply; `now` in ms of a monotonic clock. */
  saw(problem: PeerProblem | undefined, now: number): void {
    const last = this.#current;
    if (!problem) {
      this.#current = undefined;
      return;
    }
    if (last?.problem.kind === problem.kind && now - last.loggedAt < peerProblemRepeatMs) {
      this.#current = { ...last, problem, unlogged: last.unlogged + 1 };
      return;
    }
    const repeated = last?.problem.kind === problem.kind ? { hellosSinceLastLine: last.unlogged + 1 } : {};
    this.#current = { problem, loggedAt: now, unlogged: 0 };
    this.log({
      ...messages[problem.kind],
      peer: this.peerUrl,
      problem: problem.kind,
      detail: problem.detail,
      ...(problem.peerAheadMs !== undefined && { peerAheadMs: problem.peerAheadMs, allowedMs: peerMaxSkewMs }),
      ...repeated,
    });
  }
}
