import { execFile } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { loadAgentConfig } from '../../agent/config.ts';
import { buildAgentDeb, type DebArch } from '../../packaging/deb.ts';
import { buildAgentBinary } from '../../packaging/agent-binary.ts';
import packageJson from '../../package.json' with { type: 'json' };

// The agent's Debian package (packaging/deb.ts), built, read back with dpkg-deb, checked by lintian,
// and installed, removed and purged in a scratch root with dpkg --root, as a technician's apt would.
// The maintainer scripts run outside the root (--force-script-chrootless) with DPKG_ROOT set, as
// Debian supports for building system images: the scratch root holds no shell or tools of its own.

const run = promisify(execFile);
const has = (tool: string) => ['/usr/bin', '/usr/sbin', '/bin', '/sbin'].some((dir) => existsSync(join(dir, tool)));
const root = process.getuid?.() === 0;

const work = mkdtempSync(join(tmpdir(), 'tiebreak-deb-test-'));
afterAll(() => {
  rmSync(work, { recursive: true, force: true });
});

/** This machine's architecture, whose package carries the real single executable (built here). */
const hostArch: DebArch = process.arch === 'arm64' ? 'arm64' : 'amd64';
const commit = 'test000';

/** The other architecture's package carries a stand-in (it could not run here): a script that answers --version. */
function standIn(arch: DebArch): string {
  const path = join(work, `stand-in-${arch}`);
  writeFileSync(path, `#!/bin/sh\n[ "$1" = --version ] && echo 'tiebreak-agent ${packageJson.version} (${commit})' && exit 0\nexit 2\n`, {
    mode: 0o755,
  });
  return path;
}

const version = packageJson.version;
const debs = {} as Record<DebArch, string>;
beforeAll(async () => {
  const real = await buildAgentBinary({ arch: hostArch === 'amd64' ? 'x64' : 'arm64', outDir: join(work, 'bin'), commit });
  for (const arch of ['amd64', 'arm64'] as const) {
    const binary = arch === hostArch ? real : standIn(arch);
    debs[arch] = await buildAgentDeb({ arch, binary, version, outDir: join(work, 'dist'), compression: 'fast' });
  }
}, 300_000);

/** `dpkg-deb --contents`, as path → "mode owner/group". */
async function contents(deb: string): Promise<Map<string, string>> {
  const { stdout } = await run('dpkg-deb', ['--contents', deb]);
  return new Map(
    stdout
      .trim()
      .split('\n')
      .map((line) => line.split(/\s+/))
      .map((f) => [f[5]!.replace(/^\./, '').replace(/\/$/, '') || '/', `${f[0]!} ${f[1]!}`]),
  );
}

const field = async (deb: string, name: string) => (await run('dpkg-deb', ['--field', deb, name])).stdout.trim();

