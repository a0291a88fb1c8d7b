/**
 * The docker-compose recipe against a docker stand-in that records its calls and keeps which
 * services of each compose file run: promote brings the projects up in order, demote takes them
 * down in reverse order, health compares with the role; each hook run twice.
 */
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { recipeBench } from './recipe-bench.ts';

const bench = recipeBench({ recipe: 'docker-compose', settings: {}, standIns: true });
const erp = join(bench.dir, 'erp.yaml');
const crm = join(bench.dir, 'crm.yaml');
writeFileSync(erp, 'services:\n  web:\n    image: nginx\n  db:\n    image: postgres\n');
writeFileSync(crm, 'services:\n  crm:\n    image: crm\n');
const env = { COMPOSE_FILES: `${erp} ${crm}` };
afterAll(() => {
  bench.cleanup();
});
const changes = () => bench.calls().filter((call) => / (up|down|stop)\b/.test(call));

describe('docker-compose recipe', () => {
  test('promote runs up -d --wait for each project in order and exits 0, twice', () => {
    for (let i = 0; i < 2; i++) {
      const promoted = bench.run('promote', { epoch: 3, env });
      expect(promoted.code, promoted.output).toBe(0);
      expect(promoted.output).toContain('2 of 2 services run');
    }
    const up = [`docker compose -f ${erp} up -d --wait`, `docker compose -f ${crm} up -d --wait`];
    expect(changes()).toEqual([...up, ...up]);
    expect(bench.run('health', { env }).code).toBe(0);
  });

  test('a project down on the primary makes health fail', () => {
    rmSync(join(bench.state, `running-${crm.replaceAll('/', '_')}`));
    const health = bench.run('health', { env });
    expect(health.code).toBe(2);
    expect(health.output).toContain(`${crm}: 0 of 1 services run on the primary`);
  });

  test('demote runs down for each project, last first, and exits 0, twice; then health is that of a secondary', () => {
    bench.clearCalls();
    for (let i = 0; i < 2; i++) {
      const demoted = bench.run('demote', { env });
      expect(demoted.code, demoted.output).toBe(0);
    }
    const down = [`docker compose -f ${crm} down`, `docker compose -f ${erp} down`];
    expect(changes()).toEqual([...down, ...down]);
    expect(bench.run('health', { env }).code).toBe(0);
  });

  test('COMPOSE_DOWN_COMMAND=stop keeps the containers (stop instead of down)', () => {
    bench.clearCalls();
    expect(bench.run('demote', { env: { ...env, COMPOSE_DOWN_COMMAND: 'stop' } }).code).toBe(0);
    expect(changes()).toEqual([`docker compose -f ${crm} stop`, `docker compose -f ${erp} stop`]);
  });
});
