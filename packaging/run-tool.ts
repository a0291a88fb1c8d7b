import { execFile, type ExecFileOptions } from 'node:child_process';
import { basename } from 'node:path';

/**
 * Runs a tool (npm, tar, node, postject) and returns its stdout; when it fails, one line saying
 * which tool and the last line it wrote on stderr (its reason), not the whole command line.
 */
export function runTool(file: string, args: readonly string[], options: ExecFileOptions = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { maxBuffer: 64 * 1024 * 1024, ...options, encoding: 'utf8' }, (error, stdout, stderr) => {
      if (!error) {
        resolve(stdout);
        return;
      }
      const reason = stderr.trim().split('\n').at(-1) ?? '';
      const what = `${basename(file)} ${args
        .slice(0, 2)
        .map((arg) => basename(arg))
        .join(' ')}`;
      reject(new Error(`${what} failed: ${reason || (error.message.split('\n')[0] ?? 'no reason given')}`, { cause: error }));
    });
  });
}
