import { spawn } from 'node:child_process';

export interface HookSpec {
  command: string[];
  timeoutMs: number;
}

/**
 * Runs a hook without a shell; resolves with its exit code (null if it was killed on timeout or
 * could not start). The hook learns the occasion from its environment.
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
    const child = spawn(program, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    const keep = (chunk: Buffer) => {
      output = (output + chunk.toString()).slice(-2_000);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    const timer = setTimeout(() => child.kill('SIGKILL'), spec.timeoutMs);
    child.on('error', (error) => {
      clearTimeout(timer);
      resolve({ code: null, ms: performance.now() - started, output: error.message });
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, ms: performance.now() - started, output });
    });
  });
}
