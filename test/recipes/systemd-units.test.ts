/**
 * The systemd-units recipe against a systemctl stand-in that records its calls and keeps each
 * unit's state: promote starts the units, demote stops them, health compares with the role;
 * each hook run twice.
 */
import { afterAll, describe, expect, test } from 'vitest';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { recipeBench } from './recipe-bench.ts';

const bench = recipeBench({ recipe: 'systemd-units', settings: { SYSTEMD_UNITS: 'erp-db.service erp.target' }, standIns: true });
afterAll(() => {
  bench.cleanup();
});
const changes = () => bench.calls().filter((call) => !call.startsWith('systemctl is-active'));

describe('systemd-units recipe', () => {
  test('before any hook, nothing active is healthy (a secondary)', () => {
    expect(bench.run('health').code).toBe(0);
  });

  test('promote starts the units and exits 0, twice', () => {
    for (let i = 0; i < 2; i++) {
      const promoted = bench.run('promote', { epoch: 4 });
      expect(promoted.code, promoted.output).toBe(0);
    }
    expect(changes()).toEqual(['systemctl start erp-db.service erp.target', 'systemctl start erp-db.service erp.target']);
    expect(bench.run('health').code).toBe(0);
  });

  test("a unit stopped behind the primary's back makes health fail; promote again brings it back", () => {
    rmSync(join(bench.state, 'unit-erp.target'));
    const health = bench.run('health');
    expect(health.code).toBe(2);
    expect(health.output).toContain('not active on the primary: erp.target');
    expect(bench.run('promote', { epoch: 4 }).code).toBe(0);
    expect(bench.run('health').code).toBe(0);
  });

  test('demote stops the units and exits 0, twice; a unit running on the secondary makes health fail', () => {
    bench.clearCalls();
    for (let i = 0; i < 2; i++) {
      const demoted = bench.run('demote', { epoch: 4 });
      expect(demoted.code, demoted.output).toBe(0);
    }
    expect(changes()).toEqual(['systemctl stop erp-db.service erp.target', 'systemctl stop erp-db.service erp.target']);
    expect(bench.run('health').code).toBe(0);
    writeFileSync(join(bench.state, 'unit-erp.target'), '');
    const health = bench.run('health');
    expect(health.code).toBe(2);
    expect(health.output).toContain('active on the secondary: erp.target');
  });

  test('promote fails when a unit does not start', () => {
    writeFileSync(join(bench.state, 'fail-erp.target'), '');
    const promoted = bench.run('promote', { epoch: 5 });
    expect(promoted.code).toBe(1);
    expect(promoted.output).toContain('systemctl start erp-db.service erp.target failed');
  });
});
