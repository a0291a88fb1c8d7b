/**
 * Where a command finds the service and the API key: one order for every command that asks the
 * service (docs/settings.md, "Commands").
 *
 * The service: `--url`, else TIEBREAK_URL, else the witness URL in the local demo file that
 * `npm start` writes (`demo-site.json` in TIEBREAK_DATA_DIR, default `.tiebreak/local`), else
 * http://127.0.0.1:8787. The key: TIEBREAK_API_KEY, else the demo reseller's key from that file
 * when the service is the one the file names (a local key is never sent elsewhere). Never on the
 * command line, where the process list and npm's echo would show it.
 */
import { readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import * as z from 'zod';
import { type Command, errorMessage } from './command.ts';

export const defaultServiceUrl = 'http://127.0.0.1:8787';
export const defaultDataDir = '.tiebreak/local';
/** A report of a long period takes a while; a service that never answers should not hold a terminal for ever. */
export const serviceTimeoutMs = 120_000;

/** What `npm start` writes about its demo site that a command needs (local/demo-site.ts). */
const DemoFile = z.object({ witnessUrl: z.string().optional(), apiKey: z.string().optional() });
export type DemoFile = z.infer<typeof DemoFile>;

export interface ServiceChoice {
  url: string;
  /** Where the URL came from, in words: `--url`, `TIEBREAK_URL`, the demo file's path, `the default`. */
  urlFrom: string;
  key: string | undefined;
  /** Where the key came from, in words, or undefined without a key. */
  keyFrom: string | undefined;
}

const set = (value: string | undefined): string | undefined => (value === undefined || value.trim() === '' ? undefined : value.trim());

function sameService(a: string, b: string): boolean {
  try {
    return new URL(a).href === new URL(b).href;
  } catch {
    return false;
  }
}

/** The order itself, on what was read: flag, environment, demo file, default. */
export function chooseService(input: {
  url?: string | undefined;
  env: { TIEBREAK_URL?: string | undefined; TIEBREAK_API_KEY?: string | undefined };
  demo?: { file: string; content: DemoFile } | undefined;
}): ServiceChoice {
  const flag = set(input.url);
  const fromEnv = set(input.env.TIEBREAK_URL);
  const demoUrl = set(input.demo?.content.witnessUrl);
  const [url, urlFrom] = flag
    ? [flag, '--url']
    : fromEnv
      ? [fromEnv, 'TIEBREAK_URL']
      : demoUrl && input.demo
        ? [demoUrl, input.demo.file]
        : [defaultServiceUrl, 'the default'];
  const envKey = set(input.env.TIEBREAK_API_KEY);
  // A key written by npm start, only for that npm start (the file keeps a note in its place when the key was lost).
  const demoKey = set(input.demo?.content.apiKey);
  const localKey = demoUrl && demoKey?.startsWith('tbk.') && sameService(demoUrl, url) ? demoKey : undefined;
  const [key, keyFrom] = envKey ? [envKey, 'TIEBREAK_API_KEY'] : localKey ? [localKey, input.demo?.file] : [undefined, undefined];
  return { url, urlFrom, key, keyFrom };
}

/** Reads the demo file, if there is one, and chooses. */
export async function findService(options: { url?: string | undefined; env?: NodeJS.ProcessEnv } = {}): Promise<ServiceChoice> {
  const env = options.env ?? process.env;
  const path = join(set(env.TIEBREAK_DATA_DIR) ?? defaultDataDir, 'demo-site.json');
  const content = await readFile(path, 'utf8')
    .then((text) => DemoFile.safeParse(JSON.parse(text)))
    .catch(() => undefined);
  const file = relative(process.cwd(), path).startsWith('..') ? path : relative(process.cwd(), path);
  return chooseService({ url: options.url, env, demo: content?.success ? { file, content: content.data } : undefined });
}

/** The key, or a refusal saying where a key goes (exit 2). */
export function keyFor(command: Pick<Command<never>, 'refuse'>, choice: ServiceChoice): string {
  return choice.key ?? command.refuse(`no API key for ${choice.url}: set TIEBREAK_API_KEY`);
}

/** One line on stderr saying where the command goes, when nobody named it (stdout stays the data). */
export function sayWhere(name: string, choice: ServiceChoice): void {
  if (choice.urlFrom === '--url' || choice.urlFrom === 'TIEBREAK_URL') return;
  const from = choice.urlFrom === 'the default' ? 'the default: no --url, TIEBREAK_URL or demo file' : `from ${choice.urlFrom}`;
  process.stderr.write(`${name}: asking ${choice.url} (${from})\n`);
}

function isLoopback(url: string): boolean {
  try {
    return ['127.0.0.1', 'localhost', '[::1]'].includes(new URL(url).hostname);
  } catch {
    return false;
  }
}

/**
 * A GET to the service with the key; the answer when it is a 2xx. Otherwise one line and exit 1:
 * the URL and the cause when it cannot be reached, the status and the service's error when it refuses.
 */
export async function askService(command: Pick<Command<never>, 'fail'>, choice: ServiceChoice, path: string): Promise<Response> {
  const url = new URL(path, choice.url);
  const response = await fetch(url, {
    headers: choice.key ? { authorization: `Bearer ${choice.key}` } : {},
    signal: AbortSignal.timeout(serviceTimeoutMs),
  }).catch((error: unknown) => {
    const cause =
      error instanceof Error && error.name === 'TimeoutError' ? `no answer in ${String(serviceTimeoutMs / 1000)} s` : errorMessage(error);
    return command.fail(`cannot reach ${choice.url}: ${cause}${isLoopback(choice.url) ? ' (is npm start running?)' : ''}`);
  });
  if (!response.ok) {
    const text = (await response.text().catch(() => '')).replace(/\s+/g, ' ').trim();
    command.fail(`${choice.url} answered ${String(response.status)}${text ? `: ${text}` : ''}`);
  }
  return response;
}
