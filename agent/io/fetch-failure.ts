/**
 * Why a request got no answer, in words a technician can act on. Node's fetch says only
 * `fetch failed` and keeps the reason in `error.cause` (`connect ECONNREFUSED 127.0.0.1:8787`,
 * `getaddrinfo ENOTFOUND host`, a TLS error); a timeout is said with its length. One function, so
 * the witness client, the enrollment and the peer link say it alike.
 */
export function fetchFailureCause(error: unknown, timeoutMs?: number): string {
  if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError')) {
    return timeoutMs === undefined ? 'no answer in time' : `no answer within ${String(timeoutMs)} ms`;
  }
  const cause = error instanceof Error && error.cause !== undefined ? error.cause : error;
  return describe(cause) ?? describe(error) ?? 'no answer';
}

/** `cannot reach the witness at http://…: connect ECONNREFUSED 127.0.0.1:8787`. */
export function cannotReach(what: string, url: URL | string, error: unknown, timeoutMs?: number): string {
  return `cannot reach ${what} at ${String(url)}: ${fetchFailureCause(error, timeoutMs)}`;
}

function describe(error: unknown): string | undefined {
  if (error instanceof AggregateError && error.errors.length > 0) {
    // Every address tried (IPv6 and IPv4 of one name): each said why.
    const each = error.errors.map((e: unknown) => describe(e)).filter((e): e is string => e !== undefined);
    return each.length > 0 ? [...new Set(each)].join('; ') : undefined;
  }
  if (!(error instanceof Error)) return typeof error === 'string' && error !== '' ? error : undefined;
  // OpenSSL's messages end in a newline; some carry their code only in `code`.
  const message = error.message.trim();
  const code = (error as NodeJS.ErrnoException).code;
  if (message === '') return code;
  return code !== undefined && !message.includes(code) ? `${message} (${code})` : message;
}
