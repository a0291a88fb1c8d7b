import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

/**
 * The reseller console's static files (console/build.ts makes them), ready to serve: index.html,
 * which names the others, and the content-hashed script and stylesheet. In Lambda they lie in the
 * `console/` folder of the function's package; `npm start` builds them into memory.
 */
export interface ConsoleFile {
  contentType: string;
  body: Buffer;
  /** The same bytes gzipped, for clients that accept it (API Gateway does not compress). */
  gzipped: Buffer;
  /** Content-hashed: its name changes with its bytes, so it may be cached for good. */
  immutable: boolean;
}

export type ConsoleAssets = ReadonlyMap<string, ConsoleFile>;

/** The page every console URL starts from: revalidated on each load, so a deploy shows at once. */
export const consoleIndex = 'index.html';

const contentTypes: Record<string, string> = {
  html: 'text/html; charset=utf-8',
  js: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
  svg: 'image/svg+xml',
  png: 'image/png',
  ico: 'image/x-icon',
};

/** The files as served, from their names and bytes; anything but index.html is content-hashed by the build. */
export function consoleAssets(files: Readonly<Record<string, Uint8Array>>): ConsoleAssets {
  const assets = new Map<string, ConsoleFile>();
  for (const [name, bytes] of Object.entries(files)) {
    const extension = name.slice(name.lastIndexOf('.') + 1);
    const body = Buffer.from(bytes);
    assets.set(name, {
      contentType: contentTypes[extension] ?? 'application/octet-stream',
      body,
      gzipped: gzipSync(body, { level: 9 }),
      immutable: name !== consoleIndex,
    });
  }
  if (!assets.has(consoleIndex)) throw new Error(`the console's files have no ${consoleIndex}`);
  return assets;
}

/** The files of a built console folder (the function package's `console/`). */
export async function readConsoleAssets(dir: string): Promise<ConsoleAssets> {
  const names = await readdir(dir);
  const files = await Promise.all(names.map(async (name) => [name, await readFile(join(dir, name))] as const));
  return consoleAssets(Object.fromEntries(files));
}
