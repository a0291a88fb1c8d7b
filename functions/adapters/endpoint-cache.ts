import type { EndpointRecord, WebhookEndpointStore } from './webhook-endpoint-store.ts';

/** How many endpoints (and resellers' endpoint lists) a warm function keeps, each: far more than one batch of jobs names. */
export const defaultEndpointCacheEntries = 1000;

/**
 * A map that holds at most `maxEntries`, dropping the least recently used first: a Map keeps its
 * keys in insertion order, and a read moves its key to the end.
 */
export class LruMap<K, V> {
  private readonly map = new Map<K, V>();

  constructor(readonly maxEntries: number) {
    if (!Number.isInteger(maxEntries) || maxEntries < 1)
      throw new RangeError(`an LRU map holds at least 1 entry, not ${String(maxEntries)}`);
  }

  get size(): number {
    return this.map.size;
  }

  /** The value without making it recently used. */
  peek(key: K): V | undefined {
    return this.map.get(key);
  }

  get(key: K): V | undefined {
    if (!this.map.has(key)) return undefined;
    const value = this.map.get(key) as V;
    this.map.delete(key);
    this.map.set(key, value);
    return value;
  }

  set(key: K, value: V): void {
    this.map.delete(key);
    this.map.set(key, value);
    while (this.map.size > this.maxEntries) {
      const oldest = this.map.keys().next();
      if (oldest.done) break;
      this.map.delete(oldest.value);
    }
  }

  delete(key: K): void {
    this.map.delete(key);
  }
}

interface Cached<T> {
  at: number;
  value: Promise<T>;
}

/**
 * Endpoints read through a short cache: a batch of jobs for one endpoint reads it once. A change is
 * seen within `ttlMs`. Bounded (least recently used out first): a warm function serves every
 * reseller's endpoints, and an entry past its `ttlMs` is only replaced when read again.
 */
export class EndpointCache {
  private readonly entries: LruMap<string, Cached<EndpointRecord | undefined>>;
  private readonly lists: LruMap<string, Cached<EndpointRecord[]>>;

  constructor(
    private readonly store: Pick<WebhookEndpointStore, 'getEndpoint' | 'allEndpoints'>,
    private readonly ttlMs: number,
    maxEntries: number = defaultEndpointCacheEntries,
  ) {
    this.entries = new LruMap(maxEntries);
    this.lists = new LruMap(maxEntries);
  }

  /** Endpoints and lists held now (each at most the bound). */
  get size(): { endpoints: number; lists: number } {
    return { endpoints: this.entries.size, lists: this.lists.size };
  }

  get(resellerId: string, endpointId: string, now: number): Promise<EndpointRecord | undefined> {
    return this.cached(this.entries, `${resellerId}/${endpointId}`, now, () => this.store.getEndpoint(resellerId, endpointId));
  }

  all(resellerId: string, now: number): Promise<EndpointRecord[]> {
    return this.cached(this.lists, resellerId, now, () => this.store.allEndpoints(resellerId));
  }

  private cached<T>(map: LruMap<string, Cached<T>>, key: string, now: number, load: () => Promise<T>): Promise<T> {
    const hit = map.get(key);
    if (hit && now - hit.at < this.ttlMs) return hit.value;
    const value = load();
    // A failed read is not cached: the next job reads again (unless a newer read took its place).
    value.catch(() => {
      if (map.peek(key)?.value === value) map.delete(key);
    });
    map.set(key, { at: now, value });
    return value;
  }
}
