/**
 * `tiebreak-agent` as one executable, with Node's own single-executable application support: the
 * agent bundled by esbuild as CommonJS (what a Node 24 single executable runs), made into a blob by
 * the same Node version as the target's (`--experimental-sea-config`), and injected by postject into
 * a copy of that target's Node binary (the npm registry's `node-linux-<arch>`: target-node.ts). The
 * binary needs no Node, npm or project file on the server. Nothing is stripped from Node's binary.
 */
import { chmod, copyFile, mkdir, mkdtemp, open, rename, rm, stat, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import packageJson from '../package.json' with { type: 'json' };
import { commitDefine } from '../agent/version.ts';
import { runTool } from './run-tool.ts';
import { type Arch, elfArch, pinnedNodeVersion, targetNode } from './target-node.ts';

export type { Arch } from './target-node.ts';
export { arches } from './target-node.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
/** The sentinel Node's binary holds, which postject flips to say a blob is there (Node's docs). */
const seaFuse = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2';

export interface AgentBinaryOptions {
  arch: Arch;
  /** Where the binary goes, as `tiebreak-agent-linux-<arch>`. */
  outDir: string;
  /** Where the Node tarballs are kept between builds (default `.tiebreak/cache/node`). */
  cacheDir?: string;
  /** What `--version` names as the commit (default: `git rev-parse --short HEAD`, `-dirty` with uncommitted changes). */
  commit?: string;
  /** Progress, a line at a time. */
  log?: (line: string) => void;
}

/** The commit the working tree is at, as `--version` shows it. */
export async function buildCommit(): Promise<string> {
  const stdout = await runTool('git', ['rev-parse', '--short', 'HEAD'], { cwd: root });
  const dirty = await runTool('git', ['diff', '--quiet', 'HEAD'], { cwd: root }).then(
    () => false,
    () => true,
  );
  return `${stdout.trim()}${dirty ? '-dirty' : ''}`;
}

/** GNU strip for each target (Debian: binutils-x86-64-linux-gnu, binutils-aarch64-linux-gnu). */
const stripTool: Record<Arch, string> = { x64: 'x86_64-linux-gnu-strip', arm64: 'aarch64-linux-gnu-strip' };

/** Builds `tiebreak-agent-linux-<arch>` into outDir: its path. */
export async function buildAgentBinary(options: AgentBinaryOptions): Promise<string> {
  const { arch, log = () => undefined } = options;
  const outDir = resolve(options.outDir);
  const cacheDir = resolve(options.cacheDir ?? join(root, '.tiebreak', 'cache', 'node'));
  const commit = options.commit ?? (await buildCommit());
  const version = await pinnedNodeVersion(root);
  const hostArch = process.platform === 'linux' && (process.arch === 'x64' || process.arch === 'arm64') ? process.arch : undefined;
  if (!hostArch)
    throw new Error(`the blob is made by Node ${version} for linux-x64 or linux-arm64; this is ${process.platform}-${process.arch}`);

  const workDir = await mkdtemp(join(tmpdir(), 'tiebreak-agent-binary-'));
  try {
    const node = await targetNode({ arch, version, cacheDir, workDir, log });
    // The blob is made by a Node of the target's version that runs here (it is the same for every arch:
    // no snapshot and no code cache, which would be the host's).
    const maker = hostArch === arch ? node : await targetNode({ arch: hostArch, version, cacheDir, workDir, log });

    log(`bundling bin/agent.ts (commit ${commit})`);
    const main = join(workDir, 'tiebreak-agent.cjs');
    await build({
      entryPoints: [join(root, 'bin', 'agent.ts')],
      bundle: true,
      platform: 'node',
      format: 'cjs',
      target: 'node24',
      outfile: main,
      define: { [commitDefine]: JSON.stringify(commit) },
      logLevel: 'warning',
    });

    log(`making the blob with Node ${version}`);
    const blob = join(workDir, 'tiebreak-agent.blob');
    const config = join(workDir, 'sea-config.json');
    await writeFile(
      config,
      JSON.stringify({ main, output: blob, disableExperimentalSEAWarning: true, useSnapshot: false, useCodeCache: false }),
    );
    await runTool(maker, ['--experimental-sea-config', config], { cwd: workDir });

    const name = `tiebreak-agent-linux-${arch}`;
    await mkdir(outDir, { recursive: true });
    const made = join(workDir, name);
    await copyFile(node, made);
    // Node's release binaries keep their symbols (about 18 MB); stripped before the blob goes in, as
    // Debian ships executables (lintian: unstripped-binary-or-object). The target's own binutils.
    log(`stripping node-linux-${arch} (${stripTool[arch]})`);
    await runTool(stripTool[arch], ['--remove-section=.comment', made]);
    log(`injecting it into node-linux-${arch}@${version} (postject)`);
    const postject = createRequire(import.meta.url).resolve('postject/dist/cli.js');
    await runTool(process.execPath, [postject, made, 'NODE_SEA_BLOB', blob, '--sentinel-fuse', seaFuse]);
    await chmod(made, 0o755);
    await check({ binary: made, arch, hostArch, expected: `tiebreak-agent ${packageJson.version} (${commit})` });

    // Moved in whole: an outDir binary is always a finished one.
    const target = join(outDir, name);
    await copyFile(made, `${target}.part`);
    await rename(`${target}.part`, target);
    log(`${target}: ${megabytes((await stat(target)).size)}`);
    return target;
  } finally {
    await rm(workDir, { recursive: true, force: true });
  }
}

/** What can be checked here: the header's machine, and on this machine's arch, that it runs and says its version. */
async function check({ binary, arch, hostArch, expected }: { binary: string; arch: Arch; hostArch: Arch; expected: string }) {
  const file = await open(binary);
  const header = Buffer.alloc(20);
  await file.read(header, 0, 20, 0).finally(() => file.close());
  if (elfArch(header) !== arch) throw new Error(`${binary} is not a linux-${arch} executable`);
  if (arch !== hostArch) return;
  const stdout = await runTool(binary, ['--version'], { env: {} });
  if (stdout.trim() !== expected) throw new Error(`${binary} --version printed ${JSON.stringify(stdout)}, not ${expected}`);
}

export const megabytes = (bytes: number): string => `${(bytes / 1_000_000).toFixed(1)} MB`;
