import { mkdir, open, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import * as z from 'zod';

const Persisted = z.object({ incarnation: z.number().int().min(0) });

/**
 * Replaces `file` whole. `durable`: the new content and the rename reach the disk before this
 * returns (fsync of the file, then of its folder), so a power cut cannot leave an empty file or
 * bring back an older one.
 */
async function writeAtomically(file: string, text: string, durable = false): Promise<void> {
  const temporary = `${file}.${process.pid}.tmp`;
  if (!durable) {
    await writeFile(temporary, text, { mode: 0o600 });
    await rename(temporary, file);
    return;
  }
  const handle = await open(temporary, 'w', 0o600);
  try {
    await handle.writeFile(text);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(temporary, file);
  const folder = await open(dirname(file), 'r');
  try {
    await folder.sync();
  } finally {
    await folder.close();
  }
}

/**
 * Raises and persists the incarnation before the agent sends anything (W4 across restarts). It
 * is never below the wall clock's seconds, so a node whose state folder was lost or replaced
 * still starts above what the witness last saw from it, instead of being refused as stale.
 */
export async function nextIncarnation(stateDir: string, wallNowMs: number = Date.now()): Promise<number> {
  await mkdir(stateDir, { recursive: true });
  const file = join(stateDir, 'state.json');
  let last = 0;
  try {
    last = Persisted.parse(JSON.parse(await readFile(file, 'utf8'))).incarnation;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT')
      throw new Error(`${file} is unreadable: ${(error as Error).message}`, { cause: error });
  }
  const incarnation = Math.max(last + 1, Math.floor(wallNowMs / 1000));
  // Durable: an incarnation that came back lower after a power cut would make the witness refuse
  // this node's requests as stale (W4) until its seq overtook the old one's.
  await writeAtomically(file, `${JSON.stringify({ incarnation })}\n`, true);
  return incarnation;
}

export const statusFile = (stateDir: string): string => join(stateDir, 'status.json');

export async function writeStatus(stateDir: string, status: unknown): Promise<void> {
  await writeAtomically(statusFile(stateDir), `${JSON.stringify(status, null, 2)}\n`);
}
