// The SLA report as a customer reads it: every text already in words and local times, so that
// the HTML and the PDF renderings only lay it out. No internal ids (sites, nodes by the names the
// reseller gave them; event ids stay in the JSON and CSV).

export interface CustomerReportView {
  /** "Service report — Acme Dental" (or the reseller's name when no one customer is chosen). */
  title: string;
  resellerName: string;
  /** Null when the report covers all the reseller's customers. */
  customerName: string | null;
  /** "1 Dec 2026 – 31 Dec 2026 (times in Europe/Berlin)". */
  periodLabel: string;
  /** Set when the period is not over: "Measured up to Sun 6 Dec 2026 13:45: the period is not over." */
  partialNote: string | null;
  /** "Sun 6 Dec 2026 13:45 (Europe/Berlin)". */
  generatedAt: string;
  sites: CustomerSiteView[];
  /** How each figure is computed, in a few short paragraphs. */
  howMeasured: string[];
}

export interface Verdict {
  /** "Availability 99.95 % — target 99.9 % met". */
  text: string;
  /** Null when there is nothing to judge yet (not yet live, no incident). */
  met: boolean | null;
}

export interface CustomerSiteView {
  siteName: string;
  customerName: string;
  /** "Went live Tue 3 Dec 09:12; judged from then." / "Not yet live: no server has run as primary yet." */
  liveNote: string | null;
  verdicts: Verdict[];
  /** Short label/value pairs: "Downtime" → "3 min 5 s", "Planned maintenance" → "1 h", … */
  figures: { label: string; value: string }[];
  /** What happened, oldest first, in plain words. */
  timeline: { at: string; text: string }[];
  /** Events of the period left out of `timeline` (it keeps the first ones); 0 when none. */
  timelineOmitted: number;
  incidents: {
    what: string;
    opened: string;
    acknowledged: string;
    resolved: string;
    /** "4 min (target 15 min met)". */
    timeToAcknowledge: string;
  }[];
  maintenance: { from: string; to: string; reason: string; declared: string }[];
  notes: string[];
}
