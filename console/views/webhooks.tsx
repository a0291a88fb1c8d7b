import { useState } from 'preact/hooks';
import type { DeliveryAttempt, MessageStatus, WebhookEndpoint, WebhookMessage, WebhookTestAccepted } from '../../protocol/webhooks.ts';
import { allPages, api, get, segment, withQuery } from '../api.ts';
import {
  ActionButton,
  Ago,
  BackLink,
  DataTable,
  DoneNote,
  ErrorNote,
  Filters,
  IconText,
  SelectField,
  useAccess,
  useDone,
  useNow,
  ViewHeader,
} from '../components.tsx';
import { dateTime } from '../format.ts';
import { usePoll } from '../poll.ts';
import { hrefOf } from '../route.ts';

/** The newest this many messages and delivery log lines are shown. */
const shown = 50;

const messageMarks: Record<MessageStatus, string> = { delivered: '✔', pending: '◷', failed: '✖' };
const messageLabels: Record<MessageStatus, string> = { delivered: 'Delivered', pending: 'Pending', failed: 'Failed' };

export function WebhooksView({ endpointId }: { endpointId: string | null }) {
  return endpointId === null ? <EndpointList /> : <EndpointView endpointId={endpointId} />;
}

function EndpointState({ endpoint }: { endpoint: WebhookEndpoint }) {
  if (!endpoint.enabled) {
    const why =
      endpoint.disabledReason === 'gone'
        ? 'the receiver answered 410 Gone'
        : endpoint.disabledReason === 'failing'
          ? 'every delivery failed for days'
          : 'by you';
    return (
      <IconText class="badge status-down" icon="⊘">
        Disabled ({why})
      </IconText>
    );
  }
  if (endpoint.failingSince) {
    return (
      <IconText class="badge status-degraded" icon="▲">
        Failing since {dateTime(endpoint.failingSince)}
      </IconText>
    );
  }
  return (
    <IconText class="badge status-healthy" icon="●">
      Enabled
    </IconText>
  );
}

function EndpointList() {
  const now = useNow();
  const polled = usePoll(() => allPages<WebhookEndpoint>('/v1/webhooks'), 'webhooks');
  return (
    <section aria-labelledby="view-title">
      <ViewHeader title="Webhooks" polled={polled} now={now} />
      <p class="help">
        Endpoints receive the events they ask for, signed as Standard Webhooks says. Register and change them with the API (
        <code>POST /v1/webhooks</code>
        ); here you see their deliveries, replay failed messages and send a test event.
      </p>
      <DataTable
        caption={`${polled.data?.length ?? 0} endpoints`}
        columns={['Endpoint', 'URL', 'Template', 'Events', 'State']}
        rows={polled.data}
        empty="No webhook endpoint yet."
        row={(endpoint) => (
          <tr key={endpoint.endpointId} data-endpoint={endpoint.endpointId}>
            <th scope="row">
              <a href={hrefOf({ view: 'webhooks', endpointId: endpoint.endpointId })}>{endpoint.endpointId}</a>
              {endpoint.description && <div class="muted small">{endpoint.description}</div>}
            </th>
            <td class="url">{endpoint.url}</td>
            <td>{endpoint.template}</td>
            <td>{endpoint.eventTypes.length === 0 ? <span class="muted">incident steps only</span> : endpoint.eventTypes.join(', ')}</td>
            <td>
              <EndpointState endpoint={endpoint} />
            </td>
          </tr>
        )}
      />
    </section>
  );
}

interface EndpointData {
  endpoint: WebhookEndpoint;
  messages: WebhookMessage[];
  attempts: DeliveryAttempt[];
}

async function loadEndpoint(endpointId: string, status: MessageStatus | null): Promise<EndpointData> {
  const path = `/v1/webhooks/${segment(endpointId)}`;
  const [endpoint, messages, attempts] = await Promise.all([
    get<WebhookEndpoint>(path),
    get<{ items: WebhookMessage[] }>(withQuery(`${path}/messages`, { limit: String(shown), status })),
    get<{ items: DeliveryAttempt[] }>(withQuery(`${path}/attempts`, { limit: String(shown) })),
  ]);
  return { endpoint, messages: messages.items, attempts: attempts.items };
}

