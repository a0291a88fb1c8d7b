import { accountDeps, apiBaseDeps, type ApiDeps } from './api-config.ts';
import { channelsDeps, type ChannelsDepsOptions } from './channels-config.ts';
import { webhookApiDeps } from './webhook-api-config.ts';

/**
 * Every api function's deps in one object, each part built by its function's own assembly: what
 * the local stack hands all the API's functions when they share one memory (its default; with
 * `depsPerFunction`, each function gets its own assembly's). No Lambda imports this.
 */
export function apiDeps(options: ChannelsDepsOptions): ApiDeps {
  return { ...apiBaseDeps(options), ...accountDeps(options), ...channelsDeps(options), ...webhookApiDeps(options) };
}
