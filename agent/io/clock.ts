/** The agent's monotonic clock, in ms. `rate` ≠ 1 simulates a drifting clock (chaos tests). */
export interface MonotonicClock {
  now(): number;
}

export function monotonicClock(rate = 1): MonotonicClock {
  const origin = performance.now();
  return { now: () => origin + (performance.now() - origin) * rate };
}
