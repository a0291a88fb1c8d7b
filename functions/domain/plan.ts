/**
 * A plan is one conditional write, described as data: a guard over the stored state and the
 * updates to make if it holds. The pure model evaluates it here; the DynamoDB adapter compiles
 * it into a ConditionExpression and an UpdateExpression. Semantics follow DynamoDB's, and where
 * DynamoDB's own differ the adapter compiles them to these: a comparison with a missing attribute
 * is false, `ne` included (DynamoDB's bare `<>` would be true).
 */
export type Path = readonly string[];
export type Scalar = string | number | boolean | null;

export type Guard =
  | { op: 'eq' | 'ne'; path: Path; value: Scalar }
  | { op: 'lt' | 'gt'; path: Path; value: number }
  /** The path is absent (DynamoDB's `attribute_not_exists`). */
  | { op: 'missing'; path: Path }
  | { op: 'and' | 'or'; of: readonly Guard[] };

export type Update =
  | { op: 'set'; path: Path; value: unknown }
  | { op: 'setIfMissing'; path: Path; value: Scalar }
  | { op: 'increment'; path: Path; by: number }
  | { op: 'remove'; path: Path };

export interface Plan {
  guard: Guard;
  updates: readonly Update[];
}

export const eq = (path: Path, value: Scalar): Guard => ({ op: 'eq', path, value });
export const ne = (path: Path, value: Scalar): Guard => ({ op: 'ne', path, value });
export const lt = (path: Path, value: number): Guard => ({ op: 'lt', path, value });
export const gt = (path: Path, value: number): Guard => ({ op: 'gt', path, value });
export const missing = (path: Path): Guard => ({ op: 'missing', path });
export const and = (...of: Guard[]): Guard => ({ op: 'and', of });
export const or = (...of: Guard[]): Guard => ({ op: 'or', of });

type Doc = Record<string, unknown>;

function isDoc(value: unknown): value is Doc {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function lookup(doc: unknown, path: Path): { found: boolean; value: unknown } {
  let current: unknown = doc;
  for (const key of path) {
    if (!isDoc(current) || !Object.hasOwn(current, key)) return { found: false, value: undefined };
    current = current[key];
  }
  return { found: true, value: current };
}

export function holds(guard: Guard, doc: unknown): boolean {
  switch (guard.op) {
    case 'and':
      return guard.of.every((g) => holds(g, doc));
    case 'or':
      return guard.of.some((g) => holds(g, doc));
    case 'eq': {
      const { found, value } = lookup(doc, guard.path);
      return found && value === guard.value;
    }
    case 'ne': {
      const { found, value } = lookup(doc, guard.path);
      return found && value !== guard.value;
    }
    case 'lt': {
      const { found, value } = lookup(doc, guard.path);
      return found && typeof value === 'number' && value < guard.value;
    }
    case 'gt': {
      const { found, value } = lookup(doc, guard.path);
      return found && typeof value === 'number' && value > guard.value;
    }
    case 'missing':
      return !lookup(doc, guard.path).found;
  }
}

/** One path is the other or lies inside it: DynamoDB refuses two such paths in one update. */
function overlap(a: Path, b: Path): boolean {
  const [short, long] = a.length <= b.length ? [a, b] : [b, a];
  return short.every((key, i) => long[i] === key);
}

/**
 * Applies updates to a copy, as DynamoDB would: a missing parent map is an error there too, and
 * so are two updates on overlapping paths (except one path removed twice, which the adapter
 * sends once).
 */
export function applyUpdates<T extends object>(doc: T, updates: readonly Update[]): T {
  updates.forEach((update, i) => {
    const clash = updates
      .slice(0, i)
      .find((e) => overlap(e.path, update.path) && !(e.op === 'remove' && update.op === 'remove' && e.path.length === update.path.length));
    if (clash) throw new Error(`two updates on overlapping paths ${clash.path.join('.')} and ${update.path.join('.')}`);
  });
  const next = structuredClone(doc) as Doc;
  for (const update of updates) {
    const parentPath = update.path.slice(0, -1);
    const key = update.path.at(-1);
    const parent = lookup(next, parentPath).value;
    if (key === undefined || !isDoc(parent)) throw new Error(`invalid document path ${update.path.join('.')}`);
    switch (update.op) {
      case 'set':
        parent[key] = structuredClone(update.value);
        break;
      case 'setIfMissing':
        if (!Object.hasOwn(parent, key)) parent[key] = update.value;
        break;
      case 'increment': {
        const current = parent[key];
        if (typeof current !== 'number') throw new Error(`cannot increment ${update.path.join('.')}`);
        parent[key] = current + update.by;
        break;
      }
      case 'remove':
        // eslint-disable-next-line @typescript-eslint/no-dynamic-delete -- removing a map key is the point
        delete parent[key];
        break;
    }
  }
  return next as T;
}
