import { writeFileSync } from 'node:fs';

/**
 * Writes the smallest valid agent config (node-a, a witness nobody answers at `witnessUrl`, hooks
 * that do nothing) to `file`: for the commands that only read the state folder (status, watchdog).
 */
export function writeIdleAgentConfig(file: string, options: { stateDir: string; witnessUrl?: string }): string {
  const hook = { command: ['true'] };
  writeFileSync(
    file,
    JSON.stringify({
      nodeId: 'node-a',
      witness: { url: options.witnessUrl ?? 'http://127.0.0.1:1', token: 'tb1.0123456789' },
      peer: { listen: '127.0.0.1:7400', url: 'http://127.0.0.1:7401', key: Buffer.alloc(32, 1).toString('base64') },
      stateDir: options.stateDir,
      hooks: { promote: hook, demote: hook },
    }),
  );
  return file;
}
