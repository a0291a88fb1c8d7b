import * as z from 'zod/mini';
import './zod-locale.ts';

// Free-form keys (a record's, a loose object's) may not be these names. JSON.parse makes
// `"__proto__"` an own key, which zod's records and loose objects skip without an issue (the
// request succeeded without it); `constructor` as a key breaks the DynamoDB marshaller, which reads
// it to tell plain objects from class instances (a 500); `prototype` is a function's. Refused,
// not dropped: what is stored is what was sent.

const reservedKeys: readonly string[] = ['__proto__', 'constructor', 'prototype'];
const reserved = new Set(reservedKeys);

const description = `Keys may not be ${reservedKeys.map((key) => `\`${key}\``).join(', ')}, here or in any object inside.`;

interface Visit {
  value: unknown;
  parent: Visit | undefined;
  step: string | number;
}

function pathOf(visit: Visit): (string | number)[] {
  const path: (string | number)[] = [];
  let at = visit;
  while (at.parent) {
    path.unshift(at.step);
    at = at.parent;
  }
  return path;
}

/**
 * The first reserved key in `value` or in any object or array inside it, and its path. Own keys
 * (`__proto__` among them); iterative, and parent links rather than a path per node, because
 * bodies may nest thousands of levels.
 */
function findReservedKey(value: unknown): { key: string; path: (string | number)[] } | undefined {
  const pending: Visit[] = [{ value, parent: undefined, step: '' }];
  for (let visit = pending.pop(); visit; visit = pending.pop()) {
    const node = visit.value;
    if (node === null || typeof node !== 'object') continue;
    if (Array.isArray(node)) {
      for (const [i, item] of (node as unknown[]).entries()) pending.push({ value: item, parent: visit, step: i });
      continue;
    }
    for (const [key, item] of Object.entries(node)) {
      if (reserved.has(key)) return { key, path: [...pathOf(visit), key] };
      pending.push({ value: item, parent: visit, step: key });
    }
  }
  return undefined;
}

/**
 * `schema`, with a reserved key anywhere in its input refused first (the issue names the key, at
 * its path). For the free-form parts of a request: records, loose objects, values of `z.unknown()`.
 * The OpenAPI document shows `schema` (a pipe from a transform is documented by its output).
 */
export function withoutReservedKeys<S extends z.ZodMiniType>(schema: S) {
  // Typed by what `schema` takes in; what it passes on is `schema`'s to check.
  const guard = z.transform((input: z.input<S>, ctx): unknown => {
    const found = findReservedKey(input);
    if (found) ctx.issues.push({ code: 'custom', message: `the key "${found.key}" is reserved: not allowed`, input, path: found.path });
    return input;
  });
  return z.pipe(guard, schema.check(z.meta({ description })));
}

/** `z.record(key, value)` whose keys, and those of any object in its values, are never `__proto__`, `constructor` or `prototype`. */
export function safeRecord<K extends z.core.$ZodRecordKey, V extends z.core.SomeType>(key: K, value: V) {
  return withoutReservedKeys(z.record(key, value));
}
