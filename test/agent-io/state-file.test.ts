import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, test } from 'vitest';
import { nextIncarnation, statusFile, writeStatus } from '../../agent/io/state-file.ts';

const root = mkdtempSync(join(tmpdir(), 'tiebreak-state-'));
afterAll(() => {
  rmSync(root, { recursive: true, force: true });
});
let dirs = 0;
const fresh = () => join(root, `state-${String(++dirs)}`, 'nested');

test('the incarnation rises at every start and survives: 1, then 2, then 3', async () => {
  const dir = fresh();
  expect(await nextIncarnation(dir, 0)).toBe(1);
  expect(await nextIncarnation(dir, 0)).toBe(2);
  expect(JSON.parse(readFileSync(join(dir, 'state.json'), 'utf8'))).toEqual({ incarnation: 2 });
  expect(statSync(join(dir, 'state.json')).mode & 0o777).toBe(0o600);
  expect(await nextIncarnation(dir, 0)).toBe(3);
  expect(readdirSync(dir)).toEqual(['state.json']);
});

test('it continues from whatever the file holds', async () => {
  const dir = fresh();
  await nextIncarnation(dir);
  writeFileSync(join(dir, 'state.json'), '{"incarnation": 41}\n');
  expect(await nextIncarnation(dir, 0)).toBe(42);
});

test('a node whose state folder was lost still starts above its last incarnation: never below the clock in seconds', async () => {
  const dir = fresh();
  expect(await nextIncarnation(dir, 1_800_000_000_000)).toBe(1_800_000_000);
  expect(await nextIncarnation(dir, 1_800_000_000_000)).toBe(1_800_000_001);
  rmSync(join(dir, 'state.json'));
  expect(await nextIncarnation(dir, 1_800_000_005_000)).toBe(1_800_000_005);
});

test.each([
  ['not JSON', '{"incarnation": '],
  ['empty (a power cut mid-write)', ''],
  ['the wrong shape', '{"incarnation": -1}'],
  ['not a number', '{"incarnation": "3"}'],
])('a corrupt file (%s) is an error naming the file, and is left as it was', async (_, text) => {
  const dir = fresh();
  await nextIncarnation(dir);
  const file = join(dir, 'state.json');
  writeFileSync(file, text);
  await expect(nextIncarnation(dir)).rejects.toThrow(`${file} is unreadable`);
  expect(readFileSync(file, 'utf8')).toBe(text);
});

test('the status file is replaced whole', async () => {
  const dir = fresh();
  await nextIncarnation(dir);
  await writeStatus(dir, { role: 'secondary', epoch: 1 });
  await writeStatus(dir, { role: 'primary', epoch: 2 });
  expect(statusFile(dir)).toBe(join(dir, 'status.json'));
  expect(JSON.parse(readFileSync(statusFile(dir), 'utf8'))).toEqual({ role: 'primary', epoch: 2 });
  expect(readdirSync(dir).sort()).toEqual(['state.json', 'status.json']);
});
