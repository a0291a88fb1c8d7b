/**
 * The console's build: `console/main.tsx` (and the stylesheet it imports) bundled and minified by
 * the project's esbuild into content-hashed `console-<hash>.js` and `console-<hash>.css`, and
 * `index.html` naming them. One build for every place the console is served from: `npm start`
 * keeps the files in memory (local/console-routes.ts), the CDK stack writes them into the console
 * function's package (lib/witness-function.ts runs this file after bundling the handler), and the
 * console benchmark measures them.
 *
 * As a command (Node strips the types: no TypeScript tool needed), it writes the files to a folder:
 *
 *   node console/build.ts --out DIR
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { build } from 'esbuild';

const consoleDir = dirname(fileURLToPath(import.meta.url));

/** The browsers the console supports: those of the last few years, all with ES modules and `<dialog>`. */
export const consoleTargets = ['chrome111', 'edge111', 'firefox111', 'safari16.4'];

/** The built console: file name (no folder) → its bytes. */
export type ConsoleFiles = Record<string, Uint8Array>;

/** Builds the console in memory: `index.html`, and one hashed `.js` and `.css` it names. */
export async function buildConsole(): Promise<ConsoleFiles> {
  const result = await build({
    entryPoints: { console: join(consoleDir, 'main.tsx') },
    bundle: true,
    write: false,
    outdir: 'out',
    // Content-hashed names: served with a year-long cache, while index.html is revalidated.
    entryNames: '[name]-[hash]',
    format: 'esm',
    target: consoleTargets,
    platform: 'browser',
    minify: true,
    jsx: 'automatic',
    jsxImportSource: 'preact',
    legalComments: 'none',
    // No inline script or style anywhere: the CSP (functions/handlers/console.ts) allows 'self' only.
    logLevel: 'error',
    absWorkingDir: consoleDir,
  });
  const files: ConsoleFiles = {};
  for (const output of result.outputFiles) files[output.path.slice(output.path.lastIndexOf('/') + 1)] = output.contents;
  const script = Object.keys(files).find((name) => name.endsWith('.js'));
  const style = Object.keys(files).find((name) => name.endsWith('.css'));
  if (!script || !style) throw new Error(`the console build made ${Object.keys(files).join(', ')}: a script and a stylesheet expected`);
  const template = await readFile(join(consoleDir, 'index.html'), 'utf8');
  const page = template.replace('href="console.css"', `href="${style}"`).replace('src="console.js"', `src="${script}"`);
  if (!page.includes(script) || !page.includes(style)) throw new Error('console/index.html must link console.css and console.js');
  files['index.html'] = new TextEncoder().encode(page);
  return files;
}

/** Writes the built console into `dir` (created if missing). */
export async function writeConsole(dir: string): Promise<string[]> {
  const files = await buildConsole();
  await mkdir(dir, { recursive: true });
  for (const [name, bytes] of Object.entries(files)) await writeFile(join(dir, name), bytes);
  return Object.keys(files);
}

const usage = `usage: node console/build.ts --out DIR

Builds the reseller console (console/main.tsx, its stylesheet and console/index.html) with esbuild
into DIR: index.html, console-<hash>.js and console-<hash>.css.`;

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({ options: { out: { type: 'string' }, help: { type: 'boolean', short: 'h' } } });
  if (values.help) {
    console.log(usage);
  } else if (!values.out) {
    console.error(usage);
    process.exitCode = 2;
  } else {
    const written = await writeConsole(resolve(values.out));
    console.log(`console built into ${resolve(values.out)}: ${written.join(', ')}`);
  }
}
