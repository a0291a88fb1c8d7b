import { expect } from 'vitest';
import type { WitnessEvent } from '../../protocol/events.ts';
import { eventsOf } from '../../functions/domain/events.ts';
import { applyUpdates, holds } from '../../functions/domain/plan.ts';
import { defaultSettings, type WitnessSettings } from '../../functions/domain/settings.ts';
import { checkSilence } from '../../functions/domain/silence.ts';
import { newSite, type SiteState } from '../../functions/domain/site-state.ts';
import { PureWitness } from './pure-witness.ts';

/** The node an event names, if it names one (site events do not). */
export const nodeOf = (e: WitnessEvent): string => ('nodeId' in e.data && typeof e.data.nodeId === 'string' ? e.data.nodeId : '');

export const callers = {
  a: { resellerId: 'r', siteId: 's', nodeId: 'node-a', tokenVersion: 1 },
  b: { resellerId: 'r', siteId: 's', nodeId: 'node-b', tokenVersion: 1 },
};

/** Runs requests through the pure witness, collecting the events of every change as the publisher would. */
export class Recorder {
  readonly witness: PureWitness;
  readonly events: WitnessEvent[] = [];
  seq = 0;

  constructor(readonly settings: WitnessSettings = defaultSettings) {
    this.witness = new PureWitness(newSite({ resellerId: 'r', siteId: 's', nodeIds: ['node-a', 'node-b'] }), settings);
  }

  step(apply: (w: PureWitness, seq: number) => unknown): void {
    const before: SiteState = this.witness.state;
    apply(this.witness, ++this.seq);
    if (this.witness.state !== before) this.events.push(...eventsOf(before, this.witness.state, this.settings));
  }

  heartbeat(
    node: 'a' | 'b',
    at: number,
    epoch: number,
    role: 'primary' | 'secondary' | 'fenced',
    peer: boolean,
    extra: { acks?: string[]; health?: number } = {},
  ): void {
    this.step((w, seq) =>
      w.heartbeat(
        callers[node],
        {
          incarnation: 1,
          seq,
          epoch,
          role,
          peer: { reachable: peer },
          ...(extra.acks ? { acks: extra.acks } : {}),
          ...(extra.health === undefined ? {} : { health: { score: extra.health } }),
        },
        at,
      ),
    );
  }

  claim(node: 'a' | 'b', at: number, epoch: number): void {
    this.step((w, seq) => w.claim(callers[node], { incarnation: 1, seq, epoch, reason: epoch === 0 ? 'startup' : 'peer-lost' }, at));
  }

  /** The silence detector reading the site's bucket at `at`, as its run does: the write only if its guard holds. */
  detect(at: number): void {
    this.step((w) => {
      if (w.state.due === undefined) return;
      const check = checkSilence(w.state, w.state.due, at, this.settings);
      if (check.kind === 'write' && holds(check.plan.guard, w.state)) w.state = applyUpdates(w.state, check.plan.updates);
    });
  }

  /** An operator's calls (survivor mode), through the reseller API's decisions. */
  force(node: 'a' | 'b', at: number, confirm: string): void {
    this.step((w) => {
      expect(w.forcePrimary(callers[node].nodeId, { confirm, reason: 'the server room flooded' }, 'key-7', at)).toMatchObject({
        written: true,
      });
    });
  }

  readmit(node: 'a' | 'b', at: number): void {
    this.step((w) => {
      expect(w.readmit(callers[node].nodeId, 'key-7', at)).toMatchObject({ written: true });
    });
  }

  /** What each event says, in short. */
  told(): string[] {
    return this.events.map((e) => `${e.type} ${nodeOf(e)}`.trim());
  }
}
