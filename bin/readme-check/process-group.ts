/** Stops a child started with `detached: true` and every process of its group: SIGTERM, then SIGKILL after a grace time. */
import type { ChildProcess } from 'node:child_process';

function signalGroup(pid: number, signal: NodeJS.Signals | 0): boolean {
  try {
    process.kill(-pid, signal);
    return true;
  } catch {
    return false; // The group is gone already.
  }
}

function groupAlive(pid: number): boolean {
  return signalGroup(pid, 0);
}

/** SIGTERM to the group, waits up to `graceMs` for it to empty, then SIGKILL. */
export async function stopGroup(child: ChildProcess, options: { graceMs: number }): Promise<void> {
  const pid = child.pid;
  if (pid === undefined) return;
  if (!signalGroup(pid, 'SIGTERM')) return;
  const deadline = performance.now() + options.graceMs;
  while (groupAlive(pid) && performance.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
  signalGroup(pid, 'SIGKILL');
}
