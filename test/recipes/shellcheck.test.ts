/**
 * Every recipe has its three hooks and a README; every script of deploy/recipes/ (hooks, their
 * common.sh, lib/) passes shellcheck, and the hooks are executable `set -eu` POSIX sh scripts.
 */
import { execFile } from 'node:child_process';
import { accessSync, constants, existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, test } from 'vitest';
import { recipesDir } from './recipe-bench.ts';

const run = promisify(execFile);
const recipes = readdirSync(recipesDir).filter((name) => name !== 'lib' && statSync(join(recipesDir, name)).isDirectory());
const hooks = ['promote', 'demote', 'health'] as const;

describe('deploy/recipes', () => {
  test('holds the seven recipes, each with promote, demote, health and a README', () => {
    expect(recipes.sort()).toEqual(['docker-compose', 'drbd', 'floating-ip', 'libvirt', 'postgresql', 'proxmox', 'systemd-units']);
    for (const recipe of recipes) {
      expect(existsSync(join(recipesDir, recipe, 'README.md')), `${recipe}/README.md`).toBe(true);
      for (const hook of hooks) {
        const path = join(recipesDir, recipe, hook);
        accessSync(path, constants.X_OK);
        const text = readFileSync(path, 'utf8');
        expect(text.startsWith('#!/bin/sh\nset -eu\n'), `${recipe}/${hook} starts with #!/bin/sh and set -eu`).toBe(true);
      }
    }
  });

  test('every script passes shellcheck (when installed: apt-get install shellcheck)', async (context) => {
    const found = await run('sh', ['-c', 'command -v shellcheck']).catch(() => undefined);
    if (!found) context.skip();
    const scripts = [
      ...recipes.flatMap((recipe) => [...hooks.map((hook) => `${recipe}/${hook}`), `${recipe}/common.sh`]),
      ...readdirSync(join(recipesDir, 'lib')).map((name) => `lib/${name}`),
    ];
    const checked = await run('shellcheck', ['-x', ...scripts], { cwd: recipesDir }).catch(
      (error: unknown) => error as { stdout: string; code: number },
    );
    expect('code' in checked ? checked.stdout : '').toBe('');
    const standIns = join(import.meta.dirname, 'stand-ins');
    const fakes = readdirSync(standIns).filter((name) => name !== 'README.md');
    const fakesChecked = await run('shellcheck', fakes, { cwd: standIns }).catch(
      (error: unknown) => error as { stdout: string; code: number },
    );
    expect('code' in fakesChecked ? fakesChecked.stdout : '').toBe('');
  });
});
