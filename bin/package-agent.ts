#!/usr/bin/env node
/**
 * `npm run package:agent`: the agent as one executable per architecture (packaging/agent-binary.ts),
 * into dist/. Progress on stderr; the binaries, one per line with their sizes, on stdout.
 *
 *   npm run package:agent [-- --arch x64|arm64] [--out-dir DIR]
 */
import { stat } from 'node:fs/promises';
import { type Arch, arches, buildAgentBinary, megabytes } from '../packaging/agent-binary.ts';
import { parseCommand } from './cli/command.ts';

const usage = `usage: npm run package:agent -- [--arch x64|arm64] [--out-dir DIR]

Builds tiebreak-agent as a single executable (Node's own single-executable support) for linux-x64
and linux-arm64: DIR/tiebreak-agent-linux-<arch>, which needs no Node, npm or project file on the
server; --version names the commit it was built from. Its Node is the npm registry's
node-linux-<arch> at the version package-lock.json pins for the node devDependency, fetched once
into .tiebreak/cache/node (later builds are offline).

  --arch ARCH       x64 or arm64 (default: both)
  --out-dir DIR     where the binaries go (default dist)
  -h, --help        this text`;

const { values, refuse, fail } = parseCommand({
  name: 'package-agent',
  usage,
  help: 'npm run package:agent -- --help',
  options: { arch: { type: 'string' }, 'out-dir': { type: 'string', default: 'dist' } },
});
const isArch = (word: string | undefined): word is Arch => (arches as readonly (string | undefined)[]).includes(word);
const chosen = values.arch === undefined ? arches : isArch(values.arch) ? [values.arch] : refuse(`--arch ${values.arch}: x64 or arm64`);

// One line: a tool's details (esbuild's errors) are on stderr above it already.
const firstLine = (error: unknown) => (error instanceof Error ? error.message : String(error)).split('\n')[0] ?? '';

const started = Date.now();
for (const arch of chosen) {
  const binary = await buildAgentBinary({
    arch,
    outDir: values['out-dir'],
    log: (line) => process.stderr.write(`package-agent: ${line}\n`),
  }).catch((error: unknown) => fail(`linux-${arch}: ${firstLine(error)}`));
  console.log(`${binary}  ${megabytes((await stat(binary)).size)}`);
}
process.stderr.write(`package-agent: done in ${((Date.now() - started) / 1_000).toFixed(1)} s\n`);
