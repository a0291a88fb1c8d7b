/**
 * The agent's Debian package, `tiebreak-agent_<version>_<arch>.deb`: the executable, the systemd
 * units, the example configuration as a conffile, the maintainer scripts of packaging/debian/, and
 * the documentation Debian asks for. Staged in a temporary folder and built by Debian's own
 * `dpkg-deb --build --root-owner-group`, so every file in the archive is root:root; the tiebreak
 * group that /etc/tiebreak needs is set by postinst (dpkg-statoverride), once it exists.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, copyFile, mkdir, mkdtemp, open, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';

const run = promisify(execFile);

const root = join(import.meta.dirname, '..');
const debian = join(import.meta.dirname, 'debian');

export type DebArch = 'amd64' | 'arm64';

export interface AgentDebOptions {
  arch: DebArch;
  /** The tiebreak-agent executable for that architecture. */
  binary: string;
  /** The package version, e.g. package.json's `0.1.0`. */
  version: string;
  /** Where the .deb goes (created if missing). */
  outDir: string;
  /** The changelog entry's date, as seconds since 1970 (default: SOURCE_DATE_EPOCH, or now). */
  dateEpochSeconds?: number;
  /** xz (default: what ships) or gzip at its fastest (tests: a 110 MB executable takes xz minutes). */
  compression?: 'xz' | 'fast';
}

export const packageName = 'tiebreak-agent';
export const maintainer = 'Tiebreak maintainers <maintainers@tiebreak.invalid>';

/**
 * What Node 24's official Linux builds (and so the single executable) link against: glibc 2.28
 * and libstdc++ from GCC 5 (`readelf -V` shows GLIBC_2.28 and GLIBCXX_3.4.21 at most; a test checks
 * it on the Node binary the executable is built from). passwd gives groupadd and useradd,
 * init-system-helpers deb-systemd-helper; systemd runs the agent.
 */
export const depends = ['libc6 (>= 2.28)', 'libgcc-s1 (>= 3.0)', 'libstdc++6 (>= 5.2)', 'passwd', 'init-system-helpers (>= 1.54~)'];
export const recommends = ['systemd'];

/** Files of the package: where each comes from, where it goes, its mode. */
const files: { from: string; to: string; mode: number }[] = [
  { from: join(root, 'deploy/agent/tiebreak-agent.service'), to: 'lib/systemd/system/tiebreak-agent.service', mode: 0o644 },
  { from: join(root, 'deploy/agent/tiebreak-watchdog.service'), to: 'lib/systemd/system/tiebreak-watchdog.service', mode: 0o644 },
  // 0640 from the start: once filled in it holds this node's enrollment code and the site's peer key.
  { from: join(root, 'deploy/agent/agent.example.yaml'), to: 'etc/tiebreak/agent.yaml', mode: 0o640 },
  { from: join(debian, 'copyright'), to: 'usr/share/doc/tiebreak-agent/copyright', mode: 0o644 },
  { from: join(root, 'docs/agent.md'), to: 'usr/share/doc/tiebreak-agent/agent.md', mode: 0o644 },
  { from: join(debian, 'lintian-overrides'), to: 'usr/share/lintian/overrides/tiebreak-agent', mode: 0o644 },
];
export const conffiles = ['/etc/tiebreak/agent.yaml'];

/** The hook recipes (deploy/recipes/), installed whole: hooks link to them from /etc/tiebreak/hooks. */
const recipesFrom = join(root, 'deploy/recipes');
export const recipesTo = 'usr/lib/tiebreak-agent/recipes';
const hookNames = new Set(['promote', 'demote', 'health']);

async function recipes(): Promise<{ from: string; to: string; mode: number }[]> {
  if (!existsSync(recipesFrom)) return [];
  const entries = await readdir(recipesFrom, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile() && !e.name.startsWith('.'))
    .map((e) => {
      const path = relative(recipesFrom, join(e.parentPath, e.name));
      return { from: join(recipesFrom, path), to: join(recipesTo, path), mode: hookNames.has(e.name) ? 0o755 : 0o644 };
    });
}
const maintainerScripts = ['postinst', 'prerm', 'postrm'];

/** ELF's e_machine of each architecture (x86-64 62, AArch64 183). */
const elfMachines: Record<DebArch, number> = { amd64: 62, arm64: 183 };

/** Refuses an ELF executable built for another architecture than the package's. */
async function checkArch(binary: string, arch: DebArch): Promise<void> {
  const file = await open(binary);
  const head = Buffer.alloc(20);
  const { bytesRead } = await file.read(head, 0, 20, 0).finally(() => file.close());
  if (bytesRead < 20 || head.toString('latin1', 0, 4) !== '\x7fELF') return;
  const machine = head.readUInt16LE(18);
  if (machine !== elfMachines[arch]) {
    const name = Object.entries(elfMachines).find(([, m]) => m === machine)?.[0] ?? `ELF machine ${String(machine)}`;
    throw new Error(`buildAgentDeb: ${binary} is built for ${name}, not ${arch}`);
  }
}

