/**
 * The proxmox recipe against qm and pct stand-ins: promote starts the VMs and containers not yet
 * running, demote stops them (at once, or a shutdown with a timeout), health compares with the
 * role, and an EPOCH_FILE on the replicated storage refuses a stale promote; each hook run twice.
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeEach, describe, expect, test } from 'vitest';
import { recipeBench } from './recipe-bench.ts';

const bench = recipeBench({ recipe: 'proxmox', settings: { PROXMOX_VMIDS: '101 102', PROXMOX_CTIDS: '200' }, standIns: true });
afterAll(() => {
  bench.cleanup();
});
beforeEach(() => {
  bench.clearCalls();
});
const changes = () => bench.calls().filter((call) => !call.includes(' status '));

describe('proxmox recipe', () => {
  test('promote starts each guest once and exits 0, twice', () => {
    for (let i = 0; i < 2; i++) {
      const promoted = bench.run('promote', { epoch: 2 });
      expect(promoted.code, promoted.output).toBe(0);
    }
    expect(changes()).toEqual(['qm start 101', 'qm start 102', 'pct start 200']);
    expect(bench.run('health').code).toBe(0);
    rmSync(join(bench.state, 'qm-102'));
    const health = bench.run('health');
    expect(health.code).toBe(2);
    expect(health.output).toContain('qm 102 stopped');
    bench.clearCalls();
    expect(bench.run('promote', { epoch: 2 }).code).toBe(0);
    expect(changes()).toEqual(['qm start 102']);
  });

  test('demote stops each guest at once (qm stop, pct stop) and exits 0, twice', () => {
    for (let i = 0; i < 2; i++) {
      const demoted = bench.run('demote');
      expect(demoted.code, demoted.output).toBe(0);
    }
    expect(changes()).toEqual(['qm stop 101', 'qm stop 102', 'pct stop 200']);
    expect(bench.run('health').code).toBe(0);
  });

  test('with PROXMOX_SHUTDOWN_TIMEOUT_S, demote asks for a shutdown that forces a stop after it', () => {
    expect(bench.run('promote', { epoch: 2 }).code).toBe(0);
    bench.clearCalls();
    expect(bench.run('demote', { env: { PROXMOX_SHUTDOWN_TIMEOUT_S: '20' } }).code).toBe(0);
    expect(changes()).toEqual([
      'qm shutdown 101 --timeout 20 --forceStop 1',
      'qm shutdown 102 --timeout 20 --forceStop 1',
      'pct shutdown 200 --timeout 20 --forceStop 1',
    ]);
  });

  test('with EPOCH_FILE, promote stores the epoch there and refuses a newer one without starting anything', () => {
    const epochFile = join(bench.dir, 'epoch');
    expect(bench.run('promote', { epoch: 3, env: { EPOCH_FILE: epochFile } }).code).toBe(0);
    expect(readFileSync(epochFile, 'utf8')).toBe('3\n');
    expect(bench.run('demote').code).toBe(0);
    writeFileSync(epochFile, '5\n');
    bench.clearCalls();
    const promoted = bench.run('promote', { epoch: 4, env: { EPOCH_FILE: epochFile } });
    expect(promoted.code).toBe(1);
    expect(promoted.output).toContain("says epoch 5, newer than this promote's 4");
    expect(changes()).toEqual([]);
  });
});
