import { useState } from 'preact/hooks';
import type { WitnessEvent } from '../../protocol/events.ts';
import type { EnrollmentCode, MaintenanceWindow, SiteStatus } from '../../protocol/reseller.ts';
import { allPages, api, get, segment, withQuery } from '../api.ts';
import {
  ActionButton,
  Ago,
  BackLink,
  ConfirmDialog,
  DataTable,
  DoneNote,
  ErrorNote,
  Flag,
  IconText,
  Input,
  SeverityBadge,
  useAccess,
  useDone,
  useNow,
  ViewHeader,
} from '../components.tsx';
import { dateTime } from '../format.ts';
import { usePoll } from '../poll.ts';
import { hrefOf } from '../route.ts';
import { timeline } from '../timeline.ts';
import { MaintenanceSection } from './maintenance.tsx';

/** The timeline shows this far back. */
const timelineDays = 7;

interface SiteData {
  site: SiteStatus;
  windows: MaintenanceWindow[];
  events: WitnessEvent[];
}

async function loadSite(siteId: string): Promise<SiteData> {
  const path = `/v1/sites/${segment(siteId)}`;
  const since = new Date(Date.now() - timelineDays * 86_400_000).toISOString();
  const [site, windows, events] = await Promise.all([
    get<SiteStatus>(path),
    allPages<MaintenanceWindow>(`${path}/maintenance`, { maxPages: 5 }),
    allPages<WitnessEvent>(withQuery(`${path}/events`, { from: since }), { maxPages: 10 }),
  ]);
  return { site, windows, events };
}

type Dialog = { kind: 'revoke'; nodeId: string } | { kind: 'force'; nodeId: string; survivor: string } | null;

