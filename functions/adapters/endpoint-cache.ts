import type { EndpointRecord, WebhookStore } from './webhook-store.ts';

/** Endpoints read through a short cache: a batch of jobs for one endpoint reads it once. A change is seen within `ttlMs`. */
export class EndpointCache {
  private readonly entries = new Map<string, { at: number; value: Promise<EndpointRecord | undefined> }>();
  private readonly lists = new Map<string, { at: number; value: Promise<EndpointRecord[]> }>();

  constructor(
    private readonly store: WebhookStore,
    private readonly ttlMs: number,
  ) {}

  get(resellerId: string, endpointId: string, now: number): Promise<EndpointRecord | undefined> {
    return this.cached(this.entries, `${resellerId}/${endpointId}`, now, () => this.store.getEndpoint(resellerId, endpointId));
  }

  all(resellerId: string, now: number): Promise<EndpointRecord[]> {
    return this.cached(this.lists, resellerId, now, () => this.store.allEndpoints(resellerId));
  }

  private cached<T>(map: Map<string, { at: number; value: Promise<T> }>, key: string, now: number, load: () => Promise<T>): Promise<T> {
    const hit = map.get(key);
    if (hit && now - hit.at < this.ttlMs) return hit.value;
    const value = load();
    // A failed read is not cached: the next job reads again.
    value.catch(() => map.delete(key));
    map.set(key, { at: now, value });
    return value;
  }
}
