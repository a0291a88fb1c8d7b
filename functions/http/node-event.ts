import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import type { Caller } from '../domain/decision.ts';

/** An HTTP API (payload v2) event after the node middlewares: who is calling, and what they sent. */
export type NodeEvent<B> = APIGatewayProxyEventV2 & { caller: Caller; input: B };
