import type { StoredEvent } from '../../protocol/events.ts';
import type { WebhookContext } from '../../protocol/webhooks.ts';
import { linksFit } from '../domain/webhook-templates.ts';
import type { IncidentLinks } from './incident-config.ts';
import type { ResellerStore } from './reseller-store.ts';
import type { SiteAdminStore } from './site-admin-store.ts';

/** Where a site's and its customer's names are read: the site listing and the customer item. */
export interface SiteNameSources {
  sites: Pick<SiteAdminStore, 'getListing'>;
  resellers: Pick<ResellerStore, 'getCustomer'>;
}

type Names = Pick<WebhookContext, 'site' | 'customer'>;

/**
 * What the webhook router tells each endpoint of an event's site besides the event: the site and
 * customer by name, and for an incident someone may still act on, its signed one-click links.
 * One per router invocation: a batch's events of one site read its names once. A site or customer
 * no longer stored is named by its id (a deleted site's news is still delivered).
 */
export class WebhookContexts {
  private readonly names = new Map<string, Promise<Names>>();

  constructor(
    private readonly sources: SiteNameSources,
    private readonly links: IncidentLinks,
    private readonly now: () => number,
  ) {}

  async of(event: StoredEvent): Promise<WebhookContext> {
    const { resellerId, siteId, incidentId } = event.data;
    const { site, customer } = await this.namesOf(resellerId, siteId);
    const links =
      linksFit(event) && typeof incidentId === 'string' ? this.links.linksFor(resellerId, siteId, incidentId, this.now()) : null;
    return { site, customer, links };
  }

  private namesOf(resellerId: string, siteId: string): Promise<Names> {
    const key = `${resellerId}/${siteId}`;
    let names = this.names.get(key);
    if (!names) {
      const read = this.read(resellerId, siteId);
      // A failed read is not kept: the next event of the site reads again (its record is retried by SQS).
      read.catch(() => this.names.delete(key));
      this.names.set(key, read);
      names = read;
    }
    return names;
  }

  private async read(resellerId: string, siteId: string): Promise<Names> {
    const listing = await this.sources.sites.getListing(resellerId, siteId);
    const site = { siteId, name: listing?.name ?? siteId };
    if (!listing) return { site, customer: null };
    const customer = await this.sources.resellers.getCustomer(resellerId, listing.customerId);
    return { site, customer: { customerId: listing.customerId, name: customer?.name ?? listing.customerId } };
  }
}
