import { storedKey } from './session.ts';

/**
 * The console's one way to call the reseller API (same origin): the key from this tab's
 * sessionStorage in the Authorization header, JSON in and out, and every refusal an `ApiError`
 * carrying the API's own `error.message`. The key is never put in a URL.
 */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** Whatever a failed call threw, as an Error to show (an `ApiError` stays itself). */
export function asError(thrown: unknown): Error {
  return thrown instanceof Error ? thrown : new Error(String(thrown));
}

/** Told when the key is refused (revoked, rotated, unknown): the console signs out. */
let onUnauthorized: (error: ApiError) => void = () => undefined;
export function whenUnauthorized(handler: (error: ApiError) => void): void {
  onUnauthorized = handler;
}

async function send(method: string, path: string, body?: unknown, candidate?: string): Promise<Response> {
  const key = candidate ?? storedKey();
  let response: Response;
  try {
    // Relative to the console's page (`<base>/console/`): the API is `<base>/v1/…`, on a custom domain's base path too.
    response = await fetch(`..${path}`, {
      method,
      headers: {
        accept: 'application/json',
        ...(key ? { authorization: `Bearer ${key}` } : {}),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      cache: 'no-store',
      credentials: 'omit',
      referrerPolicy: 'no-referrer',
    });
  } catch {
    throw new ApiError(0, 'network', 'The service did not answer: check your connection.');
  }
  if (response.ok) return response;
  const error = await refusal(response);
  // The stored key refused: the session is over. (A key being tried at sign-in is the sign-in's to report.)
  if (error.status === 401 && candidate === undefined) onUnauthorized(error);
  throw error;
}

async function refusal(response: Response): Promise<ApiError> {
  try {
    const body = (await response.json()) as { error?: { code?: string; message?: string; details?: { message?: string }[] } };
    const detail = body.error?.details?.[0]?.message;
    const message = body.error?.message ?? `The service answered ${response.status}.`;
    return new ApiError(
      response.status,
      body.error?.code ?? 'error',
      detail && !message.includes(detail) ? `${message} (${detail})` : message,
    );
  } catch {
    return new ApiError(response.status, 'error', `The service answered ${response.status}.`);
  }
}

/** One call; `key` to try a key before it is stored (sign-in). */
export async function api<T>(method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE', path: string, body?: unknown, key?: string): Promise<T> {
  const response = await send(method, path, body, key);
  if (response.status === 204) return undefined as T;
  return (await response.json()) as T;
}

export const get = <T>(path: string): Promise<T> => api<T>('GET', path);

/** A list's pages, each of `limit`, until the last (or `maxPages`). */
export async function allPages<T>(path: string, options: { limit?: number; maxPages?: number } = {}): Promise<T[]> {
  const items: T[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const page: { items: T[]; nextCursor: string | null } = await get(withQuery(path, { limit: String(options.limit ?? 100), cursor }));
    items.push(...page.items);
    cursor = page.nextCursor;
    pages += 1;
  } while (cursor !== null && pages < (options.maxPages ?? Infinity));
  return items;
}

/** A download (the SLA report's PDF), fetched with the key in its header, never in the link. */
export async function download(path: string): Promise<{ blob: Blob; fileName: string | null }> {
  const response = await send('GET', path);
  const disposition = response.headers.get('content-disposition') ?? '';
  return { blob: await response.blob(), fileName: /filename="([^"]+)"/.exec(disposition)?.[1] ?? null };
}

/** `path?name=value&…`, leaving out empty values. */
export function withQuery(path: string, query: Record<string, string | null | undefined>): string {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(query)) if (value !== null && value !== undefined && value !== '') params.set(name, value);
  const text = params.toString();
  return text ? `${path}${path.includes('?') ? '&' : '?'}${text}` : path;
}

/** A path segment of an id chosen by the reseller. */
export const segment = encodeURIComponent;
