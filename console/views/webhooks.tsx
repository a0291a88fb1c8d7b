import { useState } from 'preact/hooks';
import type { DeliveryAttempt, MessageStatus, WebhookEndpoint, WebhookMessage, WebhookTestAccepted } from '../../protocol/webhooks.ts';
import { allPages, api, get, segment, withQuery } from '../api.ts';
import { ActionButton, Ago, ErrorNote, RefreshNote, useAccess, useNow, ViewHeader } from '../components.tsx';
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
    const why = endpoint.disabledReason === 'gone' ? 'the receiver answered 410 Gone' : endpoint.disabledReason === 'failing' ? 'every delivery failed for days' : 'by you';
    return (
      <span class="badge status-down">
        <span class="icon" aria-hidden="true">
          ⊘
        </span>
        Disabled ({why})
      </span>
    );
  }
  if (endpoint.failingSince) {
    return (
      <span class="badge status-degraded">
        <span class="icon" aria-hidden="true">
          ▲
        </span>
        Failing since {dateTime(endpoint.failingSince)}
      </span>
    );
  }
  return (
    <span class="badge status-healthy">
      <span class="icon" aria-hidden="true">
        ●
      </span>
      Enabled
    </span>
  );
}

function EndpointList() {
  const now = useNow();
  const polled = usePoll(() => allPages<WebhookEndpoint>('/v1/webhooks'), 'webhooks');
  const endpoints = polled.data ?? [];
  return (
    <section aria-labelledby="view-title">
      <ViewHeader title="Webhooks">
        <RefreshNote polled={polled} now={now} />
      </ViewHeader>
      <p class="help">
        Endpoints receive the events they ask for, signed as Standard Webhooks says. Register and change them with the API (<code>POST /v1/webhooks</code>
        ); here you see their deliveries, replay failed messages and send a test event.
      </p>
      {polled.data && endpoints.length === 0 && <p class="muted">No webhook endpoint yet.</p>}
      {endpoints.length > 0 && (
        <div class="table-wrap">
          <table>
            <caption>{endpoints.length} endpoints</caption>
            <thead>
              <tr>
                <th scope="col">Endpoint</th>
                <th scope="col">URL</th>
                <th scope="col">Template</th>
                <th scope="col">Events</th>
                <th scope="col">State</th>
              </tr>
            </thead>
            <tbody>
              {endpoints.map((endpoint) => (
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
              ))}
            </tbody>
          </table>
        </div>
      )}
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
  const [done, setDone] = useState<string | null>(null);
  const data = polled.data;
  const path = `/v1/webhooks/${segment(endpointId)}`;

  return (
    <section aria-labelledby="view-title">
      <p class="back">
        <a href={hrefOf({ view: 'webhooks', endpointId: null })}>← All endpoints</a>
      </p>
      <ViewHeader title={`Webhook endpoint ${endpointId}`}>
        <RefreshNote polled={polled} now={now} />
      </ViewHeader>
      {!data && polled.error && <ErrorNote error={polled.error} />}
      <ErrorNote error={error} />
      {done && (
        <p class="done" role="status">
          <span class="icon" aria-hidden="true">
            ✔
          </span>
          {done}
        </p>
      )}
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
                {data.endpoint.secrets.length} (created{' '}
                {data.endpoint.secrets.map((secret) => dateTime(secret.createdAt)).join(' and ')})
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
                    setDone(`Test event sent as message ${sent.messageId}: it shows below, delivered once the receiver answers 2xx.`);
                    polled.refresh();
                  }}
                />
              </div>
            )}
          </section>

          <section class="panel" aria-labelledby="messages-title">
            <h2 id="messages-title">Messages</h2>
            <form
              class="filters"
              onSubmit={(event) => {
                event.preventDefault();
              }}
            >
              <div class="field">
                <label for="message-status">Status</label>
                <select
                  id="message-status"
                  value={status ?? ''}
                  onChange={(event) => {
                    setStatus((event.currentTarget.value as MessageStatus | '') || null);
                  }}
                >
                  <option value="">All</option>
                  <option value="failed">Failed</option>
                  <option value="pending">Pending</option>
                  <option value="delivered">Delivered</option>
                </select>
              </div>
            </form>
            {data.messages.length === 0 ? (
              <p class="muted">No message{status ? ` ${status}` : ''}.</p>
            ) : (
              <div class="table-wrap">
                <table class="messages">
                  <caption>Newest {Math.min(shown, data.messages.length)} messages</caption>
                  <thead>
                    <tr>
                      <th scope="col">Status</th>
                      <th scope="col">Event</th>
                      <th scope="col">Site</th>
                      <th scope="col">Tries</th>
                      <th scope="col">Last answer</th>
                      <th scope="col">Created</th>
                      {canWrite && <th scope="col">Actions</th>}
                    </tr>
                  </thead>
                  <tbody>
                    {data.messages.map((message) => (
                      <tr key={message.messageId} data-message={message.messageId} data-status={message.status}>
                        <td>
                          <span class={`badge message-${message.status}`}>
                            <span class="icon" aria-hidden="true">
                              {messageMarks[message.status]}
                            </span>
                            {messageLabels[message.status]}
                          </span>
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
                                  setDone(`Message ${message.messageId} is sent again, with the same webhook-id.`);
                                  polled.refresh();
                                }}
                              />
                            )}
                          </td>
                        )}
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            )}
          </section>

          <section class="panel" aria-labelledby="attempts-title">
            <h2 id="attempts-title">Delivery log</h2>
            {data.attempts.length === 0 ? (
              <p class="muted">No delivery tried yet.</p>
            ) : (
              <div class="table-wrap">
                <table class="attempts">
                  <caption>Newest {Math.min(shown, data.attempts.length)} tries</caption>
                  <thead>
                    <tr>
                      <th scope="col">When</th>
                      <th scope="col">Message</th>
                      <th scope="col">Try</th>
                      <th scope="col">Answer</th>
                      <th scope="col">Latency</th>
                      <th scope="col">Response</th>
                    </tr>
                  </thead>
                  <tbody>
                    {data.attempts.map((attempt) => (
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
                          {attempt.status === null ? (
                            <span class="flag flag-bad">
                              <span class="icon" aria-hidden="true">
                                ✖
                              </span>
                              no answer
                            </span>
                          ) : (
                            <span class={`flag ${attempt.status < 300 ? 'flag-good' : 'flag-bad'}`}>
                              <span class="icon" aria-hidden="true">
                                {attempt.status < 300 ? '✔' : '✖'}
                              </span>
                              HTTP {attempt.status}
                            </span>
                          )}
                        </td>
                        <td>{attempt.latencyMs} ms</td>
                        <td class="response">{attempt.error ?? (attempt.response || <span class="muted">empty</span>)}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            )}
          </section>
        </>
      )}
    </section>
  );
}
