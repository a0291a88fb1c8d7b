import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import * as z from 'zod';
import { Identifier } from '../protocol/ids.ts';
import { defaultTimings, timingProblems, type AgentTimings } from './core/settings.ts';

const Hook = z.strictObject({
  /** argv: the program and its arguments, run without a shell. */
  command: z.array(z.string().min(1)).min(1),
  timeoutMs: z.number().int().positive().default(30_000),
});

const HostPort = z
  .string()
  .regex(/^[^\s:]+:\d{1,5}$/, 'host:port, e.g. 0.0.0.0:7400')
  .refine((v) => {
    const port = Number(v.slice(v.lastIndexOf(':') + 1));
    return port >= 1 && port <= 65_535;
  }, 'the port must be 1 to 65535');

const Timings = z.strictObject({
  peerLeaseMs: z.number().int().positive(),
  peerHelloMs: z.number().int().positive(),
  peerTimeoutMs: z.number().int().positive(),
  driftMarginMs: z.number().int().min(0),
  fenceLeadMs: z.number().int().min(0),
  witnessRetryMs: z.number().int().positive(),
  initialHeartbeatMs: z.number().int().positive(),
  hookRetryMs: z.number().int().positive(),
});

export const AgentConfig = z.strictObject({
  nodeId: Identifier,
  witness: z.strictObject({
    url: z.url(),
    token: z.string().min(10),
    requestTimeoutMs: z.number().int().positive().default(3_000),
  }),
  peer: z.strictObject({
    /** Where this agent listens for its peer. */
    listen: HostPort,
    /** The peer agent's base URL. */
    url: z.url(),
    /** The site's shared peer key, base64, at least 32 bytes. */
    key: z.string().refine((k) => Buffer.from(k, 'base64').length >= 32, 'must be at least 32 bytes, base64'),
  }),
  /** Holds the incarnation counter and the status file. */
  stateDir: z.string().min(1),
  hooks: z.strictObject({
    promote: Hook,
    demote: Hook,
    health: Hook.extend({ intervalMs: z.number().int().positive().default(10_000) }).optional(),
  }),
  timings: Timings.partial()
    .default({})
    .transform((t): AgentTimings => ({ ...defaultTimings, ...t }))
    .superRefine((t, ctx) => {
      for (const message of timingProblems(t)) ctx.addIssue({ code: 'custom', message });
    }),
});
export type AgentConfig = z.infer<typeof AgentConfig>;

/**
 * The config file: the node's credential is its token, or (better: no token in a config file) the
 * enrollment code its reseller gave it, which the agent exchanges once for a token it keeps in its
 * state folder (agent/io/enrollment.ts).
 */
export const AgentFileConfig = AgentConfig.extend({
  witness: AgentConfig.shape.witness
    .extend({
      token: z.string().min(10).optional(),
      enrollmentCode: z
        .string()
        .regex(/^tbe-[0-9a-f]{40}$/, 'an enrollment code: tbe- and 40 hex digits')
        .optional(),
    })
    .refine((w) => (w.token === undefined) !== (w.enrollmentCode === undefined), {
      message: 'set exactly one of token and enrollmentCode',
      path: ['token'],
    }),
});
export type AgentFileConfig = z.infer<typeof AgentFileConfig>;

/** The paths of string values still written as the example's `<…>` placeholders. */
function placeholders(value: unknown, path: string[] = []): string[] {
  if (typeof value === 'string') return /^<.*>$/s.test(value.trim()) ? [path.join('.')] : [];
  if (typeof value !== 'object' || value === null) return [];
  return Object.entries(value).flatMap(([key, inner]) => placeholders(inner, [...path, key]));
}

/**
 * Reads a JSON or YAML config file; a bad field is named in the error, and so is every field
 * still holding the example's `<…>` placeholder (the package installs the example as the config).
 */
export async function loadAgentConfig(file: string): Promise<AgentFileConfig> {
  const text = await readFile(file, 'utf8');
  let raw: unknown;
  try {
    raw = /\.ya?ml$/i.test(file) ? parseYaml(text) : JSON.parse(text);
  } catch (error) {
    throw new Error(`${file}: not valid ${/\.ya?ml$/i.test(file) ? 'YAML' : 'JSON'}: ${(error as Error).message}`, { cause: error });
  }
  const unfilled = placeholders(raw);
  if (unfilled.length > 0) {
    throw new Error(`${file}: not filled in yet: ${unfilled.join(', ')} (still the example's <…>; see the comment above each)`);
  }
  const parsed = AgentFileConfig.safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.') || '(config)'}: ${i.message}`);
    throw new Error(`${file}: invalid agent config: ${problems.join('; ')}`);
  }
  return parsed.data;
}
