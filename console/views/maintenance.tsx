import { useState } from 'preact/hooks';
import type { MaintenanceWindow } from '../../protocol/reseller.ts';
import { api, segment } from '../api.ts';
import { ActionButton, ErrorNote, IconText, Input, InputField, useAccess, useBusy } from '../components.tsx';
import { dateTime, duration, fromLocalInput, toLocalInput } from '../format.ts';

type WindowState = 'scheduled' | 'running' | 'ended';

function stateOf(window: MaintenanceWindow, now: number): WindowState {
  if (now < Date.parse(window.start)) return 'scheduled';
  return now < Date.parse(window.end) ? 'running' : 'ended';
}

const stateOrder: Record<WindowState, number> = { running: 0, scheduled: 1, ended: 2 };
const stateMarks: Record<WindowState, string> = { running: '⚒', scheduled: '◷', ended: '✔' };

function author(by: MaintenanceWindow['declaredBy']): string {
  if (by === null) return 'not recorded';
  if (by.kind === 'api-key') return `API key ${by.keyId}`;
  return by.kind === 'node' ? `the agent of ${by.nodeId}` : 'the operator';
}

/**
 * A site's maintenance windows: declared, shortened, ended now or cancelled. The API holds the
 * rules (no window in the past, a started one only shortened): its refusals are shown as it words them.
 */
export function MaintenanceSection({
  siteId,
  windows,
  now,
  onChanged,
}: {
  siteId: string;
  windows: MaintenanceWindow[];
  now: number;
  onChanged: (message: string) => void;
}) {
  const { canWrite } = useAccess();
  const [error, setError] = useState<Error | null>(null);
  const base = `/v1/sites/${segment(siteId)}/maintenance`;
  const sorted = [...windows].sort(
    (a, b) => stateOrder[stateOf(a, now)] - stateOrder[stateOf(b, now)] || Date.parse(b.start) - Date.parse(a.start),
  );
  return (
    <section aria-labelledby="maintenance-title" class="panel">
      <h2 id="maintenance-title">Maintenance windows</h2>
      <p class="help">
        Inside a window, what happens is recorded but opens no incident and pages no one; the SLA report forgives downtime in it.
      </p>
      <ErrorNote error={error} />
      {sorted.length === 0 ? (
        <p class="muted">No maintenance window.</p>
      ) : (
        <ul class="windows">
          {sorted.map((window) => {
            const state = stateOf(window, now);
            return (
              <li key={window.windowId} class={`window window-${state}`} data-window={window.windowId}>
                <p>
                  <IconText class="badge" icon={stateMarks[state]}>
                    {state === 'running' ? 'Running' : state === 'scheduled' ? 'Scheduled' : 'Ended'}
                  </IconText>{' '}
                  <strong>{window.reason}</strong>
                </p>
                <p class="muted">
                  {dateTime(window.start)} to {dateTime(window.end)} ({duration(Date.parse(window.end) - Date.parse(window.start))});
                  declared by {author(window.declaredBy)}
                  {window.changedAt ? `, changed ${dateTime(window.changedAt)} by ${author(window.changedBy)}` : ''}
                </p>
                {canWrite && state !== 'ended' && (
                  <WindowActions
                    window={window}
                    state={state}
                    path={`${base}/${segment(window.windowId)}`}
                    onChanged={onChanged}
                    onError={setError}
                  />
                )}
              </li>
            );
          })}
        </ul>
      )}
      {canWrite && <DeclareWindow path={base} onChanged={onChanged} onError={setError} />}
    </section>
  );
}

function WindowActions({
  window,
  state,
  path,
  onChanged,
  onError,
}: {
  window: MaintenanceWindow;
  state: Exclude<WindowState, 'ended'>;
  path: string;
  onChanged: (message: string) => void;
  onError: (error: Error | null) => void;
}) {
  const [end, setEnd] = useState(toLocalInput(Date.parse(window.end)));
  const id = `end-${window.windowId}`;
  return (
    <div class="inline-form">
      <label for={id}>New end</label>
      <Input id={id} type="datetime-local" value={end} onValue={setEnd} />
      <ActionButton
        label="Change end"
        onError={onError}
        run={async () => {
          const iso = fromLocalInput(end);
          if (iso === null) throw new Error('Give the new end as a date and time.');
          await api('PATCH', path, { end: iso });
          onChanged(`The window “${window.reason}” now ends ${dateTime(iso)}.`);
        }}
      />
      <ActionButton
        label={state === 'running' ? 'End now' : 'Cancel window'}
        onError={onError}
        run={async () => {
          await api('DELETE', path);
          onChanged(state === 'running' ? `The window “${window.reason}” ended now.` : `The window “${window.reason}” is cancelled.`);
        }}
      />
    </div>
  );
}

function DeclareWindow({
  path,
  onChanged,
  onError,
}: {
  path: string;
  onChanged: (message: string) => void;
  onError: (error: Error | null) => void;
}) {
  const soon = Math.ceil(Date.now() / 60_000) * 60_000 + 5 * 60_000;
  const [start, setStart] = useState(toLocalInput(soon));
  const [end, setEnd] = useState(toLocalInput(soon + 3_600_000));
  const [reason, setReason] = useState('');
  const [busy, run] = useBusy(onError);
  const submit = async (event: Event) => {
    event.preventDefault();
    onError(null);
    const from = fromLocalInput(start);
    const to = fromLocalInput(end);
    if (from === null || to === null) {
      onError(new Error('Give the start and the end as dates and times.'));
      return;
    }
    if (!reason.trim()) {
      onError(new Error('Say why: the reason goes into the SLA report.'));
      return;
    }
    await run(async () => {
      await api('POST', path, { start: from, end: to, reason: reason.trim() });
      setReason('');
      onChanged(`Maintenance window declared: ${dateTime(from)} to ${dateTime(to)}.`);
    });
  };
  return (
    <form class="declare" onSubmit={(event) => void submit(event)} aria-labelledby="declare-title">
      <h3 id="declare-title">Declare a window</h3>
      <InputField id="window-start" label="Start (your time)" type="datetime-local" value={start} onValue={setStart} />
      <InputField id="window-end" label="End (your time)" type="datetime-local" value={end} onValue={setEnd} />
      <InputField id="window-reason" label="Reason" wide type="text" maxLength={500} value={reason} onValue={setReason} />
      <button type="submit" class="button primary" disabled={busy}>
        {busy ? 'Declaring…' : 'Declare window'}
      </button>
    </form>
  );
}