describe('the package', () => {
  test('is tiebreak-agent_<version>_<arch>.deb for amd64 and arm64, and says so in its control file', async () => {
    for (const arch of ['amd64', 'arm64'] as const) {
      expect(debs[arch]).toBe(join(work, 'dist', `tiebreak-agent_${version}_${arch}.deb`));
      expect(await field(debs[arch], 'Package')).toBe('tiebreak-agent');
      expect(await field(debs[arch], 'Version')).toBe(version);
      expect(await field(debs[arch], 'Architecture')).toBe(arch);
      expect(await field(debs[arch], 'Depends')).toMatch(/libc6 \(>= 2\.28\).*passwd/);
    }
  });

  test('holds the executable, both units, the configuration, the docs, and every file owned by root', async () => {
    const files = await contents(debs[hostArch]);
    expect(files.get('/usr/bin/tiebreak-agent')).toBe('-rwxr-xr-x root/root');
    expect(files.get('/lib/systemd/system/tiebreak-agent.service')).toBe('-rw-r--r-- root/root');
    expect(files.get('/lib/systemd/system/tiebreak-watchdog.service')).toBe('-rw-r--r-- root/root');
    expect(files.get('/etc/tiebreak/agent.yaml')).toBe('-rw-r----- root/root');
    expect(files.get('/etc/tiebreak/hooks')).toBe('drwxr-xr-x root/root');
    for (const doc of ['copyright', 'changelog.gz', 'agent.md']) expect(files.has(`/usr/share/doc/tiebreak-agent/${doc}`)).toBe(true);
    expect(files.has('/usr/share/man/man1/tiebreak-agent.1.gz')).toBe(true);
    expect([...files.values()].filter((v) => !v.endsWith(' root/root'))).toEqual([]);
  });

  test.runIf(existsSync(join(import.meta.dirname, '../../deploy/recipes')))(
    'carries the hook recipes of deploy/recipes/, their hooks executable, for /etc/tiebreak/hooks to link to',
    async () => {
      const files = await contents(debs[hostArch]);
      for (const hook of ['promote', 'demote', 'health']) {
        expect(files.get(`/usr/lib/tiebreak-agent/recipes/systemd-units/${hook}`)).toBe('-rwxr-xr-x root/root');
      }
      expect(files.get('/usr/lib/tiebreak-agent/recipes/README.md')).toBe('-rw-r--r-- root/root');
    },
  );

  test('marks the configuration as a conffile, and carries the three maintainer scripts', async () => {
    const { stdout } = await run('dpkg-deb', ['--info', debs[hostArch]]);
    for (const script of ['postinst', 'prerm', 'postrm']) expect(stdout).toMatch(new RegExp(`\\d+ lines\\s+\\*\\s+${script}\\s+#!/bin/sh`));
    const control = join(work, 'control');
    await run('dpkg-deb', ['--control', debs[hostArch], control]);
    expect(readFileSync(join(control, 'conffiles'), 'utf8')).toBe('/etc/tiebreak/agent.yaml\n');
  });

  test('the units start the packaged executable', async () => {
    const extracted = join(work, 'extracted');
    await run('dpkg-deb', ['--extract', debs[hostArch], extracted]);
    const agentUnit = readFileSync(join(extracted, 'lib/systemd/system/tiebreak-agent.service'), 'utf8');
    expect(agentUnit).toContain('\nExecStart=/usr/bin/tiebreak-agent run --config /etc/tiebreak/agent.yaml\n');
    const watchdogUnit = readFileSync(join(extracted, 'lib/systemd/system/tiebreak-watchdog.service'), 'utf8');
    expect(watchdogUnit).toMatch(/\nExecStart=\/usr\/bin\/tiebreak-agent watchdog --config \/etc\/tiebreak\/agent\.yaml /);
  });

  test("refuses an executable built for the other architecture (this machine's own, in the arm64 package)", async () => {
    const elf = join(work, 'this-machine-elf');
    copyFileSync(process.execPath, elf);
    const machine = readFileSync(elf).readUInt16LE(18);
    const [mine, other] = machine === 62 ? (['amd64', 'arm64'] as const) : (['arm64', 'amd64'] as const);
    await expect(buildAgentDeb({ arch: other, binary: elf, version, outDir: join(work, 'wrong') })).rejects.toThrow(
      `buildAgentDeb: ${elf} is built for ${mine}, not ${other}`,
    );
  });

  test.runIf(has('shellcheck'))('its maintainer scripts pass shellcheck as POSIX sh', async () => {
    const scripts = ['postinst', 'prerm', 'postrm'].map((script) => join(import.meta.dirname, '../../packaging/debian', script));
    const checked = await run('shellcheck', ['--shell=sh', ...scripts]).catch((error: unknown) => error as { stdout: string });
    expect(checked.stdout).toBe('');
  });

  test.runIf(has('lintian'))(
    'lintian finds no error and no warning',
    async () => {
      // lintian exits non-zero on an error with --fail-on error; warnings are printed as "W: ".
      const { stdout } = await run('lintian', ['--fail-on', 'error', '--suppress-tags', 'unused-override', debs[hostArch]]);
      expect(stdout.split('\n').filter((line) => /^[EW]: /.test(line))).toEqual([]);
    },
    180_000,
  ); // lintian reads the whole 110 MB executable: 13 s here at load 6

  test.runIf(has('readelf'))("its Depends cover what Node's own binary, the executable's base, needs of glibc and libstdc++", async () => {
    const node = join(import.meta.dirname, '../../node_modules/node/bin/node');
    const { stdout } = await run('readelf', ['--version-info', '--wide', node], { maxBuffer: 64 * 1024 * 1024 });
    const older = (a: number[], b: number[]): number => {
      for (let i = 0; i < Math.max(a.length, b.length); i++) if ((a[i] ?? 0) !== (b[i] ?? 0)) return (a[i] ?? 0) - (b[i] ?? 0);
      return 0;
    };
    const newest = (prefix: string) =>
      [...stdout.matchAll(new RegExp(`Name: ${prefix}_([0-9.]+)`, 'g'))]
        .map((m) => m[1]!.split('.').map(Number))
        .sort(older)
        .at(-1)
        ?.join('.');
    expect(newest('GLIBC')).toBe('2.28'); // libc6 (>= 2.28)
    expect(newest('GLIBCXX')).toBe('3.4.21'); // GCC 5: libstdc++6 (>= 5.2)
  });
});

