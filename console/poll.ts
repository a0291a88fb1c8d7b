import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { asError } from './api.ts';

/** How often views refresh, and the longest wait between tries while the service refuses or is unreachable. */
export const refreshMs = 5_000;
export const maxBackoffMs = 60_000;

/** The wait before the next load: the interval, doubled for each failure in a row, at most `maxBackoffMs`. Pure. */
export function nextDelay(intervalMs: number, failures: number): number {
  return failures === 0 ? intervalMs : Math.min(maxBackoffMs, intervalMs * 2 ** failures);
}

export interface Polled<T> {
  /** The last loaded value (kept while a refresh fails). */
  data: T | undefined;
  /** The last load's error, null once a load succeeds. */
  error: Error | null;
  /** When the last load succeeded (the reader's clock). */
  updatedAt: number | null;
  /** While failing: when the next try comes. */
  retryAt: number | null;
  /** Load again now (after an action). */
  refresh: () => void;
}

/**
 * `load` now, then again every `intervalMs` after each load ends, backing off on errors, and not
 * at all while the tab is hidden (a hidden tab costs the service nothing; it loads at once when
 * shown again). `key` names what is loaded: a new key starts over.
 */
export function usePoll<T>(load: () => Promise<T>, key: string, intervalMs = refreshMs): Polled<T> {
  const [state, setState] = useState<Omit<Polled<T>, 'refresh'>>({ data: undefined, error: null, updatedAt: null, retryAt: null });
  const latest = useRef(load);
  latest.current = load;
  const trigger = useRef<() => void>(() => undefined);

  useEffect(() => {
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let running = false;
    let again = false;
    let failures = 0;
    setState({ data: undefined, error: null, updatedAt: null, retryAt: null });

    const schedule = () => {
      clearTimeout(timer);
      if (stopped || document.hidden) return;
      timer = setTimeout(() => void run(), nextDelay(intervalMs, failures));
    };
    const run = async () => {
      clearTimeout(timer);
      if (running) {
        again = true;
        return;
      }
      running = true;
      try {
        const data = await latest.current();
        if (stopped) return;
        failures = 0;
        setState({ data, error: null, updatedAt: Date.now(), retryAt: null });
      } catch (error) {
        if (stopped) return;
        failures += 1;
        const retryAt = Date.now() + nextDelay(intervalMs, failures);
        setState((previous) => ({ ...previous, error: asError(error), retryAt }));
      } finally {
        running = false;
      }
      if (again) {
        again = false;
        void run();
      } else schedule();
    };
    const onVisibility = () => {
      if (document.hidden) clearTimeout(timer);
      else void run();
    };
    trigger.current = () => void run();
    document.addEventListener('visibilitychange', onVisibility);
    void run();
    return () => {
      stopped = true;
      clearTimeout(timer);
      document.removeEventListener('visibilitychange', onVisibility);
    };
  }, [key, intervalMs]);

  const refresh = useCallback(() => {
    trigger.current();
  }, []);
  return { ...state, refresh };
}
