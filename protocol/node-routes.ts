import type { ApiRoute } from './api-routes.ts';
import { ClaimRequest, ClaimResponse, HeartbeatRequest, HeartbeatResponse, MaintenanceRequest, MaintenanceResponse } from './node.ts';
import './zod-locale.ts';

/**
 * The node protocol's paths below the witness's URL, spelled once: the agent posts to them
 * (agent/io/witness-client.ts, enrollment.ts), the witness routes them (here and
 * protocol/api-routes.ts; the CDK's functionSpecs; local/witness-routes.ts).
 */
export const nodePaths = {
  heartbeat: '/v1/node/heartbeat',
  claim: '/v1/node/claim',
  maintenance: '/v1/node/maintenance',
  /** Served with the reseller API (protocol/api-routes.ts): the enrollment code is the credential, not a node token. */
  enroll: '/v1/node/enroll',
} as const;

/** The route keys (method and path, as API Gateway names them) of the node protocol. */
export const nodeRouteKeys = {
  heartbeat: `POST ${nodePaths.heartbeat}`,
  claim: `POST ${nodePaths.claim}`,
  maintenance: `POST ${nodePaths.maintenance}`,
  enroll: `POST ${nodePaths.enroll}`,
} as const;

/** A node protocol route: a node token is the credential, the body is JSON, the answer a 200. */
export interface NodeRoute extends Omit<ApiRoute, 'access' | 'status'> {
  access: 'node';
  status: 200;
}

/**
 * The node protocol's routes, each served by its own function (local/witness-routes.ts, the CDK's
 * functionSpecs) and described by /openapi.json beside the reseller API's table.
 */
export const nodeRoutes = {
  [nodeRouteKeys.heartbeat]: {
    access: 'node',
    summary: "A node's heartbeat: renews the primary's lease, records the report, delivers commands",
    body: HeartbeatRequest,
    status: 200,
    response: HeartbeatResponse,
  },
  [nodeRouteKeys.claim]: {
    access: 'node',
    summary: 'A node asks to become (or stay) primary',
    body: ClaimRequest,
    status: 200,
    response: ClaimResponse,
  },
  [nodeRouteKeys.maintenance]: {
    access: 'node',
    summary:
      'The agent declares a maintenance window for its site, from now for `minutes`: conditions inside it open no incident and page no one, but stay in the audit trail',
    body: MaintenanceRequest,
    status: 200,
    response: MaintenanceResponse,
  },
} as const satisfies Record<string, NodeRoute>;

export type NodeRouteKey = keyof typeof nodeRoutes;
