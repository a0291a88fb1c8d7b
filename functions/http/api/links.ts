import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import type { Incident } from '../../../protocol/incidents.ts';
import { incidentView } from '../../adapters/incident-store.ts';
import { type IncidentLink, verifyIncidentLink } from '../../adapters/incident-links.ts';
import { logger } from '../../adapters/logger.ts';
import { escapeHtml } from '../../domain/html-escape.ts';
import { HttpError } from '../http-error.ts';
import { type AnyCall, type ApiImplementations, notFound, param } from './call.ts';
import { actOnIncident } from './incidents.ts';
import type { ApiDeps } from '../../adapters/api-config.ts';

/** One-click links: signed with a key derived from the token key, acting on incidents. */
export type LinkRouteDeps = Pick<ApiDeps, 'incidents' | 'tokenKey'>;

// One-click links (functions/adapters/incident-links.ts): the signed token in the path is the
// credential. Mail scanners and link previews fetch every link in a message, so GET only shows
// what the link would do; the page's button POSTs to the same URL, and that acts. Refusals keep
// the API's JSON error shape: a 401 for a forged or expired link, before anything is read.

function linkOf(call: AnyCall<LinkRouteDeps>): IncidentLink {
  const verdict = verifyIncidentLink(call.deps.tokenKey, param(call, 'token'), call.now);
  if (verdict.ok) return verdict.link;
  throw new HttpError(401, 'unauthorized', verdict.reason === 'expired' ? 'this link has expired' : 'this link is not valid');
}

/** A small page: no script, no outside resource, never framed, never cached, and no referrer (the URL is the credential). */
function page(title: string, paragraphs: string[], button?: string): APIGatewayProxyStructuredResultV2 {
  const body = [
    '<!doctype html>',
    '<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">',
    `<meta name="robots" content="noindex"><title>${escapeHtml(title)}</title>`,
    '<style>body{font:16px/1.5 system-ui,sans-serif;max-width:34rem;margin:2rem auto;padding:0 1rem}button{font:inherit;padding:.5rem 1.25rem}</style>',
    `</head><body><h1>${escapeHtml(title)}</h1>`,
    ...paragraphs.map((p) => `<p>${escapeHtml(p)}</p>`),
    ...(button ? [`<form method="post"><button type="submit">${escapeHtml(button)}</button></form>`] : []),
    '</body></html>',
  ].join('\n');
  return {
    statusCode: 200,
    headers: {
      'content-type': 'text/html; charset=utf-8',
      'cache-control': 'no-store',
      'content-security-policy':
        "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
      'referrer-policy': 'no-referrer',
      'x-content-type-options': 'nosniff',
    },
    body,
  };
}

const summaryOf = (incident: Incident) => [
  `${incident.kind} at site ${incident.siteId} (${incident.affected.join(', ') || 'no subject'}), opened ${incident.openedAt}.`,
  `It is ${incident.state}${incident.acknowledgedBy && incident.state === 'acknowledged' ? ` (by ${incident.acknowledgedBy})` : ''}.`,
];

const verb = { acknowledge: 'Acknowledge', resolve: 'Resolve' } as const;

export const linkRoutes = {
  'GET /v1/links/{token}': async (call) => {
    const link = linkOf(call);
    const tracker = await call.deps.incidents.getByIncidentId(link.resellerId, link.siteId, link.incidentId);
    const incident = tracker?.incident?.incidentId === link.incidentId ? incidentView(tracker) : undefined;
    if (!incident) throw notFound('the incident');
    const title = `${verb[link.action]} incident ${incident.incidentId}`;
    const done = incident.state === 'resolved' || (link.action === 'acknowledge' && incident.state === 'acknowledged');
    if (done) return page(title, [...summaryOf(incident), 'Nothing is left to do.']);
    return page(title, [...summaryOf(incident), `${verb[link.action]} it?`], verb[link.action]);
  },

  'POST /v1/links/{token}': async (call) => {
    const link = linkOf(call);
    const incident = await actOnIncident(call.deps, link, link.action, 'link', call.now);
    logger.info('incident link used', {
      resellerId: link.resellerId,
      siteId: link.siteId,
      incidentId: link.incidentId,
      action: link.action,
    });
    return page(`Incident ${incident.incidentId} ${incident.state}`, summaryOf(incident));
  },
} satisfies Partial<ApiImplementations<LinkRouteDeps>>;
