/**
 * The README's own `npm start`, run by the check in the scratch copy: on the port the README names
 * (its blocks say http://127.0.0.1:8787), ready once its banner is printed, stopped with SIGTERM as
 * a Ctrl-C would.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { stopGroup } from './process-group.ts';

/** The first line of `npm start`'s banner: printed once everything is up. */
const bannerLine = 'Tiebreak witness (local) listening on';

export interface Witness {
  /** Where `npm start` writes its output. */
  logPath: string;
  stop: () => Promise<void>;
}

/** Resolves whether a port on 127.0.0.1 can be taken now. */
export function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', () => {
      resolve(false);
    });
    probe.listen(port, '127.0.0.1', () => {
      probe.close(() => {
        resolve(true);
      });
    });
  });
}

export interface WitnessOptions {
  cwd: string;
  env: NodeJS.ProcessEnv;
  /** How long start-up may take: DynamoDB Local is a JVM, slow to start on a busy machine. */
  startTimeoutMs: number;
}

/** Starts `npm start` in `cwd` and resolves once its banner is printed; rejects with its output if it ends first or takes too long. */
export async function startWitness(options: WitnessOptions): Promise<Witness> {
  const logPath = join(options.cwd, '.readme-check-witness.log');
  const log = createWriteStream(logPath);
  const child: ChildProcess = spawn('npm', ['start'], {
    cwd: options.cwd,
    env: options.env,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const stop = async (): Promise<void> => {
    await stopGroup(child, { graceMs: 60_000 });
    await new Promise<void>((resolve) => log.end(resolve));
  };
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new Error(`npm start printed no banner within ${String(options.startTimeoutMs / 1000)} s:\n${output}`));
      }, options.startTimeoutMs);
      const take = (chunk: Buffer): void => {
        log.write(chunk);
        output += chunk.toString();
        if (output.includes(bannerLine)) {
          clearTimeout(timer);
          resolve();
        }
      };
      child.stdout?.on('data', take);
      child.stderr?.on('data', take);
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`npm start ended (${String(code ?? signal)}) before its banner:\n${output}`));
      });
    });
  } catch (error) {
    await stop();
    throw error;
  }
  return { logPath, stop };
}
