import { spawn } from 'node:child_process';

export interface HookSpec {
  command: string[];
  timeoutMs: number;
}

/** After the hook exits, how long its output may still arrive (a process it left behind may hold the pipes). */
const drainMs = 200;

/**
 * Runs a hook without a shell; resolves with its exit code (null if it was killed on timeout or
 * could not start). The hook learns the occasion from its environment.
 *
 * The hook runs in its own process group: on timeout the whole group is killed (a shell script's
 * children too, not just the shell), and the result does not wait for processes the hook left
 * behind holding its output (`myapp &`): it comes when the hook itself exits.
 */
export function runHook(spec: HookSpec, env: Record<string, string>): Promise<{ code: number | null; ms: number; output: string }> {
  const started = performance.now();
  return new Promise((resolve) => {
    const [program, ...args] = spec.command;
    if (!program) {
      resolve({ code: null, ms: 0, output: 'empty command' });
      return;
    }
    let output = '';
    const child = spawn(program, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    const keep = (chunk: Buffer) => {
      output = (output + chunk.toString()).slice(-2_000);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    let drain: NodeJS.Timeout | undefined;
    let done = false;
    const finish = (code: number | null, message?: string) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      clearTimeout(drain);
      child.stdout.destroy();
      child.stderr.destroy();
      resolve({ code, ms: performance.now() - started, output: message ?? output });
    };
    const timer = setTimeout(() => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
      } catch {
        child.kill('SIGKILL');
      }
    }, spec.timeoutMs);
    child.on('error', (error) => {
      finish(null, error.message);
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      drain = setTimeout(() => {
        finish(code);
      }, drainMs);
    });
    child.on('close', (code) => {
      finish(code);
    });
  });
}
