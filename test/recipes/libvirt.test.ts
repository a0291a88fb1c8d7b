/**
 * The libvirt recipe against a virsh stand-in: promote starts the domains (resumes a paused one),
 * demote asks each to shut down, waits LIBVIRT_SHUTDOWN_TIMEOUT_S for all of them, then destroys
 * one whose shutdown never finishes; health compares with the role; each hook run twice.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeEach, describe, expect, test } from 'vitest';
import { recipeBench } from './recipe-bench.ts';

const timeoutS = 1;
const bench = recipeBench({
  recipe: 'libvirt',
  settings: { LIBVIRT_DOMAINS: 'erp files', LIBVIRT_SHUTDOWN_TIMEOUT_S: String(timeoutS) },
  standIns: true,
});
afterAll(() => {
  bench.cleanup();
});
beforeEach(() => {
  bench.clearCalls();
});
const changes = () => bench.calls().filter((call) => !call.includes(' domstate '));
const virsh = (command: string) => `virsh -q -c qemu:///system ${command}`;

describe('libvirt recipe', () => {
  test('promote starts each domain once (resumes a paused one) and exits 0, twice', () => {
    writeFileSync(join(bench.state, 'domain-files'), 'paused\n');
    for (let i = 0; i < 2; i++) {
      const promoted = bench.run('promote', { epoch: 6 });
      expect(promoted.code, promoted.output).toBe(0);
    }
    expect(changes()).toEqual([virsh('start erp'), virsh('resume files')]);
    expect(bench.run('health').code).toBe(0);
  });

  test('demote shuts down the domains that answer at once, and exits 0, twice', () => {
    for (let i = 0; i < 2; i++) {
      const demoted = bench.run('demote');
      expect(demoted.code, demoted.output).toBe(0);
      expect(demoted.ms).toBeLessThan(timeoutS * 1000);
    }
    expect(changes()).toEqual([virsh('shutdown erp'), virsh('shutdown files')]);
    expect(bench.run('health').code).toBe(0);
  });

  test('a domain whose shutdown never finishes is destroyed after the timeout; then demote is done', () => {
    expect(bench.run('promote', { epoch: 6 }).code).toBe(0);
    writeFileSync(join(bench.state, 'stuck-files'), '');
    bench.clearCalls();
    const demoted = bench.run('demote');
    expect(demoted.code, demoted.output).toBe(0);
    expect(demoted.ms).toBeGreaterThanOrEqual(timeoutS * 1000);
    expect(demoted.output).toContain(`files did not shut down within ${String(timeoutS)} s: destroying it`);
    expect(changes()).toEqual([virsh('shutdown erp'), virsh('shutdown files'), virsh('destroy files')]);
    const again = bench.run('demote');
    expect(again.code).toBe(0);
    expect(again.ms).toBeLessThan(timeoutS * 1000);
    expect(bench.run('health').code).toBe(0);
  });

  test('a domain running on the secondary makes health fail', () => {
    writeFileSync(join(bench.state, 'domain-erp'), 'running\n');
    const health = bench.run('health');
    expect(health.code).toBe(2);
    expect(health.output).toContain('erp is running on the secondary');
  });
});
