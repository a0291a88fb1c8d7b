// Times and durations in words, for people: local to an IANA zone, in British English
// ("Tue 3 Dec 2026 14:02"). Pure; the zone's rules come from the runtime's ICU (Node and Lambda
// ship the full data). The reseller console formats its times with `wallClock` too, in the browser
// (console/format.ts): this file imports nothing, and must stay so.

const formatters = new Map<string, Intl.DateTimeFormat>();

/** The wall-clock fields of an instant in a zone (none: the runtime's own, as in the reseller console's browser). */
export function wallClock(ms: number, zone?: string): Record<'weekday' | 'day' | 'month' | 'year' | 'hour' | 'minute' | 'second', string> {
  let format = formatters.get(zone ?? '');
  if (!format) {
    format = new Intl.DateTimeFormat('en-GB', {
      timeZone: zone,
      weekday: 'short',
      day: 'numeric',
      month: 'short',
      year: 'numeric',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
      hourCycle: 'h23',
    });
    formatters.set(zone ?? '', format);
  }
  const out = { weekday: '', day: '', month: '', year: '', hour: '', minute: '', second: '' };
  for (const part of format.formatToParts(ms)) if (part.type in out) out[part.type as keyof typeof out] = part.value;
  return out;
}

/** "3 Dec 2026". */
export function localDate(ms: number, zone: string): string {
  const f = wallClock(ms, zone);
  return `${f.day} ${f.month} ${f.year}`;
}

/** "Tue 3 Dec 2026 14:02". */
export function localDateTime(ms: number, zone: string): string {
  const f = wallClock(ms, zone);
  return `${f.weekday} ${f.day} ${f.month} ${f.year} ${f.hour}:${f.minute}`;
}

/** "14:02:05" (seconds: a failover takes seconds). */
export function localTime(ms: number, zone: string): string {
  const f = wallClock(ms, zone);
  return `${f.hour}:${f.minute}:${f.second}`;
}

/** The zone's offset from UTC at an instant, in ms (east positive). */
function offsetMs(ms: number, zone: string): number {
  const f = wallClock(ms, zone);
  const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  const wall = Date.UTC(Number(f.year), months.indexOf(f.month), Number(f.day), Number(f.hour), Number(f.minute), Number(f.second));
  return wall - Math.floor(ms / 1000) * 1000;
}

/** Local midnight starting a calendar day (`2026-12-01`) in a zone, as ms since the epoch. */
export function localMidnight(day: string, zone: string): number {
  const utc = Date.parse(`${day}T00:00:00Z`);
  // The offset at the guess, then again at the answer: they differ when a DST change falls between.
  const first = utc - offsetMs(utc, zone);
  return utc - offsetMs(first, zone);
}

/** True when an instant is midnight in a zone (a period's bound given as a day). */
export function isLocalMidnight(ms: number, zone: string): boolean {
  const f = wallClock(ms, zone);
  return f.hour === '00' && f.minute === '00' && f.second === '00' && ms % 1000 === 0;
}

/** 3725000 → "1 h 2 min 5 s" (ms kept when under a second). */
export function formatDuration(ms: number | null): string {
  if (ms === null) return '—';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const seconds = Math.round(ms / 1000);
  const parts: [number, string][] = [
    [Math.floor(seconds / 86_400), 'd'],
    [Math.floor((seconds % 86_400) / 3600), 'h'],
    [Math.floor((seconds % 3600) / 60), 'min'],
    [seconds % 60, 's'],
  ];
  return parts
    .filter(([n]) => n > 0)
    .map(([n, unit]) => `${n} ${unit}`)
    .join(' ');
}
