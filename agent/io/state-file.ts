import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';

const Persisted = z.object({ incarnation: z.number().int().min(0) });

async function writeAtomically(file: string, text: string): Promise<void> {
  const temporary = `${file}.${process.pid}.tmp`;
  await writeFile(temporary, text, { mode: 0o600 });
  await rename(temporary, file);
}

/** Raises and persists the incarnation before the agent sends anything (W4 across restarts). */
export async function nextIncarnation(stateDir: string): Promise<number> {
  await mkdir(stateDir, { recursive: true });
  const file = join(stateDir, 'state.json');
  let last = 0;
  try {
    last = Persisted.parse(JSON.parse(await readFile(file, 'utf8'))).incarnation;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw new Error(`${file} is unreadable: ${(error as Error).message}`, { cause: error });
  }
  const incarnation = last + 1;
  await writeAtomically(file, `${JSON.stringify({ incarnation })}\n`);
  return incarnation;
}

export const statusFile = (stateDir: string): string => join(stateDir, 'status.json');

export async function writeStatus(stateDir: string, status: unknown): Promise<void> {
  await writeAtomically(statusFile(stateDir), `${JSON.stringify(status, null, 2)}\n`);
}
