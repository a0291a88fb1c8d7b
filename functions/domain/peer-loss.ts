import type { WitnessSettings } from './settings.ts';
import type { SiteState } from './site-state.ts';

/**
 * Lost, as `node.lost` tells it: its peer reports it unreachable, and the witness has heard it
 * neither in the freshness window since that report began nor since. A live peer on the slow
 * cadence (its last report a minute old) is heard within seconds of the link's loss, on the fast
 * cadence: not lost.
 */
export function lost(state: SiteState | undefined, reporter: string, peer: string, settings: WitnessSettings): boolean {
  const report = state?.nodes[reporter];
  const since = report?.peerLostSince;
  if (report?.peerReachable !== false || typeof report.lastSeenAt !== 'number' || typeof since !== 'number') return false;
  // From the later of the two: a peer heard after the link was cut (on the fast cadence) is lost
  // only once it has been silent for the window itself. A survivor whose lease has no end is asked
  // the slow cadence until this very report reaches it: a slow heartbeat more.
  const heardAt = Math.max(since, state?.nodes[peer]?.lastSeenAt ?? -1);
  const slowSurvivor = state?.primary === peer && standaloneWithoutEnd(state, settings);
  return report.lastSeenAt - heardAt >= settings.freshnessMs + (slowSurvivor ? settings.slowHeartbeatMs : 0);
}

/** W5: the primary's lease is standalone and has no end: the witness cannot tell when, or whether, it stopped. */
export function standaloneWithoutEnd(state: SiteState, settings: WitnessSettings): boolean {
  return state.exclusion !== undefined && settings.standaloneLeaseMs === null;
}
