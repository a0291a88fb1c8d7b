import type { MiddlewareObj } from '@middy/core';
import type * as z from 'zod/mini';
import { maxBodyBytes } from '../../../protocol/node.ts';
import { HttpError } from '../http-error.ts';
import type { NodeEvent } from '../node-event.ts';

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Size limit, strict UTF-8 and JSON, then the zod schema; the parsed value goes on the event. */
export function jsonBody<S extends z.ZodMiniType>(schema: S): MiddlewareObj<NodeEvent<z.output<S>>> {
  return {
    name: 'jsonBody',
    before: (request) => {
      const { body, isBase64Encoded } = request.event;
      const bytes = Buffer.from(body ?? '', isBase64Encoded ? 'base64' : 'utf8');
      if (bytes.length > maxBodyBytes) {
        throw new HttpError(413, 'payload-too-large', `the body is ${bytes.length} bytes; at most ${maxBodyBytes} are accepted`);
      }
      let json: unknown;
      try {
        json = JSON.parse(utf8.decode(bytes));
      } catch {
        throw new HttpError(400, 'invalid-json', 'the body must be one JSON object in UTF-8');
      }
      const parsed = schema.safeParse(json);
      if (!parsed.success) {
        // An unknown field is named in the path, like any other failing field.
        const details = parsed.error.issues.flatMap((issue) =>
          (issue.code === 'unrecognized_keys' ? issue.keys.map((key) => [...issue.path, key]) : [issue.path]).map((path) => ({
            path: path.map(String).join('.') || '(body)',
            message: issue.code === 'unrecognized_keys' ? 'unknown field' : issue.message,
          })),
        );
        throw new HttpError(400, 'invalid-body', 'the body does not match the schema', details);
      }
      request.event.input = parsed.data;
    },
  };
}