/** A scratch system: a dpkg database, and the account files useradd edits. */
function scratchRoot(): string {
  const dir = mkdtempSync(join(work, 'root-'));
  for (const sub of ['var/lib/dpkg/info', 'var/lib/dpkg/updates', 'etc']) mkdirSync(join(dir, sub), { recursive: true });
  writeFileSync(join(dir, 'var/lib/dpkg/status'), '');
  writeFileSync(join(dir, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\n');
  writeFileSync(join(dir, 'etc/group'), 'root:x:0:\n');
  writeFileSync(join(dir, 'etc/shadow'), 'root:*:19000:0:99999:7:::\n', { mode: 0o640 });
  writeFileSync(join(dir, 'etc/gshadow'), 'root:*::\n', { mode: 0o640 });
  return dir;
}

/** dpkg on the scratch root; the libraries and tools it depends on are the host's, not in the root. */
const dpkg = (dir: string, ...args: string[]) => run('dpkg', [`--root=${dir}`, '--force-script-chrootless', '--force-depends', ...args]);

/** A user's or group's line in the scratch root's account files, as fields. */
const account = (dir: string, file: 'passwd' | 'group', name: string) =>
  readFileSync(join(dir, 'etc', file), 'utf8')
    .split('\n')
    .filter((line) => line.startsWith(`${name}:`))
    .map((line) => line.split(':'));

const mode = (path: string) => statSync(path).mode & 0o7777;

describe.runIf(root && has('dpkg'))('installed with dpkg into a scratch root', () => {
  const dir = scratchRoot();
  const wants = join(dir, 'etc/systemd/system/multi-user.target.wants/tiebreak-agent.service');

  test('creates the tiebreak system user and group, once, however often it is installed', async () => {
    const first = await dpkg(dir, '--install', debs[hostArch]);
    expect(first.stdout).toContain('fill in /etc/tiebreak/agent.yaml');
    await dpkg(dir, '--install', debs[hostArch]);
    const [user] = account(dir, 'passwd', 'tiebreak');
    const [group] = account(dir, 'group', 'tiebreak');
    expect(account(dir, 'passwd', 'tiebreak')).toHaveLength(1);
    expect(account(dir, 'group', 'tiebreak')).toHaveLength(1);
    expect(Number(user![2])).toBeLessThan(1000); // a system user
    expect(user![3]).toBe(group![2]);
    expect(user!.slice(5)).toEqual(['/var/lib/tiebreak-agent', '/usr/sbin/nologin']);
  });

  test('gives the configuration to root:tiebreak, readable by the agent only, and the state folder to tiebreak', () => {
    const [user] = account(dir, 'passwd', 'tiebreak');
    const [uid, gid] = [Number(user![2]), Number(user![3])];
    for (const [path, wanted] of [
      ['etc/tiebreak', 0o750],
      ['etc/tiebreak/hooks', 0o750],
      ['etc/tiebreak/agent.yaml', 0o640],
    ] as const) {
      const s = statSync(join(dir, path));
      expect({ path, mode: mode(join(dir, path)), uid: s.uid, gid: s.gid }).toEqual({ path, mode: wanted, uid: 0, gid });
    }
    const state = statSync(join(dir, 'var/lib/tiebreak-agent'));
    expect({ mode: mode(join(dir, 'var/lib/tiebreak-agent')), uid: state.uid, gid: state.gid }).toEqual({ mode: 0o750, uid, gid });
  });

  test('enables the unit at boot (it is not started: the configuration is still the example)', async () => {
    expect(readlinkSync(wants)).toBe('/lib/systemd/system/tiebreak-agent.service');
    await expect(loadAgentConfig(join(dir, 'etc/tiebreak/agent.yaml'))).rejects.toThrow(
      /not filled in yet: witness\.url, witness\.enrollmentCode, peer\.key/,
    );
  });

  test('the installed executable runs', async () => {
    const { stdout } = await run(join(dir, 'usr/bin/tiebreak-agent'), ['--version']);
    expect(stdout).toBe(`tiebreak-agent ${version} (${commit})\n`);
  });

  test('remove keeps the configuration and the state, and masks the unit (as debhelper does: a reinstall enables it again)', async () => {
    writeFileSync(join(dir, 'var/lib/tiebreak-agent/node-token.json'), '{}');
    await dpkg(dir, '--remove', 'tiebreak-agent');
    expect(existsSync(join(dir, 'usr/bin/tiebreak-agent'))).toBe(false);
    expect(existsSync(join(dir, 'lib/systemd/system/tiebreak-agent.service'))).toBe(false);
    expect(existsSync(join(dir, 'etc/tiebreak/agent.yaml'))).toBe(true);
    expect(existsSync(join(dir, 'var/lib/tiebreak-agent/node-token.json'))).toBe(true);
    expect(readlinkSync(join(dir, 'etc/systemd/system/tiebreak-agent.service'))).toBe('/dev/null');
  });

  test('purge removes the configuration and the state, and leaves the tiebreak user', async () => {
    await dpkg(dir, '--purge', 'tiebreak-agent');
    expect(existsSync(join(dir, 'etc/tiebreak'))).toBe(false);
    expect(existsSync(join(dir, 'var/lib/tiebreak-agent'))).toBe(false);
    expect(account(dir, 'passwd', 'tiebreak')).toHaveLength(1);
    for (const link of [wants, join(dir, 'etc/systemd/system/tiebreak-agent.service')]) {
      expect(lstatSync(link, { throwIfNoEntry: false })).toBeUndefined();
    }
    const { stdout } = await dpkg(dir, '--status', 'tiebreak-agent').catch((error: unknown) => ({ stdout: String(error) }));
    expect(stdout).not.toContain('Status: install ok installed');
  });
});

describe('postinst on a running system (no DPKG_ROOT)', () => {
  // The system's own tools are stand-ins that log their arguments, so that the test changes nothing
  // on this machine: what is checked is what postinst asks of them.
  test('creates the user and group by name, registers the ownership with dpkg-statoverride, and enables the unit', async () => {
    const fakes = mkdtempSync(join(work, 'fakes-'));
    const log = join(fakes, 'calls.log');
    const fake = (name: string, body = '') => {
      writeFileSync(join(fakes, name), `#!/bin/sh\necho "${name} $*" >> '${log}'\n${body}\n`, { mode: 0o755 });
    };
    fake('getent', 'exit 2'); // no such user or group yet
    fake('id', 'echo 999');
    fake('dpkg-statoverride', '[ "$1" = --list ] && exit 1; exit 0'); // none registered yet
    for (const name of ['groupadd', 'useradd', 'install', 'chown', 'deb-systemd-helper', 'deb-systemd-invoke', 'systemctl']) fake(name);
    const postinst = join(import.meta.dirname, '../../packaging/debian/postinst');
    const env = { PATH: `${fakes}:/usr/bin:/bin`, DPKG_ROOT: '' };
    const { stdout } = await run('sh', [postinst, 'configure', ''], { env });
    expect(stdout).toContain('fill in /etc/tiebreak/agent.yaml');
    const calls = readFileSync(log, 'utf8').split('\n');
    expect(calls).toContain('groupadd --system tiebreak');
    expect(calls).toContain(
      'useradd --system --gid tiebreak --home-dir /var/lib/tiebreak-agent --no-create-home --shell /usr/sbin/nologin --comment Tiebreak agent tiebreak',
    );
    expect(calls).toContain('dpkg-statoverride --update --add root tiebreak 0640 /etc/tiebreak/agent.yaml');
    expect(calls).toContain('dpkg-statoverride --update --add root tiebreak 0750 /etc/tiebreak');
    expect(calls).toContain('install -d -m 0750 /var/lib/tiebreak-agent');
    expect(calls).toContain('deb-systemd-helper enable tiebreak-agent.service');
    // Enabled, not started.
    expect(calls.filter((c) => /^(systemctl|deb-systemd-invoke) .*start/.test(c))).toEqual([]);
  });
});