function EndpointView({ endpointId }: { endpointId: string }) {
  const now = useNow();
  const { canWrite } = useAccess();
  const [status, setStatus] = useState<MessageStatus | null>(null);
  const polled = usePoll(() => loadEndpoint(endpointId, status), `webhook:${endpointId}:${status ?? 'all'}`);
  const [error, setError] = useState<Error | null>(null);
  const { done, after } = useDone(polled);
  const data = polled.data;
  const path = `/v1/webhooks/${segment(endpointId)}`;

  return (
    <section aria-labelledby="view-title">
      <BackLink href={hrefOf({ view: 'webhooks', endpointId: null })}>All endpoints</BackLink>
      <ViewHeader title={`Webhook endpoint ${endpointId}`} polled={polled} now={now} />
      {!data && polled.error && <ErrorNote error={polled.error} />}
      <ErrorNote error={error} />
      <DoneNote message={done} />
      {data && (
        <>
          <section class="panel" aria-labelledby="endpoint-title">
            <h2 id="endpoint-title">Endpoint</h2>
            <dl class="facts">
              <dt>URL</dt>
              <dd class="url">{data.endpoint.url}</dd>
              <dt>State</dt>
              <dd>
                <EndpointState endpoint={data.endpoint} />
              </dd>
              <dt>Template</dt>
              <dd>{data.endpoint.template}</dd>
              <dt>Events</dt>
              <dd>{data.endpoint.eventTypes.length === 0 ? 'incident steps only' : data.endpoint.eventTypes.join(', ')}</dd>
              <dt>Signing secrets</dt>
              <dd>
                {data.endpoint.secrets.length} (created {data.endpoint.secrets.map((secret) => dateTime(secret.createdAt)).join(' and ')})
              </dd>
            </dl>
            {canWrite && (
              <div class="actions">
                <ActionButton
                  label="Send a test event"
                  busyLabel="Sending…"
                  kind="primary"
                  onError={setError}
                  run={async () => {
                    const sent = await api<WebhookTestAccepted>('POST', `${path}/test`);
                    after(`Test event sent as message ${sent.messageId}: it shows below, delivered once the receiver answers 2xx.`);
                  }}
                />
              </div>
            )}
          </section>

          <section class="panel" aria-labelledby="messages-title">
            <h2 id="messages-title">Messages</h2>
            <Filters>
              <SelectField
                id="message-status"
                label="Status"
                value={status ?? ''}
                onValue={(value) => {
                  setStatus((value as MessageStatus | '') || null);
                }}
              >
                <option value="">All</option>
                <option value="failed">Failed</option>
                <option value="pending">Pending</option>
                <option value="delivered">Delivered</option>
              </SelectField>
            </Filters>
            <DataTable
              class="messages"
              caption={`Newest ${Math.min(shown, data.messages.length)} messages`}
              columns={['Status', 'Event', 'Site', 'Tries', 'Last answer', 'Created', canWrite && 'Actions']}
              rows={data.messages}
              empty={`No message${status ? ` ${status}` : ''}.`}
              row={(message) => (
                <tr key={message.messageId} data-message={message.messageId} data-status={message.status}>
                  <td>
                    <IconText class={`badge message-${message.status}`} icon={messageMarks[message.status]}>
                      {messageLabels[message.status]}
                    </IconText>
                    {message.failure && <div class="small">{message.failure}</div>}
                    {message.nextAttemptAt && <div class="small">next try {dateTime(message.nextAttemptAt)}</div>}
                  </td>
                  <th scope="row">
                    {message.eventType}
                    <div class="muted small">{message.messageId}</div>
                  </th>
                  <td>{message.siteId ?? <span class="muted">none (a test)</span>}</td>
                  <td>
                    {message.attempts}
                    {message.round > 1 ? ` (round ${message.round})` : ''}
                  </td>
                  <td>{message.lastStatus === null ? <span class="muted">none</span> : `HTTP ${message.lastStatus}`}</td>
                  <td>
                    <Ago at={message.createdAt} now={now} />
                  </td>
                  {canWrite && (
                    <td class="actions">
                      {message.status !== 'pending' && (
                        <ActionButton
                          label="Replay"
                          name={`Replay message ${message.messageId}`}
                          onError={setError}
                          run={async () => {
                            await api('POST', `${path}/messages/${segment(message.messageId)}/replay`);
                            after(`Message ${message.messageId} is sent again, with the same webhook-id.`);
                          }}
                        />
                      )}
                    </td>
                  )}
                </tr>
              )}
            />
          </section>

          <section class="panel" aria-labelledby="attempts-title">
            <h2 id="attempts-title">Delivery log</h2>
            <DataTable
              class="attempts"
              caption={`Newest ${Math.min(shown, data.attempts.length)} tries`}
              columns={['When', 'Message', 'Try', 'Answer', 'Latency', 'Response']}
              rows={data.attempts}
              empty="No delivery tried yet."
              row={(attempt) => {
                const answered = attempt.status !== null && attempt.status < 300;
                return (
                  <tr key={`${attempt.messageId}/${attempt.round}/${attempt.attempt}`}>
                    <td>{dateTime(attempt.at)}</td>
                    <th scope="row" class="small">
                      {attempt.messageId}
                    </th>
                    <td>
                      {attempt.attempt}
                      {attempt.round > 1 ? ` (round ${attempt.round})` : ''}
                    </td>
                    <td>
                      <IconText class={`flag ${answered ? 'flag-good' : 'flag-bad'}`} icon={answered ? '✔' : '✖'}>
                        {attempt.status === null ? 'no answer' : `HTTP ${attempt.status}`}
                      </IconText>
                    </td>
                    <td>{attempt.latencyMs} ms</td>
                    <td class="response">{attempt.error ?? (attempt.response || <span class="muted">empty</span>)}</td>
                  </tr>
                );
              }}
            />
          </section>
        </>
      )}
    </section>
  );
}
