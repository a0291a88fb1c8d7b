/**
 * Runs `load` once and hands every caller that one promise, also callers that come while it runs.
 * A load that failed (Secrets Manager unreachable, say) is not kept: the next caller tries again.
 */
export function loadOnce<T>(load: () => Promise<T>): () => Promise<T> {
  let pending: Promise<T> | undefined;
  return () => {
    if (!pending) {
      const attempt = load();
      pending = attempt;
      attempt.catch(() => {
        if (pending === attempt) pending = undefined;
      });
    }
    return pending;
  };
}
