import { readdirSync, readFileSync } from 'node:fs';

/** Clock ticks per second of /proc's CPU times: 100 on every Linux build the bench targets. */
const procTicksPerSecond = 100;

/** CPU time (user + system) spent so far by this process and by the DynamoDB Local engine, ms. */
export interface CpuReading {
  benchMs: number;
  /** Undefined where /proc cannot tell (not Linux, or the engine was not found). */
  engineMs: number | undefined;
}

/**
 * Reads CPU time of this process and of the engine (the `java` child that DynamoDB Local runs
 * as), so that a figure can say which side of a request spends the machine's two cores.
 */
export class CpuMeter {
  readonly #enginePid = findChild('java');

  read(): CpuReading {
    const usage = process.cpuUsage();
    return {
      benchMs: (usage.user + usage.system) / 1000,
      engineMs: this.#enginePid === undefined ? undefined : procCpuMs(this.#enginePid),
    };
  }
}

function findChild(command: string): number | undefined {
  try {
    for (const task of readdirSync('/proc/self/task')) {
      for (const pid of readFileSync(`/proc/self/task/${task}/children`, 'utf8').split(' ').filter(Boolean).map(Number)) {
        if (readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === command) return pid;
      }
    }
  } catch {
    // Not Linux, or /proc hides children: the engine's share is then not reported.
  }
  return undefined;
}

function procCpuMs(pid: number): number | undefined {
  try {
    // The command name (field 2) may hold spaces; the fields after its closing parenthesis do not.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // utime and stime are fields 14 and 15 of the whole line, so 11 and 12 after the name.
    return ((Number(fields[11]) + Number(fields[12])) / procTicksPerSecond) * 1000;
  } catch {
    return undefined;
  }
}

export const noCpu: CpuReading = { benchMs: 0, engineMs: 0 };

export function cpuSpent(before: CpuReading, after: CpuReading): CpuReading {
  const engineMs = before.engineMs === undefined || after.engineMs === undefined ? undefined : after.engineMs - before.engineMs;
  return { benchMs: after.benchMs - before.benchMs, engineMs };
}

export function addCpu(a: CpuReading, b: CpuReading): CpuReading {
  return {
    benchMs: a.benchMs + b.benchMs,
    engineMs: a.engineMs === undefined || b.engineMs === undefined ? undefined : a.engineMs + b.engineMs,
  };
}
