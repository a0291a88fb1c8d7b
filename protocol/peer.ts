import * as z from 'zod';
import { Identifier } from './ids.ts';

/**
 * The peer link between the two agents of a site (HTTP + JSON, `POST /v1/peer/hello`). Each side
 * says who it is and what it believes; a primary asks its secondary for a peer lease, and the
 * secondary answers with the lease's length (a duration, never a time: A2).
 */
export const peerPath = '/v1/peer/hello';
/** Header carrying `<unix ms>.<base64url HMAC-SHA256 of "<unix ms>.<body>">` under the site's peer key. */
export const peerAuthHeader = 'x-tiebreak-peer-auth';

export const PeerRole = z.enum(['primary', 'secondary', 'fenced']);
export type PeerRole = z.infer<typeof PeerRole>;

export const PeerHello = z.strictObject({
  nodeId: Identifier,
  incarnation: z.number().int().min(0),
  epoch: z.number().int().min(0),
  role: PeerRole,
  wantLease: z.boolean(),
});
export type PeerHello = z.infer<typeof PeerHello>;

export const PeerReply = z.strictObject({
  nodeId: Identifier,
  incarnation: z.number().int().min(0),
  epoch: z.number().int().min(0),
  role: PeerRole,
  /** Length of the peer lease granted with this reply, or null when none was granted. */
  leaseMs: z.number().int().positive().nullable(),
});
export type PeerReply = z.infer<typeof PeerReply>;
