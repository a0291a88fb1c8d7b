import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import * as z from 'zod';
import { ErrorBody } from '../../protocol/errors.ts';
import { nodePaths } from '../../protocol/node-routes.ts';
import type { AgentConfig, AgentFileConfig } from '../config.ts';
import { fetchFailureCause } from './fetch-failure.ts';

const Kept = z.object({ token: z.string(), fromCode: z.string() });
const Enrolled = z.object({ nodeId: z.string(), token: z.string(), tokenVersion: z.number() });

export const tokenFile = (stateDir: string): string => join(stateDir, 'node-token.json');

const codeHash = (code: string) => createHash('sha256').update(code).digest('base64url');

async function kept(stateDir: string): Promise<z.infer<typeof Kept> | undefined> {
  try {
    return Kept.parse(JSON.parse(await readFile(tokenFile(stateDir), 'utf8')));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new Error(`${tokenFile(stateDir)} is unreadable: ${(error as Error).message}`, { cause: error });
  }
}

/**
 * The config with the node's token in it. Given a token, that is all. Given an enrollment code:
 * the token this agent got for that code before (kept in the state folder, readable by the agent
 * only), or, for a code it has not used yet (first start, or a new code after a rotation), the
 * token the witness hands out for it at POST /v1/node/enroll — once: the code is then used up.
 * A witness that does not answer, or answers that it cannot now (5xx, 429: a witness still
 * starting says 503 with Retry-After), is asked again, logged, for up to `retryForMs` (a service
 * started at boot waits for its network and its witness); a refusal is final.
 */
export async function withNodeToken(
  config: AgentFileConfig,
  log: (line: Record<string, unknown>) => void = () => undefined,
  retryForMs = Number.POSITIVE_INFINITY,
): Promise<AgentConfig> {
  const { enrollmentCode, token, ...witness } = config.witness;
  if (token !== undefined) return { ...config, witness: { ...witness, token } };
  if (enrollmentCode === undefined) throw new Error('witness: set token or enrollmentCode');

  const previous = await kept(config.stateDir);
  if (previous?.fromCode === codeHash(enrollmentCode)) return { ...config, witness: { ...witness, token: previous.token } };

  const url = new URL(nodePaths.enroll, witness.url);
  const timeoutMs = witness.requestTimeoutMs * 3;
  const started = Date.now();
  for (let attempt = 1; ; attempt++) {
    const answer = await ask(url, timeoutMs, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      // The witness refuses, without using it, a code of another node: using it would revoke that node's token.
      body: JSON.stringify({ code: enrollmentCode, nodeId: config.nodeId }),
    });
    if (answer.kind === 'answered') {
      if (answer.ok) return keepToken(config, witness, enrollmentCode, answer.text, log);
      if (!transient(answer.status)) throw refusal(answer.status, answer.text, config.nodeId);
    }
    const cause = answer.kind === 'answered' ? `answered ${String(answer.status)} ${answer.text.slice(0, 120)}` : answer.cause;
    const waitMs =
      answer.kind === 'answered' && answer.retryAfterMs !== undefined ? answer.retryAfterMs : Math.min(30_000, 1_000 * 2 ** (attempt - 1));
    if (Date.now() - started + waitMs > retryForMs) {
      const tries = `${String(attempt)} ${attempt === 1 ? 'try' : 'tries'}`;
      throw new Error(
        answer.kind === 'answered'
          ? `the witness at ${url.href} could not enroll this node after ${tries}: ${cause}`
          : `cannot reach the witness at ${url.href}: ${cause} (${tries}; check witness.url and this server's network)`,
      );
    }
    log({ event: 'enrollment-retry', attempt, url: url.href, cause, retryInMs: waitMs });
    await sleep(waitMs);
  }
}

type Answer = { kind: 'answered'; ok: boolean; status: number; text: string; retryAfterMs?: number } | { kind: 'no-answer'; cause: string };

/** One request: the answer, or why there was none (refused, unknown host, TLS, timed out). */
async function ask(url: URL, timeoutMs: number, init: RequestInit): Promise<Answer> {
  try {
    const response = await fetch(url, { ...init, signal: AbortSignal.timeout(timeoutMs) });
    const text = await response.text();
    // Delay-seconds only (a date form is not worth trusting across clocks); at most a minute.
    const seconds = Number(response.headers.get('retry-after') ?? Number.NaN);
    const retryAfterMs = Number.isInteger(seconds) && seconds >= 0 ? Math.min(60, seconds) * 1_000 : undefined;
    return { kind: 'answered', ok: response.ok, status: response.status, text, ...(retryAfterMs === undefined ? {} : { retryAfterMs }) };
  } catch (error) {
    return { kind: 'no-answer', cause: fetchFailureCause(error, timeoutMs) };
  }
}

/** Worth asking again: the witness could not answer now, not "no". */
const transient = (status: number) => status >= 500 || status === 429;

/** Checks the witness's answer and keeps the token for the next starts. */
async function keepToken(
  config: AgentFileConfig,
  witness: Omit<AgentFileConfig['witness'], 'enrollmentCode' | 'token'>,
  enrollmentCode: string,
  text: string,
  log: (line: Record<string, unknown>) => void,
): Promise<AgentConfig> {
  const enrolled = Enrolled.parse(JSON.parse(text));
  // The witness checked it; a witness that did not is not one to run with.
  if (enrolled.nodeId !== config.nodeId)
    throw new Error(`the witness enrolled node ${enrolled.nodeId}, but this agent is ${config.nodeId}`);
  await mkdir(config.stateDir, { recursive: true });
  const temporary = `${tokenFile(config.stateDir)}.${process.pid}.tmp`;
  await writeFile(temporary, `${JSON.stringify({ token: enrolled.token, fromCode: codeHash(enrollmentCode) })}\n`, { mode: 0o600 });
  await rename(temporary, tokenFile(config.stateDir));
  log({ event: 'enrolled', tokenVersion: enrolled.tokenVersion, file: tokenFile(config.stateDir) });
  return { ...config, witness: { ...witness, token: enrolled.token } };
}

/** The witness's refusal as the technician reads it: a code of the other node is named as such. */
function refusal(status: number, text: string, nodeId: string): Error {
  let parsed: z.ZodSafeParseResult<ErrorBody> | undefined;
  try {
    parsed = ErrorBody.safeParse(JSON.parse(text));
  } catch {
    // Not JSON (a proxy's page): shown as it is below.
  }
  const error = parsed?.success ? parsed.data.error : undefined;
  if (error?.code === 'wrong-node') {
    return new Error(
      `the enrollment code belongs to the other node, not to this one (${nodeId}); it is still unused: ` +
        `put it in the other server's config, and this server's own code here (the witness: ${error.message})`,
    );
  }
  return new Error(`enrollment refused by the witness (${String(status)}): ${text.slice(0, 300)}`);
}