/** Builds the package; resolves with the .deb's path. */
export async function buildAgentDeb(options: AgentDebOptions): Promise<string> {
  const { arch, binary, version, outDir } = options;
  if (!/^[0-9][A-Za-z0-9.+~]*$/.test(version)) throw new Error(`buildAgentDeb: ${version} is not a Debian version of a native package`);
  await checkArch(binary, arch);
  const stage = await mkdtemp(join(tmpdir(), 'tiebreak-deb-'));
  try {
    await mkdir(join(stage, 'DEBIAN'), { recursive: true });
    await place(stage, { from: binary, to: 'usr/bin/tiebreak-agent', mode: 0o755 });
    for (const file of [...files, ...(await recipes())]) await place(stage, file);
    // Where the administrator writes the hooks (or puts a recipe's): owned by the package, so purge
    // removes it once it is empty.
    await mkdir(join(stage, 'etc/tiebreak/hooks'), { recursive: true });
    const dateSeconds = options.dateEpochSeconds ?? (Number(process.env.SOURCE_DATE_EPOCH) || Math.floor(Date.now() / 1000));
    await gzipped(stage, 'usr/share/doc/tiebreak-agent/changelog.gz', changelog(version, dateSeconds));
    await gzipped(stage, 'usr/share/man/man1/tiebreak-agent.1.gz', await readFile(join(debian, 'tiebreak-agent.1'), 'utf8'));

    await normalizeDirs(stage);
    await writeFile(join(stage, 'DEBIAN/md5sums'), await md5sums(stage));
    await writeFile(join(stage, 'DEBIAN/conffiles'), conffiles.map((f) => `${f}\n`).join(''));
    for (const script of maintainerScripts) await place(stage, { from: join(debian, script), to: `DEBIAN/${script}`, mode: 0o755 });
    await writeFile(join(stage, 'DEBIAN/control'), control({ arch, version, installedSizeKiB: await installedSizeKiB(stage) }));
    for (const file of ['DEBIAN/md5sums', 'DEBIAN/conffiles', 'DEBIAN/control']) await chmod(join(stage, file), 0o644);

    await mkdir(outDir, { recursive: true });
    const deb = join(outDir, `${packageName}_${version}_${arch}.deb`);
    // xz, which every dpkg reads (zstd only from dpkg 1.21.18, Debian 12).
    const compression = options.compression === 'fast' ? ['-Zgzip', '-z1'] : ['-Zxz'];
    await run('dpkg-deb', ['--build', '--root-owner-group', ...compression, stage, deb], {
      env: { ...process.env, SOURCE_DATE_EPOCH: String(dateSeconds) },
    });
    return deb;
  } finally {
    await rm(stage, { recursive: true, force: true });
  }
}

async function place(stage: string, file: { from: string; to: string; mode: number }): Promise<void> {
  const to = join(stage, file.to);
  await mkdir(dirname(to), { recursive: true });
  await copyFile(file.from, to);
  await chmod(to, file.mode);
}

async function gzipped(stage: string, to: string, text: string): Promise<void> {
  const path = join(stage, to);
  await mkdir(dirname(path), { recursive: true });
  // Node's gzip writes no name and no time into the header: the same input gives the same bytes.
  await writeFile(path, gzipSync(text, { level: 9 }));
  await chmod(path, 0o644);
}

/** Every folder 0755, whatever the umask (the owners are root, from --root-owner-group). */
async function normalizeDirs(stage: string): Promise<void> {
  for (const entry of await readdir(stage, { recursive: true, withFileTypes: true })) {
    if (entry.isDirectory()) await chmod(join(entry.parentPath, entry.name), 0o755);
  }
  await chmod(stage, 0o755);
}

async function payload(stage: string): Promise<string[]> {
  const entries = await readdir(stage, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile())
    .map((e) => relative(stage, join(e.parentPath, e.name)))
    .filter((path) => !path.startsWith('DEBIAN/'))
    .sort();
}

async function md5sums(stage: string): Promise<string> {
  const lines: string[] = [];
  for (const path of await payload(stage)) {
    const hash = createHash('md5')
      .update(await readFile(join(stage, path)))
      .digest('hex');
    lines.push(`${hash}  ${path}\n`);
  }
  return lines.join('');
}

/** As dpkg-gencontrol counts it: each file's size in KiB, rounded up, and 1 for each folder. */
async function installedSizeKiB(stage: string): Promise<number> {
  let kib = 0;
  for (const entry of await readdir(stage, { recursive: true, withFileTypes: true })) {
    const path = join(entry.parentPath, entry.name);
    if (relative(stage, path).startsWith('DEBIAN')) continue;
    kib += entry.isDirectory() ? 1 : Math.ceil((await stat(path)).size / 1024);
  }
  return kib;
}

function control(options: { arch: DebArch; version: string; installedSizeKiB: number }): string {
  return `Package: ${packageName}
Version: ${options.version}
Architecture: ${options.arch}
Maintainer: ${maintainer}
Installed-Size: ${String(options.installedSizeKiB)}
Depends: ${depends.join(', ')}
Recommends: ${recommends.join(', ')}
Section: admin
Priority: optional
Description: Tiebreak agent for two-node high-availability pairs
 The agent runs on each of the two servers of a site. It keeps a peer link
 with the other server's agent, sends heartbeats to the Tiebreak witness in the
 cloud (the third vote that breaks ties), and runs the administrator's hooks:
 promote when this server becomes primary, demote when it must stop being
 primary. It never lets both servers run the workloads at once.
 .
 One executable with its own Node.js runtime: no Node.js or npm is needed.
 The unit is enabled, not started: fill in /etc/tiebreak/agent.yaml, write
 the hooks, then start tiebreak-agent.
`;
}

function changelog(version: string, dateSeconds: number): string {
  // RFC 5322 date, as dpkg-parsechangelog wants it: "Mon, 07 Dec 2026 06:00:00 +0000".
  const date = new Date(dateSeconds * 1000).toUTCString().replace('GMT', '+0000');
  return `${packageName} (${version}) unstable; urgency=medium

  * Tiebreak ${version}: the agent as one executable, with its systemd units and
    example configuration.

 -- ${maintainer}  ${date}
`;
}
