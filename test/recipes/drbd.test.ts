/**
 * The drbd recipe against stand-ins for drbdadm, mount, umount and mountpoint: promote makes the
 * resource primary, mounts it and stores the epoch on it; a newer stored epoch is refused (and
 * promote undoes its steps); demote unmounts and makes it secondary; each hook run twice.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { recipeBench } from './recipe-bench.ts';

const bench = recipeBench({ recipe: 'drbd', settings: {}, standIns: true });
const mountpoint = join(bench.dir, 'srv-data');
mkdirSync(mountpoint);
const env = { DRBD_RESOURCE: 'r0', DRBD_DEVICE: '/dev/drbd0', DRBD_MOUNTPOINT: mountpoint };
const epochFile = join(mountpoint, '.tiebreak-epoch');
afterAll(() => {
  bench.cleanup();
});
const changes = () => bench.calls().filter((call) => !/^drbdadm (role|dstate|cstate)/.test(call));

describe('drbd recipe', () => {
  test('promote makes r0 primary, mounts it and stores the epoch on it, and exits 0, twice', () => {
    for (let i = 0; i < 2; i++) {
      const promoted = bench.run('promote', { epoch: 7, env });
      expect(promoted.code, promoted.output).toBe(0);
    }
    expect(changes()).toEqual(['drbdadm primary r0', `mount /dev/drbd0 ${mountpoint}`]);
    expect(readFileSync(epochFile, 'utf8')).toBe('7\n');
    const health = bench.run('health', { env });
    expect(health.code, health.output).toBe(0);
  });

  test('demote unmounts and makes r0 secondary, and exits 0, twice', () => {
    bench.clearCalls();
    for (let i = 0; i < 2; i++) {
      const demoted = bench.run('demote', { env });
      expect(demoted.code, demoted.output).toBe(0);
    }
    expect(changes()).toEqual([`umount ${mountpoint}`, 'drbdadm secondary r0']);
    expect(bench.run('health', { env }).code).toBe(0);
  });

  test('a stale promote (the data says a newer epoch) is refused and leaves r0 secondary and unmounted', () => {
    writeFileSync(epochFile, '9\n');
    bench.clearCalls();
    const promoted = bench.run('promote', { epoch: 8, env });
    expect(promoted.code).toBe(1);
    expect(promoted.output).toContain("says epoch 9, newer than this promote's 8");
    expect(changes()).toEqual(['drbdadm primary r0', `mount /dev/drbd0 ${mountpoint}`, `umount ${mountpoint}`, 'drbdadm secondary r0']);
    expect(readFileSync(epochFile, 'utf8')).toBe('9\n');
    expect(bench.run('health', { env }).code).toBe(0);
  });

  test('a promote at the stored epoch or later starts (and stores the later one)', () => {
    expect(bench.run('promote', { epoch: 9, env }).code).toBe(0);
    expect(bench.run('promote', { epoch: 10, env }).code).toBe(0);
    expect(readFileSync(epochFile, 'utf8')).toBe('10\n');
    expect(bench.run('demote', { env }).code).toBe(0);
  });

  test('promote without TIEBREAK_EPOCH (not from the agent) refuses and touches nothing', () => {
    bench.clearCalls();
    const promoted = bench.run('promote', { env });
    expect(promoted.code).toBe(1);
    expect(promoted.output).toContain('TIEBREAK_EPOCH is not set');
    expect(changes()).toEqual([]);
  });
});
