import type { CustomerReportView, CustomerSiteView } from '../../functions/domain/sla-customer-view.ts';

// A customer's SLA report as the view builder would fill it: two sites of a dental practice, one
// with a quiet month, one with a busy one (a timeline longer than a page, a missed target).

const days = ['Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun', 'Mon'];

/** "Wed 9 Dec 14:05"-like local times, `n` steps of about 7 hours from 1 Dec. */
function at(n: number): string {
  const hours = n * 7 + 3;
  const day = 1 + Math.floor(hours / 24);
  const hh = String(hours % 24).padStart(2, '0');
  const mm = String((n * 13) % 60).padStart(2, '0');
  return `${days[(day - 1) % 7]!} ${day} Dec ${hh}:${mm}`;
}

const busyEvents = [
  (n: number) => `Praxis-Server 1 stopped answering; Praxis-Server 2 took over as primary (event ${n}).`,
  (n: number) => `Praxis-Server 1 answered again and now runs as secondary (event ${n}).`,
  (n: number) => `Heartbeat from Praxis-Server 2 late by 41 s; no failover needed (event ${n}).`,
];

export const busyTimeline = Array.from({ length: 70 }, (_, n) => ({ at: at(n), text: busyEvents[n % busyEvents.length]!(n + 1) }));

export const empfang: CustomerSiteView = {
  siteName: 'Empfang & Verwaltung',
  customerName: 'Zahnarztpraxis Müller',
  liveNote: 'Went live Tue 1 Dec 09:12; judged from then.',
  verdicts: [
    { text: 'Availability 99.71 % — target 99.9 % missed', met: false },
    { text: 'Time to acknowledge at most 9 min — target 15 min met', met: true },
  ],
  figures: [
    { label: 'Availability', value: '99.71 %' },
    { label: 'Availability excluding planned maintenance', value: '99.78 %' },
    { label: 'Downtime', value: '2 h 5 min 12 s' },
    { label: 'Planned maintenance', value: '1 h 30 min' },
    { label: 'Failovers', value: '24 (none forced)' },
    { label: 'Incidents', value: '1' },
  ],
  timeline: busyTimeline,
  timelineOmitted: 12,
  incidents: [
    {
      what: 'No primary: Praxis-Server 1 and Praxis-Server 2 both unreachable',
      opened: 'Thu 10 Dec 02:14',
      acknowledged: 'Thu 10 Dec 02:23 by the on-call technician (Jörg Weiß)',
      resolved: 'Thu 10 Dec 04:19',
      timeToAcknowledge: '9 min (target 15 min met)',
    },
  ],
  maintenance: [
    {
      from: 'Sat 12 Dec 20:00',
      to: 'Sat 12 Dec 21:30',
      reason: 'Windows updates and a new UPS battery – planned with the practice',
      declared: 'Fri 11 Dec 16:40 by Anna Schäfer',
    },
  ],
  notes: [
    'Availability is judged from the site going live on 1 Dec 09:12, not from the start of the month.',
    'Costs of the UPS battery (129 €) are billed separately.',
  ],
};

export const labor: CustomerSiteView = {
  siteName: 'Labor <script>alert(1)</script>',
  customerName: 'Zahnarztpraxis Müller',
  liveNote: null,
  verdicts: [
    { text: 'Availability 100 % — target 99.9 % met', met: true },
    { text: 'Time to acknowledge — no incident to judge', met: null },
  ],
  figures: [
    { label: 'Availability', value: '100 %' },
    { label: 'Downtime', value: 'none' },
    { label: 'Planned maintenance', value: 'none' },
  ],
  timeline: [
    { at: 'Tue 1 Dec 00:00', text: 'Labor-PC 1 ran as primary all period; Labor-PC 2 stood by.' },
    { at: 'Mon 14 Dec 08:02', text: 'Labor-PC 2 restarted for updates and was back within 3 min.' },
  ],
  timelineOmitted: 0,
  incidents: [],
  maintenance: [],
  notes: [],
};

export const sampleView: CustomerReportView = {
  title: 'Service report — Zahnarztpraxis Müller',
  resellerName: 'Systemhaus Brandt GmbH',
  customerName: 'Zahnarztpraxis Müller',
  periodLabel: '1 Dec 2026 – 31 Dec 2026 (times in Europe/Berlin)',
  partialNote: 'Measured up to Wed 16 Dec 2026 13:45: the period is not over.',
  generatedAt: 'Wed 16 Dec 2026 13:45 (Europe/Berlin)',
  sites: [empfang, labor],
  howMeasured: [
    'Availability is the share of the period in which one server held the primary role, judged from the moment the site went live. A failover that completes within the lease counts as no downtime.',
    'Planned maintenance is time the reseller declared in advance; downtime inside it is shown but does not count against the availability target.',
    'Time to acknowledge runs from the moment an incident opened until a person confirmed they were working on it.',
  ],
};
