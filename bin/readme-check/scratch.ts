/**
 * A scratch copy of the project for the README check: the files git knows (tracked, and new ones
 * not ignored, as they are in the working tree) copied to a temporary folder, node_modules linked,
 * so the check's `npm start` keeps its state there and a developer's own `.tiebreak/local` is untouched.
 */
import { execFile } from 'node:child_process';
import { cp, mkdtemp, realpath, rm, stat, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface Scratch {
  dir: string;
  remove: () => Promise<void>;
}

export async function scratchCopy(projectRoot: string): Promise<Scratch> {
  const { stdout } = await run('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], {
    cwd: projectRoot,
    maxBuffer: 64 * 1024 * 1024,
  });
  const dir = await mkdtemp(join(tmpdir(), 'tiebreak-readme-check-'));
  const files = stdout.split('\0').filter((file) => file !== '' && file !== 'node_modules');
  for (const file of files) {
    // A file deleted in the working tree but not yet in git is not there to copy.
    const there = await stat(join(projectRoot, file)).catch(() => null);
    if (there?.isFile() !== true) continue;
    await cp(join(projectRoot, file), join(dir, file), { preserveTimestamps: true });
  }
  await symlink(await realpath(join(projectRoot, 'node_modules')), join(dir, 'node_modules'));
  return {
    dir,
    remove: () => rm(dir, { recursive: true, force: true, maxRetries: 3 }),
  };
}
