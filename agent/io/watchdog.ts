import { type FileHandle, open, readFile } from 'node:fs/promises';
import * as z from 'zod';
import { statusFile } from './state-file.ts';

/**
 * `tiebreak-agent watchdog`: feeds a Linux watchdog device (/dev/watchdog) only while the agent's
 * status file says the node runs no workloads, or still holds a lease for longer than the
 * device's timeout, or one without end (a standalone lease: survivor mode, A5). When the agent
 * hangs, dies, or cannot stop its workloads (a demote hook that keeps failing), the feeding stops
 * and the device resets the machine before the lease it held runs out, that is before the other
 * node may take over (A1, last resort).
 */
export interface WatchdogOptions {
  /** The device's own timeout (`/sys/class/watchdog/watchdog0/timeout`, in seconds there). */
  timeoutMs: number;
  /** A status older than this means the agent is not running (it writes one every second). */
  maxAgeMs: number;
}

export interface Verdict {
  feed: boolean;
  why: string;
}

const Status = z.object({
  role: z.string(),
  writtenAt: z.iso.datetime(),
  // Null: a standalone lease without end (survivor mode, A5), said by `standalone: true`.
  leases: z.object({ heldRemainingMs: z.nullable(z.number()), standalone: z.optional(z.boolean()) }),
});

/** Whether to feed the device now, from the agent's last status (`undefined`: none could be read). */
export function watchdogVerdict(status: unknown, wallNow: number, options: WatchdogOptions): Verdict {
  const parsed = Status.safeParse(status);
  if (!parsed.success) return { feed: false, why: 'no readable status: is the agent running?' };
  const { role, writtenAt, leases } = parsed.data;
  const ageMs = wallNow - Date.parse(writtenAt);
  // A status from the future is as untrustworthy as an old one (the wall clock was stepped).
  if (Math.abs(ageMs) > options.maxAgeMs)
    return { feed: false, why: `the status is ${String(Math.round(ageMs))} ms old: the agent is not running` };
  if (role === 'secondary') return { feed: true, why: 'secondary: no workloads run' };
  if (leases.heldRemainingMs === null) {
    // The survivor's workloads must outlive any witness outage: its lease has no end to outrun.
    // A hung agent still starves the device, through the status's age above.
    if (leases.standalone === true) return { feed: true, why: `${role}, holding a standalone lease without end (survivor mode)` };
    return { feed: false, why: `${role} with a lease of unknown length: the status says no remaining time and no standalone lease` };
  }
  const remainingMs = Math.round(leases.heldRemainingMs - Math.max(0, ageMs));
  if (remainingMs > options.timeoutMs) return { feed: true, why: `${role}, holding a lease for ${String(remainingMs)} ms more` };
  return {
    feed: false,
    why: `${role} with ${String(Math.max(0, remainingMs))} ms of lease left, not more than the watchdog's ${String(options.timeoutMs)} ms`,
  };
}

export interface RunWatchdogOptions extends WatchdogOptions {
  stateDir: string;
  device: string;
  /** How often to decide; default a quarter of the timeout, at most a second. */
  intervalMs?: number;
  signal: AbortSignal;
  log: (line: { level: string; message: string; [field: string]: unknown }) => void;
}

/**
 * Feeds the device while the verdict says so. The device is opened (which arms it) only at the
 * first verdict to feed, so an agent that never starts (a broken config) cannot put the machine
 * in a reset loop. On `signal`: a "magic close" (`V`) disarms the device if the last verdict was
 * to feed; otherwise it is closed armed, and the machine resets when its timer runs out, as it
 * should.
 */
export async function runWatchdog(options: RunWatchdogOptions): Promise<void> {
  const intervalMs = options.intervalMs ?? Math.min(1_000, options.timeoutMs / 4);
  let device: FileHandle | undefined;
  let last: Verdict | undefined;
  options.log({
    level: 'info',
    message: 'watchdog waiting for the agent before arming',
    device: options.device,
    timeoutMs: options.timeoutMs,
    maxAgeMs: options.maxAgeMs,
  });
  try {
    while (!options.signal.aborted) {
      const text = await readFile(statusFile(options.stateDir), 'utf8').catch(() => undefined);
      let status: unknown;
      try {
        status = text === undefined ? undefined : JSON.parse(text);
      } catch {
        status = undefined;
      }
      const verdict = watchdogVerdict(status, Date.now(), options);
      if (verdict.feed && !device) {
        device = await open(options.device, 'w');
        options.log({ level: 'info', message: 'watchdog armed', device: options.device });
      }
      // Anything but `V` feeds; `V` would tell the driver a close is coming.
      if (verdict.feed) await device?.write('.');
      if (device && verdict.feed !== last?.feed) {
        options.log({
          level: verdict.feed ? 'info' : 'error',
          message: verdict.feed ? 'feeding the watchdog' : 'starving the watchdog: the machine resets unless this changes',
          why: verdict.why,
        });
      }
      last = verdict;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, intervalMs);
        options.signal.addEventListener(
          'abort',
          () => {
            clearTimeout(timer);
            resolve();
          },
          { once: true },
        );
      });
    }
  } finally {
    if (!device) {
      options.log({ level: 'info', message: 'watchdog stopped, never armed' });
    } else if (last?.feed) {
      await device.write('V');
      await device.close();
      options.log({ level: 'info', message: 'watchdog disarmed (magic close)' });
    } else {
      await device.close();
      options.log({ level: 'error', message: 'watchdog closed armed: the machine resets when its timer runs out', why: last?.why });
    }
  }
}
