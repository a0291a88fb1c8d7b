import { describe, expect, test } from 'vitest';
import { defaultEndpointCacheEntries, EndpointCache, LruMap } from '../../functions/adapters/endpoint-cache.ts';
import type { EndpointRecord } from '../../functions/adapters/webhook-endpoint-store.ts';

// A warm webhook function serves every reseller's endpoints: its cache of them must stay bounded.

/** A store that answers any endpoint and counts its reads. */
function countingStore() {
  const reads: string[] = [];
  const record = (resellerId: string, endpointId: string) => ({ resellerId, endpointId }) as EndpointRecord;
  return {
    reads,
    getEndpoint: (resellerId: string, endpointId: string) => {
      reads.push(`${resellerId}/${endpointId}`);
      return Promise.resolve(record(resellerId, endpointId));
    },
    allEndpoints: (resellerId: string) => {
      reads.push(`${resellerId}/*`);
      return Promise.resolve([record(resellerId, 'a')]);
    },
  };
}

describe('the endpoint cache', () => {
  test('filled past its bound, it holds the bound, drops the least recently used and keeps one used lately', async () => {
    const store = countingStore();
    const cache = new EndpointCache(store, 60_000, 3);
    await cache.get('r', 'e1', 0);
    await cache.get('r', 'e2', 0);
    await cache.get('r', 'e3', 0);
    await cache.get('r', 'e1', 1); // e1 used again: e2 is now the least recently used
    for (let i = 4; i <= 10; i++) await cache.get('r', `e${String(i)}`, 2);
    expect(cache.size.endpoints).toBe(3);

    store.reads.length = 0;
    await cache.get('r', 'e10', 3);
    expect(store.reads).toEqual([]); // recent: still cached
    await cache.get('r', 'e2', 3);
    expect(store.reads).toEqual(['r/e2']); // dropped: read again
  });

  test('a read keeps an entry; the oldest unread goes first, the lists bounded alike', async () => {
    const store = countingStore();
    const cache = new EndpointCache(store, 60_000, 2);
    await cache.get('r', 'kept', 0);
    await cache.get('r', 'old', 0);
    await cache.get('r', 'kept', 1);
    await cache.get('r', 'new', 1);
    store.reads.length = 0;
    await cache.get('r', 'kept', 2);
    expect(store.reads).toEqual([]);
    await cache.get('r', 'old', 2);
    expect(store.reads).toEqual(['r/old']);

    for (const reseller of ['r1', 'r2', 'r3', 'r4']) await cache.all(reseller, 0);
    expect(cache.size.lists).toBe(2);
  });

  test('holds a thousand of each by default; a bound under 1 is refused', () => {
    expect(defaultEndpointCacheEntries).toBe(1000);
    expect(() => new LruMap(0)).toThrow(RangeError);
  });

  test('a failed read is not kept, and does not evict the read that replaced it', async () => {
    let fail = true;
    const cache = new EndpointCache(
      {
        getEndpoint: (resellerId, endpointId) =>
          fail ? Promise.reject(new Error('down')) : Promise.resolve({ resellerId, endpointId } as EndpointRecord),
        allEndpoints: () => Promise.resolve([]),
      },
      60_000,
      10,
    );
    await expect(cache.get('r', 'e', 0)).rejects.toThrow('down');
    await Promise.resolve();
    expect(cache.size.endpoints).toBe(0);
    fail = false;
    await expect(cache.get('r', 'e', 1)).resolves.toMatchObject({ endpointId: 'e' });
    expect(cache.size.endpoints).toBe(1);
  });
});