/** One site: its witness state, nodes, survivor mode, enrollment, maintenance windows and timeline. */
export function SiteView({ siteId }: { siteId: string }) {
  const now = useNow();
  const { canWrite } = useAccess();
  const polled = usePoll(() => loadSite(siteId), `site:${siteId}`);
  const [actionError, setActionError] = useState<Error | null>(null);
  const [code, setCode] = useState<EnrollmentCode | null>(null);
  const [dialog, setDialog] = useState<Dialog>(null);
  const data = polled.data;
  const site = data?.site;
  const base = `/v1/sites/${segment(siteId)}`;
  const { done, setDone, after } = useDone(polled);

  return (
    <section aria-labelledby="view-title">
      <BackLink href={hrefOf({ view: 'sites', customerId: null, status: null })}>All sites</BackLink>
      <ViewHeader title={site ? site.name : siteId} polled={polled} now={now}>
        {site && (
          <p class="muted">
            Site <code>{site.siteId}</code> of customer <code>{site.customerId}</code>, created {dateTime(site.createdAt)}
          </p>
        )}
      </ViewHeader>
      {!data && polled.error && <ErrorNote error={polled.error} />}
      <ErrorNote error={actionError} />
      <DoneNote message={done} />

      {site && (
        <>
          <section aria-labelledby="witness-title" class="panel">
            <h2 id="witness-title">Witness</h2>
            <dl class="facts">
              <dt>Primary</dt>
              <dd>{site.primary ?? <span class="muted">none</span>}</dd>
              <dt>Epoch</dt>
              <dd>{site.epoch}</dd>
              <dt>Lease</dt>
              <dd>
                {site.primary === null
                  ? 'no lease'
                  : site.leaseExpiresAt === null
                    ? 'standalone: no end while the other node is excluded'
                    : Date.parse(site.leaseExpiresAt) > now
                      ? `ends ${dateTime(site.leaseExpiresAt)} unless renewed`
                      : `ran out ${dateTime(site.leaseExpiresAt)}, not renewed`}
              </dd>
              <dt>Tie-break policy</dt>
              <dd>
                {site.policy.tieBreak}
                {site.policy.preferredNode ? ` (${site.policy.preferredNode} preferred)` : ''}, health threshold{' '}
                {site.policy.healthThreshold}
              </dd>
            </dl>
          </section>

          {site.survivor && (
            <section aria-labelledby="survivor-title" class="panel warning">
              <h2 id="survivor-title">
                <span class="icon" aria-hidden="true">
                  ◐
                </span>{' '}
                Survivor mode
              </h2>
              <p>
                Since {dateTime(site.survivor.since)}, <strong>{site.survivor.node}</strong> runs alone on a standalone lease, and{' '}
                <strong>{site.survivor.excludedNode}</strong> is excluded (last heard{' '}
                {site.survivor.excludedLastSeenAt ? dateTime(site.survivor.excludedLastSeenAt) : 'never'}). It ends by itself when{' '}
                {site.survivor.node} hears {site.survivor.excludedNode} again.
              </p>
              {site.survivor.ending && (
                <p>
                  Readmission asked {dateTime(site.survivor.ending.requestedAt)} by {site.survivor.ending.by}: waiting for{' '}
                  {site.survivor.node} to acknowledge.
                </p>
              )}
              <SurvivorActions
                survivor={site.survivor.node}
                excluded={site.survivor.excludedNode}
                onReadmit={async () => {
                  await api('POST', `${base}/nodes/${segment(site.survivor?.excludedNode ?? '')}/readmit`);
                  after(`Readmission asked: ${site.survivor?.node ?? 'the survivor'} is told to end its standalone lease.`);
                }}
                onForce={() => {
                  if (site.survivor) setDialog({ kind: 'force', nodeId: site.survivor.excludedNode, survivor: site.survivor.node });
                }}
                onError={setActionError}
              />
            </section>
          )}

          <section aria-labelledby="nodes-title" class="panel">
            <h2 id="nodes-title">Nodes</h2>
            <DataTable
              class="node-table"
              columns={['Node', 'Role', 'Last heard', 'Health', 'Peer link', 'Enrolled', 'Token version', canWrite && 'Actions']}
              rows={site.nodes}
              row={(node) => (
                <tr key={node.nodeId} data-node={node.nodeId}>
                  <th scope="row">{node.nodeId}</th>
                  <td>
                    {node.excluded ? (
                      <IconText class="badge status-survivor" icon="⊘">
                        excluded
                      </IconText>
                    ) : (
                      (node.role ?? <span class="muted">not heard yet</span>)
                    )}
                  </td>
                  <td>
                    <Ago at={node.lastSeenAt} now={now} />
                  </td>
                  <td>{node.health ?? <span class="muted">not reported</span>}</td>
                  <td>
                    <Flag value={node.peerReachable} yes="reaches its peer" no="cannot reach its peer" />
                  </td>
                  <td>
                    <Flag value={node.enrolled} yes="yes" no="no" />
                  </td>
                  <td>{node.tokenVersion}</td>
                  {canWrite && (
                    <NodeActions
                      nodeId={node.nodeId}
                      onCode={async () => {
                        setCode(await api<EnrollmentCode>('POST', `${base}/nodes/${segment(node.nodeId)}/enrollment`));
                        setDone(null);
                      }}
                      onRevoke={() => {
                        setDialog({ kind: 'revoke', nodeId: node.nodeId });
                      }}
                      onError={setActionError}
                    />
                  )}
                </tr>
              )}
            />
            {code && (
              <div class="code-box" role="status">
                <p>
                  New enrollment code for <strong>{code.nodeId}</strong> (token version {code.tokenVersion}), shown only now; single use,
                  valid until {dateTime(code.expiresAt)}. Put it in {code.nodeId}'s agent configuration as{' '}
                  <code>witness.enrollmentCode</code>: once used, the node's older tokens stop working.
                </p>
                <output class="secret" aria-label={`Enrollment code for ${code.nodeId}`}>
                  {code.code}
                </output>
                <button
                  type="button"
                  class="button secondary"
                  onClick={() => {
                    setCode(null);
                  }}
                >
                  Hide the code
                </button>
              </div>
            )}
          </section>

          <MaintenanceSection siteId={siteId} windows={data.windows} now={now} onChanged={after} />

          <section aria-labelledby="timeline-title" class="panel">
            <h2 id="timeline-title">Timeline (last {timelineDays} days)</h2>
            <Timeline events={data.events} />
          </section>
        </>
      )}

      {dialog?.kind === 'revoke' && (
        <ConfirmDialog
          title={`Revoke ${dialog.nodeId}'s token?`}
          confirmLabel={`Revoke ${dialog.nodeId}'s token`}
          danger
          onClose={() => {
            setDialog(null);
          }}
          onConfirm={async () => {
            await api('POST', `${base}/nodes/${segment(dialog.nodeId)}/revoke`);
            after(`${dialog.nodeId}'s token is revoked: the witness refuses it from now on. A new enrollment code lets the node back.`);
          }}
        >
          <p>
            The witness refuses {dialog.nodeId}'s heartbeats and claims at once. If it is the primary, it stops renewing its lease and the
            other node takes over when the lease runs out. A new enrollment code lets it back.
          </p>
        </ConfirmDialog>
      )}
      {dialog?.kind === 'force' && (
        <ForcePrimaryDialog
          nodeId={dialog.nodeId}
          survivor={dialog.survivor}
          onClose={() => {
            setDialog(null);
          }}
          onForce={async (confirm, reason) => {
            await api('POST', `${base}/nodes/${segment(dialog.nodeId)}/force-primary`, { confirm, reason });
            after(
              `${dialog.nodeId} is primary: it promotes at its agent's next claim; ${dialog.survivor} is told to demote if it is ever heard again.`,
            );
          }}
        />
      )}
    </section>
  );
}

