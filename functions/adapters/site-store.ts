import type { Plan } from '../domain/plan.ts';
import type { SiteState } from '../domain/site-state.ts';
import type { SiteKey } from './site-item.ts';

export type ApplyResult = { ok: true; state: SiteState } | { ok: false; current: SiteState | undefined };

/** The witness's store: every decision is one conditional write (W3). */
export interface SiteStore {
  /** Strongly consistent read. */
  load(key: SiteKey): Promise<SiteState | undefined>;
  /** One conditional write; on a failed guard, the state the guard was checked against. */
  apply(key: SiteKey, plan: Plan): Promise<ApplyResult>;
  /** The state last seen for a site by this process, if any: a guess for a guarded write. */
  recent(key: SiteKey): SiteState | undefined;
  /** Creates a site; false if it exists already. */
  create(state: SiteState): Promise<boolean>;
}
