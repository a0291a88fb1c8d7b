import type { Guard, Path, Plan, Update } from '../domain/plan.ts';

export interface CompiledPlan {
  ConditionExpression: string;
  UpdateExpression: string;
  ExpressionAttributeNames: Record<string, string>;
  ExpressionAttributeValues: Record<string, unknown>;
}

/** Compiles a domain plan into one conditional UpdateItem's expressions (W3: one write, one condition). */
export function compilePlan(plan: Plan): CompiledPlan {
  const names = new Map<string, string>();
  const values: Record<string, unknown> = {};
  const name = (segment: string): string => {
    let placeholder = names.get(segment);
    if (!placeholder) {
      placeholder = `#n${names.size}`;
      names.set(segment, placeholder);
    }
    return placeholder;
  };
  const path = (p: Path): string => p.map(name).join('.');
  const value = (v: unknown): string => {
    const placeholder = `:v${Object.keys(values).length}`;
    values[placeholder] = v;
    return placeholder;
  };

  const condition = (guard: Guard): string => {
    switch (guard.op) {
      case 'and':
      case 'or': {
        // One operand goes unwrapped: DynamoDB refuses "redundant parentheses" such as ((a = b)).
        const [only, ...others] = guard.of;
        if (only && others.length === 0) return condition(only);
        return `(${guard.of.map(condition).join(` ${guard.op.toUpperCase()} `)})`;
      }
      case 'eq':
        return `${path(guard.path)} = ${value(guard.value)}`;
      case 'ne': {
        // DynamoDB's `<>` is true of a missing attribute; the plan's (like every comparison) is false.
        const target = path(guard.path);
        return `(attribute_exists(${target}) AND ${target} <> ${value(guard.value)})`;
      }
      case 'lt':
        return `${path(guard.path)} < ${value(guard.value)}`;
      case 'gt':
        return `${path(guard.path)} > ${value(guard.value)}`;
      case 'missing':
        return `attribute_not_exists(${path(guard.path)})`;
    }
  };

  const sets: string[] = [];
  const removes: string[] = [];
  const update = (u: Update): void => {
    const target = path(u.path);
    switch (u.op) {
      case 'set':
        sets.push(`${target} = ${value(u.value)}`);
        break;
      case 'setIfMissing':
        sets.push(`${target} = if_not_exists(${target}, ${value(u.value)})`);
        break;
      case 'increment':
        sets.push(`${target} = ${target} + ${value(u.by)}`);
        break;
      case 'remove':
        // Removing a path twice is removing it once, but DynamoDB refuses an expression that
        // names one path twice ("two document paths overlap"): e.g. a heartbeat acking an id twice.
        if (!removes.includes(target)) removes.push(target);
        break;
    }
  };

  const ConditionExpression = condition(plan.guard);
  plan.updates.forEach(update);
  const UpdateExpression = [sets.length ? `SET ${sets.join(', ')}` : '', removes.length ? `REMOVE ${removes.join(', ')}` : '']
    .filter(Boolean)
    .join(' ');
  return {
    ConditionExpression,
    UpdateExpression,
    ExpressionAttributeNames: Object.fromEntries([...names].map(([segment, placeholder]) => [placeholder, segment])),
    ExpressionAttributeValues: values,
  };
}
