import { useEffect, useState } from 'preact/hooks';
import { asError } from './api.ts';

/**
 * What `load` brings, loaded once as the view opens (the lists a view names things by: customers,
 * sites); undefined until it comes. Its failure goes to `onError`; without one the view does
 * without (ids instead of names).
 */
export function useFetched<T>(load: () => Promise<T>, onError: (error: Error) => void = () => undefined): T | undefined {
  const [value, setValue] = useState<T | undefined>(undefined);
  useEffect(() => {
    let stopped = false;
    load().then(
      (loaded) => {
        if (!stopped) setValue(() => loaded);
      },
      (thrown: unknown) => {
        if (!stopped) onError(asError(thrown));
      },
    );
    return () => {
      stopped = true;
    };
  }, []);
  return value;
}
