import type { DriverClock } from '../driver.ts';

/** The agent's monotonic clock, in ms. `rate` ≠ 1 simulates a drifting clock (chaos tests). */
export interface MonotonicClock {
  now(): number;
}

export function monotonicClock(rate = 1): MonotonicClock {
  const origin = performance.now();
  return { now: () => origin + (performance.now() - origin) * rate };
}

/** The monotonic clock with Node's timers, as the agent's driver takes them. */
export function realDriverClock(clock: MonotonicClock): DriverClock {
  return {
    now: () => clock.now(),
    every(periodMs, run, firstInMs) {
      let interval: NodeJS.Timeout | undefined;
      let first: NodeJS.Timeout | undefined;
      const repeat = () => {
        interval = setInterval(run, periodMs);
      };
      if (firstInMs === 0) {
        run();
        repeat();
      } else if (firstInMs === periodMs) {
        repeat();
      } else {
        first = setTimeout(() => {
          run();
          repeat();
        }, firstInMs);
      }
      return () => {
        clearTimeout(first);
        clearInterval(interval);
      };
    },
  };
}