function NodeActions({
  nodeId,
  onCode,
  onRevoke,
  onError,
}: {
  nodeId: string;
  onCode: () => Promise<void>;
  onRevoke: () => void;
  onError: (error: Error | null) => void;
}) {
  return (
    <td class="actions">
      <ActionButton label="New enrollment code" run={onCode} onError={onError} />
      <button type="button" class="button danger" onClick={onRevoke} aria-label={`Revoke ${nodeId}'s token`}>
        Revoke token…
      </button>
    </td>
  );
}

function SurvivorActions({
  survivor,
  excluded,
  onReadmit,
  onForce,
  onError,
}: {
  survivor: string;
  excluded: string;
  onReadmit: () => Promise<void>;
  onForce: () => void;
  onError: (error: Error | null) => void;
}) {
  if (!useAccess().canWrite) return null;
  return (
    <div class="actions">
      <ActionButton label={`Readmit ${excluded}`} run={onReadmit} onError={onError} />
      <button type="button" class="button danger" onClick={onForce}>
        Force {excluded} primary…
      </button>
      <p class="help">
        Readmit when the two servers cannot hear each other but {excluded} should be back in the vote. Force only if {survivor} is powered
        off: checked on site.
      </p>
    </div>
  );
}

/** The survivor-mode override: the operator must name the survivor as powered off, word for word. */
function ForcePrimaryDialog({
  nodeId,
  survivor,
  onClose,
  onForce,
}: {
  nodeId: string;
  survivor: string;
  onClose: () => void;
  onForce: (confirm: string, reason: string) => Promise<void>;
}) {
  const sentence = `${survivor} is powered off`;
  const [typed, setTyped] = useState('');
  const [reason, setReason] = useState('');
  return (
    <ConfirmDialog
      title={`Force ${nodeId} to primary`}
      confirmLabel={`Force ${nodeId} primary`}
      danger
      ready={typed === sentence && reason.trim() !== ''}
      onClose={onClose}
      onConfirm={() => onForce(typed, reason.trim())}
    >
      <p class="warning-text">
        <strong>Danger: if {survivor} is still running</strong> (for example cut off from the internet, which looks exactly like dead from
        here), both servers run your workloads at once and your data may diverge. Check on site that {survivor} is powered off or unplugged
        first.
      </p>
      <label for="force-confirm">Type “{sentence}” to confirm</label>
      <Input id="force-confirm" type="text" autoComplete="off" spellcheck={false} value={typed} onValue={setTyped} />
      <label for="force-reason">Reason (recorded with your key)</label>
      <textarea
        id="force-reason"
        rows={2}
        maxLength={500}
        value={reason}
        onInput={(event) => {
          setReason(event.currentTarget.value);
        }}
      />
    </ConfirmDialog>
  );
}

function Timeline({ events }: { events: WitnessEvent[] }) {
  if (events.length === 0) return <p class="muted">Nothing happened in this time.</p>;
  const entries = timeline(events);
  return (
    <ol class="timeline">
      {entries.map((entry) => (
        <li key={entry.id} class={`severity-${entry.severity}`}>
          <time dateTime={new Date(entry.at).toISOString()}>{dateTime(entry.at)}</time>
          <SeverityBadge severity={entry.severity} />
          <span class="what">{entry.text}</span>
        </li>
      ))}
    </ol>
  );
}
