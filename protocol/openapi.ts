import * as z from 'zod/mini';
import { createDocument, type ZodOpenApiOperationObject, type ZodOpenApiPathsObject } from 'zod-openapi';
import { type ApiRoute, apiRoutes, PathParam } from './api-routes.ts';
import { ErrorBody } from './errors.ts';
import { webhookExample } from './event-examples.ts';
import { EventType, eventSchemaId, OutboundEvent } from './events.ts';
import { WebhookContext } from './webhooks.ts';
import { nodeRoutes } from './node-routes.ts';
import './zod-locale.ts';

const security = { public: [], admin: [{ adminKey: [] }], read: [{ apiKey: [] }], write: [{ apiKey: [] }], node: [{ nodeToken: [] }] };

// One component, referenced by every error answer, rather than a copy in each.
const ErrorComponent = ErrorBody.meta({ id: 'Error' });

const errors: Record<string, string> = {
  '400': 'Invalid input: the failing fields are in `details`',
  '401': 'No credential, or one that is unknown, revoked or expired',
  '403': 'The credential may not do this (a read-only key writing, the admin key on a reseller route)',
  '404': 'No such record for this caller',
  '409': 'A conflict: the record exists, or (node protocol) a stale request',
  '413': 'The body is over 16 KiB (an inbound hook: 64 KiB)',
  '429': 'Too many requests for this credential: see Retry-After',
};

function operation(key: string, route: Omit<ApiRoute, 'access'> & { access: keyof typeof security }): ZodOpenApiOperationObject {
  const json = (schema: z.ZodMiniType) => ({ 'application/json': { schema } });
  const success =
    route.status === 204
      ? { description: 'Done' }
      : {
          description: 'Success',
          content: {
            ...(route.response ? json(route.response) : {}),
            ...Object.fromEntries((route.alsoProduces ?? []).map((type) => [type, { schema: z.string() }])),
            ...(route.alsoProduces && !route.response ? json(z.looseObject({})) : {}),
          },
        };
  const pathParams = Object.fromEntries((route.params ?? []).map((name) => [name, PathParam]));
  const body = route.body ?? route.rawBody;
  return {
    operationId: key.replace(/[^A-Za-z0-9]+/g, '_').replace(/_$/, ''),
    summary: route.summary,
    security: security[route.access],
    ...(route.params || route.query
      ? {
          requestParams: {
            ...(route.params ? { path: z.object(pathParams) } : {}),
            ...(route.query ? { query: route.query as z.ZodMiniObject } : {}),
          },
        }
      : {}),
    ...(body ? { requestBody: { required: true, content: json(body) } } : {}),
    responses: {
      [String(route.status)]: success,
      ...Object.fromEntries(
        Object.entries({ ...errors, ...route.refusals }).map(([status, description]) => [
          status,
          { description, content: json(ErrorComponent) },
        ]),
      ),
    },
  };
}

/**
 * What an endpoint is sent, by type: the `generic` template's body (the event envelope, and beside
 * it the site, customer and one-click links: WebhookContext; signed as Standard Webhooks says), its
 * schema from protocol/events.ts and protocol/webhooks.ts, and an example.
 */
function webhooks(): ZodOpenApiPathsObject {
  return Object.fromEntries(
    EventType.options.map((type) => {
      const envelope = OutboundEvent.def.options.find((option) => (option.def.shape.type.def.values as readonly string[]).includes(type));
      if (!envelope) throw new Error(`no event schema for ${type}`);
      const schema = z.object({ ...envelope.def.shape, ...WebhookContext.def.shape }).check(
        z.meta({
          id: eventSchemaId(type).replace(/Event$/, 'Webhook'),
          description: `The generic template's body for \`${type}\`: the event envelope (${eventSchemaId(type)}), with the site, customer and links beside it`,
        }),
      );
      const post: ZodOpenApiOperationObject = {
        operationId: `event_${type.replace(/\./g, '_')}`,
        summary: `A \`${type}\` event, POSTed to each endpoint whose eventTypes name it, or (incident.*) that an escalation policy names (the generic template's body)`,
        requestBody: { required: true, content: { 'application/json': { schema, example: webhookExample(type) } } },
        responses: {
          '2XX': { description: 'Received: any 2xx counts as delivered. Other answers are retried; 410 disables the endpoint.' },
        },
      };
      return [type, { post }];
    }),
  );
}

/** The OpenAPI 3.1 document of every route, generated from the schemas the handlers validate with. */
export function openApiDocument(serverUrl?: string): ReturnType<typeof createDocument> {
  const paths: ZodOpenApiPathsObject = {};
  for (const [key, route] of Object.entries({ ...apiRoutes, ...nodeRoutes })) {
    const [method = '', path = ''] = key.split(' ');
    (paths[path] ??= {})[method.toLowerCase() as 'get'] = operation(key, route);
  }
  return createDocument({
    openapi: '3.1.0',
    info: {
      title: 'Tiebreak',
      version: '1',
      description: 'The quorum witness for two-node HA pairs: the node protocol, node enrollment and the reseller API.',
    },
    ...(serverUrl ? { servers: [{ url: serverUrl }] } : {}),
    components: {
      securitySchemes: {
        nodeToken: { type: 'http', scheme: 'bearer', description: 'A node token (tb1.…), from enrollment' },
        apiKey: { type: 'http', scheme: 'bearer', description: "A reseller's API key (tbk.…)" },
        adminKey: { type: 'http', scheme: 'bearer', description: "The operator's admin key" },
      },
    },
    paths,
    webhooks: webhooks(),
  });
}
