/** How the console writes times, durations and shares. Pure (time comes in as an argument). */
import { wallClock } from '../functions/domain/time-words.ts';

const second = 1000;
const minute = 60 * second;
const hour = 60 * minute;
const day = 24 * hour;

function plural(n: number, unit: string): string {
  return `${n} ${unit}${n === 1 ? '' : 's'}`;
}

/** A length of time, at most two units: `45 s`, `3 min 20 s`, `2 h 5 min`, `3 days 4 h`. */
export function duration(ms: number): string {
  const total = Math.max(0, Math.round(ms));
  if (total < minute) return `${Math.floor(total / second)} s`;
  if (total < hour) {
    const s = Math.floor((total % minute) / second);
    return `${Math.floor(total / minute)} min${s ? ` ${s} s` : ''}`;
  }
  if (total < day) {
    const m = Math.floor((total % hour) / minute);
    return `${Math.floor(total / hour)} h${m ? ` ${m} min` : ''}`;
  }
  const h = Math.floor((total % day) / hour);
  return `${plural(Math.floor(total / day), 'day')}${h ? ` ${h} h` : ''}`;
}

/** How long ago (or how far ahead) `at` is from `now`, in the largest whole unit: `12 s ago`, `in 3 min`. */
export function relative(at: string | number, now: number): string {
  const ms = now - (typeof at === 'number' ? at : Date.parse(at));
  if (!Number.isFinite(ms)) return 'unknown';
  const ahead = ms < 0;
  const size = Math.abs(ms);
  if (size < 5 * second) return ahead ? 'in a moment' : 'just now';
  const [value, unit] =
    size < minute
      ? [Math.floor(size / second), 's']
      : size < hour
        ? [Math.floor(size / minute), 'min']
        : size < day
          ? [Math.floor(size / hour), 'h']
          : [Math.floor(size / day), size < 2 * day ? 'day' : 'days'];
  return ahead ? `in ${value} ${unit}` : `${value} ${unit} ago`;
}

/** The fields of a moment in a zone (none: the reader's), by the formatter the service's reports use (functions/domain/time-words.ts). */
function parts(at: string | number, timeZone: string | undefined): ReturnType<typeof wallClock> | null {
  const ms = new Date(at).getTime();
  return Number.isNaN(ms) ? null : wallClock(ms, timeZone);
}

/** A day in the reader's zone (or the one given), as the customer's report writes it: `Tue 3 Nov 2026`. */
export function date(at: string | number, timeZone?: string): string {
  const p = parts(at, timeZone);
  return p ? dayOf(p) : 'unknown';
}

const dayOf = (p: ReturnType<typeof wallClock>) => `${p.weekday} ${p.day} ${p.month} ${p.year}`;

/** A moment in the reader's zone (or the one given): `Tue 3 Nov 2026, 15:02:05`. */
export function dateTime(at: string | number, timeZone?: string): string {
  const p = parts(at, timeZone);
  return p ? `${dayOf(p)}, ${p.hour}:${p.minute}:${p.second}` : 'unknown';
}

/** A share as a percentage, rounded down (as the SLA report does): a figure just under its target never reads as meeting it. */
export function percent(share: number, decimals = 3): string {
  const scale = 10 ** decimals;
  const floored = Math.floor(share * 100 * scale + 1e-9) / scale;
  const text = floored.toFixed(decimals);
  return `${text.includes('.') ? text.replace(/0+$/, '').replace(/\.$/, '') : text} %`;
}

/** A `datetime-local` field's value (the reader's zone) as an ISO time, or null if it is not one. */
export function fromLocalInput(value: string): string | null {
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/.test(value)) return null;
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? null : date.toISOString();
}

/** An instant as a `datetime-local` field's value, in the reader's zone, to the minute. */
export function toLocalInput(ms: number): string {
  const date = new Date(ms);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}`;
}
