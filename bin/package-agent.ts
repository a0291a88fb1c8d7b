#!/usr/bin/env node
/**
 * `npm run package:agent`: the agent as one executable per architecture (packaging/agent-binary.ts)
 * and the Debian package around each (packaging/deb.ts), into dist/. Progress on stderr; what was
 * built, one per line with its size, on stdout.
 *
 *   npm run package:agent [-- --arch x64|arm64] [--out-dir DIR] [--no-deb]
 */
import { stat } from 'node:fs/promises';
import packageJson from '../package.json' with { type: 'json' };
import { type Arch, arches, buildAgentBinary, megabytes } from '../packaging/agent-binary.ts';
import { buildAgentDeb, type DebArch } from '../packaging/deb.ts';
import { parseCommand } from './cli/command.ts';

const usage = `usage: npm run package:agent -- [--arch x64|arm64] [--out-dir DIR] [--no-deb]

Builds tiebreak-agent as a single executable (Node's own single-executable support) for linux-x64
and linux-arm64: DIR/tiebreak-agent-linux-<arch>, which needs no Node, npm or project file on the
server; --version names the commit it was built from. Its Node is the npm registry's
node-linux-<arch> at the version package-lock.json pins for the node devDependency, fetched once
into .tiebreak/cache/node (later builds are offline), stripped with the target's GNU strip.
Then the Debian package around each: DIR/tiebreak-agent_<version>_<amd64|arm64>.deb (dpkg-deb, xz).

  --arch ARCH       x64 or arm64 (default: both)
  --out-dir DIR     where the binaries and packages go (default dist)
  --no-deb          the executables only
  -h, --help        this text`;

const { values, refuse, fail } = parseCommand({
  name: 'package-agent',
  usage,
  help: 'npm run package:agent -- --help',
  options: { arch: { type: 'string' }, 'out-dir': { type: 'string', default: 'dist' }, 'no-deb': { type: 'boolean', default: false } },
});
const isArch = (word: string | undefined): word is Arch => (arches as readonly (string | undefined)[]).includes(word);
const chosen = values.arch === undefined ? arches : isArch(values.arch) ? [values.arch] : refuse(`--arch ${values.arch}: x64 or arm64`);
const debArch: Record<Arch, DebArch> = { x64: 'amd64', arm64: 'arm64' };
const log = (line: string) => process.stderr.write(`package-agent: ${line}\n`);

// One line: a tool's details (esbuild's errors) are on stderr above it already.
const firstLine = (error: unknown) => (error instanceof Error ? error.message : String(error)).split('\n')[0] ?? '';
const sized = async (path: string) => `${path}  ${megabytes((await stat(path)).size)}`;

const started = Date.now();
for (const arch of chosen) {
  const binary = await buildAgentBinary({ arch, outDir: values['out-dir'], log }).catch((error: unknown) =>
    fail(`linux-${arch}: ${firstLine(error)}`),
  );
  console.log(await sized(binary));
  if (values['no-deb']) continue;
  log(`packaging ${binary} for ${debArch[arch]} (dpkg-deb, xz: a minute or two)`);
  const deb = await buildAgentDeb({ arch: debArch[arch], binary, version: packageJson.version, outDir: values['out-dir'] }).catch(
    (error: unknown) => fail(`${debArch[arch]} package: ${firstLine(error)}`),
  );
  console.log(await sized(deb));
}
log(`done in ${((Date.now() - started) / 1_000).toFixed(1)} s`);
