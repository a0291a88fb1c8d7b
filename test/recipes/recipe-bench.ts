/**
 * Runs a recipe's hooks (deploy/recipes/<name>/) as the agent does: no shell, TIEBREAK_* in the
 * environment, the recipe's settings file and its role file in a temporary folder of the test's
 * own. With `standIns`, test/recipes/stand-ins/ comes first on PATH: the stand-ins record every
 * call in a log and keep their state in that folder.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const recipesDir = resolve(import.meta.dirname, '../../deploy/recipes');
const standInsDir = resolve(import.meta.dirname, 'stand-ins');

export type Hook = 'promote' | 'demote' | 'health';

export interface HookRun {
  code: number | null;
  output: string;
  ms: number;
}

export interface RecipeBench {
  /** The test's folder: settings, role file, stand-ins' state. */
  dir: string;
  /** The stand-ins' state folder ($FAKE_STATE). */
  state: string;
  /** Runs a hook; `epoch` becomes TIEBREAK_EPOCH (promote and demote get it from the agent). */
  run(hook: Hook, options?: { epoch?: number; env?: Record<string, string> }): HookRun;
  /** The stand-ins' calls since the last `clearCalls()`, one string each ("systemctl start erp.target"). */
  calls(): string[];
  clearCalls(): void;
  cleanup(): void;
}

export function recipeBench(options: {
  recipe: string;
  settings: Record<string, string>;
  standIns?: boolean;
  /** Put before the hook's path, e.g. ['ip', 'netns', 'exec', 'ns-a']. */
  prefix?: string[];
  /** Folders put first on PATH (after the stand-ins). */
  path?: string[];
}): RecipeBench {
  const dir = mkdtempSync(join(tmpdir(), `tiebreak-recipe-${options.recipe}-`));
  const state = join(dir, 'state');
  const log = join(dir, 'calls.log');
  mkdirSync(state);
  writeFileSync(log, '');
  const config = join(dir, `${options.recipe}.conf`);
  // The settings file as an administrator writes it: NAME='value' lines, sourced by the hooks.
  writeFileSync(
    config,
    Object.entries(options.settings)
      .map(([name, value]) => `${name}='${value}'\n`)
      .join(''),
  );
  const path = [...(options.standIns ? [standInsDir] : []), ...(options.path ?? []), process.env.PATH ?? ''].join(':');
  return {
    dir,
    state,
    run(hook, { epoch, env } = {}) {
      const [program, ...args] = [...(options.prefix ?? []), join(recipesDir, options.recipe, hook)];
      const started = performance.now();
      const result = spawnSync(program, args, {
        encoding: 'utf8',
        timeout: 30_000,
        env: {
          PATH: path,
          TIEBREAK_HOOK: hook,
          TIEBREAK_NODE_ID: 'node-a',
          ...(epoch !== undefined && { TIEBREAK_EPOCH: String(epoch), TIEBREAK_REASON: `won epoch ${String(epoch)}` }),
          TIEBREAK_RECIPE_CONFIG: config,
          TIEBREAK_RECIPE_STATE_DIR: join(dir, 'recipes'),
          FAKE_STATE: state,
          FAKE_LOG: log,
          ...env,
        },
      });
      return { code: result.status, output: `${result.stdout}${result.stderr}`, ms: performance.now() - started };
    },
    calls: () => readFileSync(log, 'utf8').split('\n').filter(Boolean),
    clearCalls: () => {
      writeFileSync(log, '');
    },
    cleanup: () => {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
