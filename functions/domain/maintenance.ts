import { maintenanceWindowRules } from '../../protocol/reseller.ts';

/**
 * Maintenance windows forgive downtime in the SLA report's contract figure ("availability
 * excluding maintenance"), so they must not be declared over an outage that already happened, nor
 * stretched over one later (the report also counts each from its declaration):
 * a window starts from now on (give or take a clock's and a request's slack), a started one can
 * only be shortened, and an ended one is part of the record.
 */

/** How far before now a window may still start (or a started one be made to end): slack for clocks and slow requests, not a back door. */
export const maintenanceGraceMs = 5 * 60_000;

export interface WindowTimes {
  start: number;
  end: number;
  reason: string;
}

export interface MaintenanceRefusal {
  status: 400 | 422;
  code: 'invalid-body' | 'maintenance-in-past' | 'maintenance-started' | 'maintenance-ended';
  message: string;
  /** The field at fault, for the error's details (400). */
  path?: string;
}

export type MaintenanceChange = { kind: 'refuse'; refusal: MaintenanceRefusal } | { kind: 'change'; next: WindowTimes };
export type MaintenanceCancel = { kind: 'refuse'; refusal: MaintenanceRefusal } | { kind: 'delete' } | { kind: 'end'; end: number };

const iso = (ms: number) => new Date(ms).toISOString();
const refuse = (refusal: MaintenanceRefusal) => ({ kind: 'refuse', refusal }) as const;

/** A window may not start more than the grace before now; undefined if `start` is fine. */
export function startInPast(start: number, now: number): MaintenanceRefusal | undefined {
  if (start >= now - maintenanceGraceMs) return undefined;
  return {
    status: 422,
    code: 'maintenance-in-past',
    message:
      `a maintenance window cannot start in the past (more than 5 min before now, ${iso(now)}): ` +
      'declare it from now on; an outage that already happened stays in the SLA report',
  };
}

/** A change (PATCH) of the window `current`, judged at `now`: what is not sent stays as it is. */
export function decideChange(current: WindowTimes, change: Partial<WindowTimes>, now: number): MaintenanceChange {
  if (current.end <= now) {
    return refuse({
      status: 422,
      code: 'maintenance-ended',
      message: `the window ended at ${iso(current.end)}: a window that has ended is part of the SLA record and cannot be changed`,
    });
  }
  const next = { start: change.start ?? current.start, end: change.end ?? current.end, reason: change.reason ?? current.reason };
  if (current.start <= now) {
    // Started: it already covers time in the report; it may cover less, never more.
    if (next.start !== current.start) {
      return refuse({ status: 422, code: 'maintenance-started', message: 'the window has started: only its end can be brought forward' });
    }
    if (next.end > current.end) {
      return refuse({
        status: 422,
        code: 'maintenance-started',
        message: `the window has started: its end (${iso(current.end)}) cannot be extended: declare a new window from now`,
      });
    }
    if (next.end < now - maintenanceGraceMs) {
      return refuse({
        status: 422,
        code: 'maintenance-in-past',
        message: `the window has started: its end cannot be moved into the past (more than 5 min before now); end it now with end=${iso(now)}`,
      });
    }
  } else {
    const past = startInPast(next.start, now);
    if (past) return refuse(past);
  }
  // The rules of a declared window hold of the changed one too (only some of its fields were sent).
  const broken = maintenanceWindowRules.find((rule) => !rule.holds(next.start, next.end));
  if (broken)
    return refuse({ status: 400, code: 'invalid-body', message: `the changed window breaks a rule: ${broken.message}`, path: 'end' });
  return { kind: 'change', next };
}

/**
 * DELETE of the window `current` at `now`: one that has not started is removed; a running one is
 * part of the record by now, so it ends now instead; an ended one stays as it is.
 */
export function decideCancel(current: WindowTimes, now: number): MaintenanceCancel {
  if (current.end <= now) {
    return refuse({
      status: 422,
      code: 'maintenance-ended',
      message: `the window ended at ${iso(current.end)}: a window that has ended is part of the SLA record and cannot be removed`,
    });
  }
  // Starting this very ms: it covers nothing yet (ending it now would leave a window of no length).
  if (current.start >= now) return { kind: 'delete' };
  return { kind: 'end', end: now };
}
