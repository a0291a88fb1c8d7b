/**
 * The floating-ip recipe for real, as root, between two network namespaces this test makes (a veth
 * pair between them: nothing touches the machine's own interfaces): promote in namespace A puts the
 * address on A's end and sends gratuitous ARP, which B's neighbour table learns (A's MAC for the
 * address); demote takes it off; health compares with the role; each hook run twice. Skipped, with
 * the reason in its name, when not root or without `ip netns`; without `arping` (apt-get install
 * iputils-arping) a stand-in that records its call replaces it and the ARP check is skipped.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { recipeBench, type RecipeBench } from './recipe-bench.ts';

const sh = (command: string) => spawnSync('sh', ['-c', command], { encoding: 'utf8' });
/** Why this machine cannot run the test (not root, or no network namespaces), if it cannot. */
function whyNot(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root';
  const probe = `tbr-${String(process.pid)}-probe`;
  const made = sh(`ip netns add ${probe} && ip netns del ${probe}`);
  return made.status === 0 ? undefined : `cannot make a network namespace with ip netns: ${made.stderr.trim()}`;
}
const skipReason = whyNot();
const arpingInstalled = sh('command -v arping').status === 0;

const id = String(process.pid);
const nsA = `tbr-${id}-a`;
const nsB = `tbr-${id}-b`;
const vethA = `tbra${id}`;
const vethB = `tbrb${id}`;
const floating = '10.231.0.100';

function ip(...args: string[]): string {
  const result = spawnSync('ip', args, { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`ip ${args.join(' ')}: ${result.stderr}`);
  return result.stdout;
}
/** The floating address on A's end of the veth pair. */
const onA = () => ip('-n', nsA, '-o', '-4', 'addr', 'show', 'dev', vethA).includes(`inet ${floating}/24`);

let bench: RecipeBench;
let arpingLog: string | undefined;
let standInDir: string;

describe.skipIf(skipReason !== undefined)(
  `floating-ip recipe in two network namespaces${skipReason ? ` (skipped: ${skipReason})` : ''}`,
  () => {
    beforeAll(() => {
      ip('netns', 'add', nsA);
      ip('netns', 'add', nsB);
      ip('link', 'add', vethA, 'netns', nsA, 'type', 'veth', 'peer', 'name', vethB, 'netns', nsB);
      ip('-n', nsA, 'addr', 'add', '10.231.0.1/24', 'dev', vethA);
      ip('-n', nsB, 'addr', 'add', '10.231.0.2/24', 'dev', vethB);
      ip('-n', nsA, 'link', 'set', vethA, 'up');
      ip('-n', nsB, 'link', 'set', vethB, 'up');
      // B learns neighbours from gratuitous ARP even without an entry for them yet.
      ip('netns', 'exec', nsB, 'sysctl', '-qw', `net.ipv4.conf.${vethB}.arp_accept=1`);
      // Without arping, a stand-in (iputils' flavour) that records its call; the ARP check is skipped.
      const bin = mkdtempSync(join(tmpdir(), 'tiebreak-arping-'));
      if (!arpingInstalled) {
        arpingLog = join(bin, 'arping.log');
        writeFileSync(
          join(bin, 'arping'),
          `#!/bin/sh\n[ "$1" = -V ] && echo 'arping from iputils' && exit 0\necho "$*" >> ${arpingLog}\n`,
          {
            mode: 0o755,
          },
        );
      }
      bench = recipeBench({
        recipe: 'floating-ip',
        settings: { FLOATING_IP: `${floating}/24`, FLOATING_IP_INTERFACE: vethA, FLOATING_IP_ARP_COUNT: '1' },
        prefix: ['ip', 'netns', 'exec', nsA],
        path: [bin],
      });
      standInDir = bin;
    });
    afterAll(() => {
      spawnSync('ip', ['netns', 'del', nsA]);
      spawnSync('ip', ['netns', 'del', nsB]);
      bench.cleanup();
      rmSync(standInDir, { recursive: true, force: true });
    });

    test('promote adds the address and exits 0, twice', () => {
      expect(onA()).toBe(false);
      for (let i = 0; i < 2; i++) {
        const promoted = bench.run('promote', { epoch: 3 });
        expect(promoted.code, promoted.output).toBe(0);
        expect(onA()).toBe(true);
      }
      expect(bench.run('health').code).toBe(0);
    });

    test.skipIf(!arpingInstalled)(
      `the gratuitous ARP reaches the other namespace: B's neighbour table has A's MAC for the address${arpingInstalled ? '' : ' (skipped: arping is not installed; apt-get install iputils-arping)'}`,
      async () => {
        const macA = /link\/ether ([0-9a-f:]+)/.exec(ip('-n', nsA, 'link', 'show', vethA))![1];
        let neighbour = '';
        for (let i = 0; i < 50 && !neighbour.includes('lladdr'); i++) {
          neighbour = ip('-n', nsB, 'neigh', 'show', floating);
          if (!neighbour.includes('lladdr')) await new Promise((resolve) => setTimeout(resolve, 100));
        }
        expect(neighbour).toContain(`lladdr ${macA!}`);
      },
    );

    test('health fails when the address is gone from the primary', () => {
      ip('-n', nsA, 'addr', 'del', `${floating}/24`, 'dev', vethA);
      const health = bench.run('health');
      expect(health.code).toBe(2);
      expect(health.output).toContain('missing');
      expect(bench.run('promote', { epoch: 3 }).code).toBe(0);
    });

    test('demote removes the address and exits 0, twice; an address left on the secondary makes health fail', () => {
      for (let i = 0; i < 2; i++) {
        const demoted = bench.run('demote');
        expect(demoted.code, demoted.output).toBe(0);
        expect(onA()).toBe(false);
      }
      expect(bench.run('health').code).toBe(0);
      ip('-n', nsA, 'addr', 'add', `${floating}/24`, 'dev', vethA);
      const health = bench.run('health');
      expect(health.code).toBe(2);
      expect(health.output).toContain('but this server is secondary');
      expect(bench.run('demote').code).toBe(0);
      if (arpingLog) expect(readFileSync(arpingLog, 'utf8')).toContain(`-U -c 1 -I ${vethA}`);
    });
  },
);
