import type { MiddlewareObj } from '@middy/core';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import type * as z from 'zod/mini';
import { maxBodyBytes } from '../../../protocol/node.ts';
import { HttpError, type ErrorDetail } from '../http-error.ts';
import type { NodeEvent } from '../node-event.ts';

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** zod's issues as the error shape's details: an unknown field is named in the path, like any other failing field. */
export function issueDetails(issues: readonly z.core.$ZodIssue[], prefix: readonly string[] = []): ErrorDetail[] {
  return issues.flatMap((issue) =>
    (issue.code === 'unrecognized_keys' ? issue.keys.map((key) => [...issue.path, key]) : [issue.path]).map((path) => ({
      path: [...prefix, ...path.map(String)].join('.') || '(body)',
      message: issue.code === 'unrecognized_keys' ? 'unknown field' : issue.message,
    })),
  );
}

/** Strict UTF-8 and JSON, then the zod schema: 400 with the failing fields otherwise. */
export function parseJsonBytes<S extends z.ZodMiniType>(bytes: Buffer, schema: S): z.output<S> {
  let json: unknown;
  try {
    json = JSON.parse(utf8.decode(bytes));
  } catch {
    throw new HttpError(400, 'invalid-json', 'the body must be one JSON object in UTF-8');
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) throw new HttpError(400, 'invalid-body', 'the body does not match the schema', issueDetails(parsed.error.issues));
  return parsed.data;
}

/** Size limit, then `parseJsonBytes`. */
export function parseJsonBody<S extends z.ZodMiniType>(
  event: Pick<APIGatewayProxyEventV2, 'body' | 'isBase64Encoded'>,
  schema: S,
): z.output<S> {
  const bytes = Buffer.from(event.body ?? '', event.isBase64Encoded ? 'base64' : 'utf8');
  if (bytes.length > maxBodyBytes) {
    throw new HttpError(413, 'payload-too-large', `the body is ${bytes.length} bytes; at most ${maxBodyBytes} are accepted`);
  }
  return parseJsonBytes(bytes, schema);
}

/** The parsed body goes on the event as `input`. */
export function jsonBody<S extends z.ZodMiniType>(schema: S): MiddlewareObj<NodeEvent<z.output<S>>> {
  return {
    name: 'jsonBody',
    before: (request) => {
      request.event.input = parseJsonBody(request.event, schema);
    },
  };
}
