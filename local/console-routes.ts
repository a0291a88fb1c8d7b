import { buildConsole } from '../console/build.ts';
import { consoleAssets } from '../functions/adapters/console-assets.ts';
import { loadOnce } from '../functions/adapters/load-once.ts';
import { consoleHandler } from '../functions/handlers/console.ts';
import { consoleRouteKeys } from '../protocol/console-routes.ts';
import type { Routes } from './http-server.ts';

/**
 * The reseller console as the stack serves it (the console function's two routes), its files built
 * by esbuild into memory at the first request, or at once with `build: 'now'` (npm start: a broken
 * build shows at start, not at the first page load).
 */
export async function consoleRoutes(options: { build?: 'now' | 'on-first-request' } = {}): Promise<Routes> {
  const assets = loadOnce(async () => consoleAssets(await buildConsole()));
  if (options.build === 'now') await assets();
  const route = { functionName: 'tiebreak-console', handler: consoleHandler(assets) };
  return Object.fromEntries(consoleRouteKeys.map((key) => [key, route]));
}
