import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { expect, inject } from 'vitest';
import * as z from 'zod';
import { documentClient, localDynamoClientConfig } from '../../functions/adapters/config.ts';
import { RequestCounter } from '../../functions/adapters/request-counter.ts';
import { siteKey } from '../../functions/adapters/site-item.ts';
import { ErrorBody, type ErrorCode } from '../../protocol/errors.ts';
import { ClaimResponse, HeartbeatResponse, type ClaimRequest, type HeartbeatRequest, type Role } from '../../protocol/node.ts';
import { startLocalStack } from '../../local/local-stack.ts';
import type { TestNode, TestWitness } from '../support/witness.ts';

/**
 * Helpers shared by the integration tests (not a test file): a node that numbers its own
 * requests, the failover set-up, a second witness process on the same table, and checks of
 * the error shape.
 */

export type Reply = Awaited<ReturnType<TestWitness['post']>>;
export type Post = TestWitness['post'];

/** The witness's `post`, detached from it. */
export const postOf =
  (witness: TestWitness): Post =>
  (path, token, body) =>
    witness.post(path, token, body);

export const heartbeatPath = '/v1/node/heartbeat';
export const claimPath = '/v1/node/claim';

/** The body of a 200 answer, checked against the protocol's response schema. */
export function okBody<S extends z.core.$ZodType>(reply: Reply, schema: S): z.output<S> {
  expect(reply.status, JSON.stringify(reply.body)).toBe(200);
  return z.parse(schema, reply.body);
}

/** An error answer in DESIGN.md's shape, with the given status and code; returns its body. */
export function expectError(reply: Reply, status: number, code: ErrorCode): ErrorBody['error'] {
  expect(reply.status, JSON.stringify(reply.body)).toBe(status);
  expect(reply.headers.get('content-type')).toMatch(/^application\/json/);
  const body = ErrorBody.strict().parse(reply.body);
  expect(body.error.code).toBe(code);
  expect(body.error.message.length).toBeGreaterThan(0);
  return body.error;
}

/** A node agent reduced to what the tests need: it numbers its requests (incarnation, seq). */
export class Agent {
  seq = 0;

  constructor(
    readonly node: TestNode,
    private readonly post: Post,
    public incarnation = 1,
  ) {}

  get id(): string {
    return this.node.caller.nodeId;
  }

  heartbeatRaw(role: Role, epoch: number, extra: Partial<HeartbeatRequest> = {}): Promise<Reply> {
    return this.post(heartbeatPath, this.node.token, { incarnation: this.incarnation, seq: ++this.seq, epoch, role, ...extra });
  }

  async heartbeat(role: Role, epoch: number, extra: Partial<HeartbeatRequest> = {}): Promise<HeartbeatResponse> {
    return okBody(await this.heartbeatRaw(role, epoch, extra), HeartbeatResponse);
  }

  claimRaw(epoch: number, reason: ClaimRequest['reason'] = 'peer-lost'): Promise<Reply> {
    return this.post(claimPath, this.node.token, { incarnation: this.incarnation, seq: ++this.seq, epoch, reason });
  }

  async claim(epoch: number, reason: ClaimRequest['reason'] = 'peer-lost'): Promise<ClaimResponse> {
    return okBody(await this.claimRaw(epoch, reason), ClaimResponse);
  }
}

export interface Pair {
  key: { resellerId: string; siteId: string };
  a: Agent;
  b: Agent;
}

/** A fresh two-node site whose node-a has just been granted the lease at epoch 1. */
export async function pairWithPrimaryA(witness: TestWitness, post: Post = postOf(witness)): Promise<Pair> {
  const { resellerId, siteId, nodes } = await witness.site();
  const a = new Agent(nodes['node-a']!, post);
  const b = new Agent(nodes['node-b']!, post);
  await a.heartbeat('secondary', 0, { health: { score: 100 } });
  await b.heartbeat('secondary', 0, { health: { score: 100 } });
  expect(await a.claim(0, 'startup')).toEqual({ granted: true, epoch: 1, leaseMs: witness.deps.settings.leaseMs, standalone: null });
  return { key: { resellerId, siteId }, a, b };
}

/**
 * Moves the clock to just past the point where the primary's lease stops counting (expiry plus
 * the skew margin), with both nodes fresh: each reports shortly before, the primary as fenced
 * (A1: its lease ran out), so that its report does not renew the lease.
 */
export async function expireLeaseKeepingBothFresh(witness: TestWitness, pair: Pair): Promise<void> {
  const item = await witness.rawItem(pair.key);
  const leaseExpiresAt = item!.leaseExpiresAt as number;
  const epoch = item!.epoch as number;
  const primary = item!.primary as string;
  witness.clock.ms = Math.max(witness.clock.ms, leaseExpiresAt);
  for (const agent of [pair.a, pair.b]) {
    await agent.heartbeat(agent.id === primary ? 'fenced' : 'secondary', epoch, { health: { score: 100 } });
  }
  witness.clock.ms = leaseExpiresAt + witness.deps.settings.skewMarginMs + 1;
  const after = await witness.rawItem(pair.key);
  expect(after!.leaseExpiresAt).toBe(leaseExpiresAt);
}

/** Sets a node's token version directly in the table, as an operator's revocation would. */
export async function setTokenVersion(
  witness: TestWitness,
  key: { resellerId: string; siteId: string },
  nodeId: string,
  tokenVersion: number,
): Promise<void> {
  const client = new DynamoDBClient(localDynamoClientConfig(inject('dynamoEndpoint')));
  try {
    await documentClient(client).send(
      new UpdateCommand({
        TableName: witness.tableName,
        Key: siteKey(key),
        UpdateExpression: 'SET #nodes.#node.#tokenVersion = :v',
        ExpressionAttributeNames: { '#nodes': 'nodes', '#node': nodeId, '#tokenVersion': 'tokenVersion' },
        ExpressionAttributeValues: { ':v': tokenVersion },
      }),
    );
  } finally {
    client.destroy();
  }
}

export interface WitnessProcess {
  url: string;
  /** Requests sent by this process's own DynamoDB client. */
  requests: RequestCounter;
  post: Post;
  close(): Promise<void>;
}

/**
 * Another witness process (another Lambda instance) on the same table, key, settings and clock:
 * it has its own DynamoDB client and its own memory of recently seen sites, empty at start.
 */
export async function secondProcess(witness: TestWitness): Promise<WitnessProcess> {
  const stack = await startLocalStack({
    clock: witness.clock.now,
    dynamodb: { endpoint: inject('dynamoEndpoint') },
    tableName: witness.tableName,
    tokenKey: witness.deps.tokenKey,
    settings: witness.deps.settings,
  });
  const requests = new RequestCounter().attach(stack.dynamo);
  return {
    url: stack.url,
    requests,
    post: (path, token, body) => postTo(stack.url, path, token, body),
    close: () => stack.stop(),
  };
}

/** What `TestWitness.post` does, against any witness URL; a Buffer body is sent as raw bytes. */
export async function postTo(
  url: string,
  path: string,
  token: string | undefined,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<Reply> {
  const response = await fetch(`${url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers },
    // A Buffer's bytes as they are (the DOM's BodyInit, in the project's types since the console, wants an ArrayBuffer-backed view).
    body: typeof body === 'string' ? body : body instanceof Uint8Array ? new Uint8Array(body) : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: text ? (JSON.parse(text) as unknown) : undefined, headers: response.headers };
}
