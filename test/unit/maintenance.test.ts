/** The maintenance window rules at their edges (functions/domain/maintenance.ts); the API's answers: test/integration/maintenance-windows.test.ts. */
import { describe, expect, it } from 'vitest';
import { decideCancel, decideChange, maintenanceGraceMs, startInPast } from '../../functions/domain/maintenance.ts';

const now = Date.parse('2026-12-06T13:45:00Z');
const min = 60_000;
const window = (start: number, end: number) => ({ start, end, reason: 'firmware' });

describe('maintenance windows at the edges', () => {
  it('a start exactly the grace before now is still accepted; a millisecond more is not', () => {
    expect(startInPast(now - maintenanceGraceMs, now)).toBeUndefined();
    expect(startInPast(now - maintenanceGraceMs - 1, now)?.code).toBe('maintenance-in-past');
  });

  it('a window ending now has ended: it changes no more and cannot be removed', () => {
    expect(decideChange(window(now - 60 * min, now), { reason: 'x' }, now)).toMatchObject({
      kind: 'refuse',
      refusal: { code: 'maintenance-ended' },
    });
    expect(decideCancel(window(now - 60 * min, now), now)).toMatchObject({ kind: 'refuse', refusal: { code: 'maintenance-ended' } });
  });

  it('a window starting now has started (its start is fixed), but DELETE removes it: it has covered nothing', () => {
    expect(decideChange(window(now, now + 60 * min), { start: now + min }, now)).toMatchObject({
      kind: 'refuse',
      refusal: { code: 'maintenance-started' },
    });
    expect(decideCancel(window(now, now + 60 * min), now)).toEqual({ kind: 'delete' });
    expect(decideCancel(window(now - 1, now + 60 * min), now)).toEqual({ kind: 'end', end: now });
  });

  it('a started window may end up to the grace before now, but not before its start', () => {
    expect(decideChange(window(now - 60 * min, now + 60 * min), { end: now - maintenanceGraceMs }, now)).toMatchObject({ kind: 'change' });
    expect(decideChange(window(now - 2 * min, now + 60 * min), { end: now - 3 * min }, now)).toMatchObject({
      kind: 'refuse',
      refusal: { status: 400, code: 'invalid-body', path: 'end' },
    });
  });
});
