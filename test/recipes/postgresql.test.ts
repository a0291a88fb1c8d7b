/**
 * The postgresql recipe against stand-ins for pg_ctl, pg_isready, psql and systemctl (the server
 * runs while its unit is active; a standby has standby.signal): promote promotes the standby and
 * stores the epoch in the data folder, refuses a newer stored epoch and a former primary that
 * another server may have followed; demote stops a primary and leaves a standby running; health
 * checks the role; each hook run twice.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeEach, describe, expect, test } from 'vitest';
import { recipeBench } from './recipe-bench.ts';

// PG_USER empty: the test runs the hooks as whoever runs vitest (no runuser to postgres).
const bench = recipeBench({ recipe: 'postgresql', settings: { PG_USER: '', PG_SERVICE: 'postgresql.service' }, standIns: true });
const pgdata = join(bench.dir, 'pgdata');
mkdirSync(pgdata);
const env = { PGDATA: pgdata };
const epochFile = join(pgdata, '.tiebreak-epoch');
const server = join(bench.state, 'unit-postgresql.service');
afterAll(() => {
  bench.cleanup();
});
beforeEach(() => {
  bench.clearCalls();
});
const changes = () => bench.calls().filter((call) => /^(pg_ctl (promote|stop)|systemctl (start|stop))/.test(call));
const asStandby = () => {
  writeFileSync(join(pgdata, 'standby.signal'), '');
  writeFileSync(server, '');
};

describe('postgresql recipe', () => {
  test('on the secondary, a streaming standby is healthy, and demote leaves it running', () => {
    asStandby();
    expect(bench.run('health', { env }).code).toBe(0);
    for (let i = 0; i < 2; i++) expect(bench.run('demote', { env }).code).toBe(0);
    expect(changes()).toEqual([]);
    expect(existsSync(server)).toBe(true);
    const notStreaming = bench.run('health', { env: { ...env, FAKE_WAL_RECEIVER: 'stopping' } });
    expect(notStreaming.code).toBe(1);
    expect(notStreaming.output).toContain('not streaming');
  });

  test('promote promotes the standby (pg_ctl promote, once) and stores the epoch in PGDATA, and exits 0, twice', () => {
    for (let i = 0; i < 2; i++) {
      const promoted = bench.run('promote', { epoch: 5, env });
      expect(promoted.code, promoted.output).toBe(0);
    }
    expect(changes()).toEqual([`pg_ctl promote -D ${pgdata} -w -t 60`]);
    expect(existsSync(join(pgdata, 'standby.signal'))).toBe(false);
    expect(readFileSync(epochFile, 'utf8')).toBe('5\n');
    expect(bench.run('health', { env }).code).toBe(0);
  });

  test('demote stops the primary and exits 0, twice; the stopped former primary is failing health until rebuilt', () => {
    for (let i = 0; i < 2; i++) {
      const demoted = bench.run('demote', { env });
      expect(demoted.code, demoted.output).toBe(0);
    }
    expect(changes()).toEqual(['systemctl stop postgresql.service']);
    const health = bench.run('health', { env });
    expect(health.code).toBe(2);
    expect(health.output).toContain('must be rebuilt as a standby');
  });

  test('the former primary starts again at the next epoch (nobody can have been primary in between)', () => {
    const promoted = bench.run('promote', { epoch: 6, env });
    expect(promoted.code, promoted.output).toBe(0);
    expect(changes()).toEqual(['systemctl start postgresql.service']);
    expect(readFileSync(epochFile, 'utf8')).toBe('6\n');
    expect(bench.run('demote', { env }).code).toBe(0);
  });

  test('a former primary is refused when another server may have been primary since (an epoch skipped)', () => {
    const promoted = bench.run('promote', { epoch: 8, env });
    expect(promoted.code).toBe(1);
    expect(promoted.output).toContain('was primary at epoch 6');
    expect(promoted.output).toContain('rebuild it as a standby');
    expect(changes()).toEqual([]);
    expect(readFileSync(epochFile, 'utf8')).toBe('6\n');
  });

  test('a standby whose data says a newer epoch is refused (a stale promote) and not promoted', () => {
    asStandby();
    writeFileSync(epochFile, '9\n');
    const promoted = bench.run('promote', { epoch: 7, env });
    expect(promoted.code).toBe(1);
    expect(promoted.output).toContain("says epoch 9, newer than this promote's 7");
    expect(changes()).toEqual([]);
    expect(existsSync(join(pgdata, 'standby.signal'))).toBe(true);
  });
});
