import type { ComponentChildren } from 'preact';
import { createContext } from 'preact';
import { useContext, useEffect, useRef, useState } from 'preact/hooks';
import type { Severity } from '../protocol/events.ts';
import { asError } from './api.ts';
import { type SiteState, statusLabels } from './fleet.ts';
import { dateTime, relative } from './format.ts';
import type { Polled } from './poll.ts';

/** What the signed-in key may do: a read-only key sees no action at all. */
export interface Access {
  canWrite: boolean;
}
export const AccessContext = createContext<Access>({ canWrite: false });
export const useAccess = (): Access => useContext(AccessContext);

/** The reader's clock, ticking every `everyMs`: relative times ("12 s ago") stay true between refreshes. */
export function useNow(everyMs = 5_000): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const timer = setInterval(() => {
      setNow(Date.now());
    }, everyMs);
    return () => {
      clearInterval(timer);
    };
  }, [everyMs]);
  return now;
}

/** A word (or a few) after its mark: the mark is for the eye only, the words say it all. */
export function IconText({
  class: className,
  icon,
  title,
  children,
}: {
  class: string;
  icon: string;
  title?: string;
  children: ComponentChildren;
}) {
  return (
    <span class={className} title={title}>
      <span class="icon" aria-hidden="true">
        {icon}
      </span>
      {children}
    </span>
  );
}

/** A site's status: an icon of its own shape and the word, the colour only a third cue. */
export function StatusBadge({ status }: { status: SiteState }) {
  // A status this console does not know yet (a newer service) still shows, as its word.
  const { label, icon, meaning } = Object.hasOwn(statusLabels, status)
    ? statusLabels[status]
    : { label: status, icon: '?', meaning: 'a status this console does not know' };
  return (
    <IconText class={`badge status-${status}`} icon={icon} title={meaning}>
      {label}
    </IconText>
  );
}

const severityLabels: Record<Severity, { label: string; icon: string }> = {
  critical: { label: 'Critical', icon: '✖' },
  warning: { label: 'Warning', icon: '▲' },
  info: { label: 'Info', icon: 'ℹ' },
};

export function SeverityBadge({ severity }: { severity: Severity }) {
  const { label, icon } = severityLabels[severity];
  return (
    <IconText class={`badge severity-${severity}`} icon={icon}>
      {label}
    </IconText>
  );
}

/** A yes/no/unknown fact, in words with a mark. */
export function Flag({ value, yes, no, unknown = 'unknown' }: { value: boolean | null; yes: string; no: string; unknown?: string }) {
  const [mark, word, tone] = value === null ? ['?', unknown, 'unknown'] : value ? ['✔', yes, 'good'] : ['✖', no, 'bad'];
  return (
    <IconText class={`flag flag-${tone}`} icon={mark}>
      {word}
    </IconText>
  );
}

/** A time as "12 s ago", with the exact moment on hover and for assistive technology. */
export function Ago({ at, now }: { at: string | null; now: number }) {
  if (at === null) return <span class="muted">never</span>;
  // A moment past on the service's clock may read as ahead on the reader's, which may be slow: never "in 3 s".
  return (
    <time dateTime={at} title={dateTime(at)}>
      {relative(Math.min(Date.parse(at), now), now)}
    </time>
  );
}

/** A line the view says about itself: what went wrong (an alert), or what was just done (a status). */
function Note({ kind, children }: { kind: 'error' | 'done'; children: ComponentChildren }) {
  return (
    <p class={kind} role={kind === 'error' ? 'alert' : 'status'}>
      <span class="icon" aria-hidden="true">
        {kind === 'error' ? '✖' : '✔'}
      </span>
      {children}
    </p>
  );
}

export function ErrorNote({ error, prefix }: { error: Error | string | null | undefined; prefix?: string }) {
  if (!error) return null;
  const message = typeof error === 'string' ? error : error.message;
  return <Note kind="error">{prefix ? `${prefix}: ${message}` : message}</Note>;
}

/** What an action just did, once it is done. */
export function DoneNote({ message }: { message: string | null }) {
  return message ? <Note kind="done">{message}</Note> : null;
}

/** When the view was refreshed, or why it could not be and when it tries again. */
export function RefreshNote({ polled, now }: { polled: Polled<unknown>; now: number }) {
  if (polled.error && polled.retryAt !== null) {
    const seconds = Math.max(0, Math.ceil((polled.retryAt - now) / 1000));
    return <ErrorNote error={`Could not refresh: ${polled.error.message} Trying again ${seconds > 0 ? `in ${seconds} s` : 'now'}.`} />;
  }
  if (polled.updatedAt === null)
    return (
      <p class="muted refreshed" role="status">
        Loading…
      </p>
    );
  return <p class="muted refreshed">Updated {new Date(polled.updatedAt).toLocaleTimeString('en-GB')}</p>;
}

/**
 * A task run once at a time (a form's submit, a button's action): `busy` while it runs; each run
 * first clears the last error, then hands what the task throws to `onError`.
 */
export function useBusy(onError: (error: Error | null) => void): [busy: boolean, run: (task: () => Promise<unknown>) => Promise<void>] {
  const [busy, setBusy] = useState(false);
  const run = async (task: () => Promise<unknown>) => {
    setBusy(true);
    onError(null);
    try {
      await task();
    } catch (thrown) {
      onError(asError(thrown));
    } finally {
      setBusy(false);
    }
  };
  return [busy, run];
}

/** What the view's last action did (for `DoneNote`); `after` says it and loads the view again at once. */
export function useDone(polled: Polled<unknown>): {
  done: string | null;
  setDone: (message: string | null) => void;
  after: (message: string) => void;
} {
  const [done, setDone] = useState<string | null>(null);
  const after = (message: string) => {
    setDone(message);
    polled.refresh();
  };
  return { done, setDone, after };
}

/** The way back from one item to the list it is in. */
export function BackLink({ href, children }: { href: string; children: ComponentChildren }) {
  return (
    <p class="back">
      <a href={href}>← {children}</a>
    </p>
  );
}

/** A button that runs an action once at a time and reports its failure; nothing while the key is read-only. */
export function ActionButton({
  label,
  busyLabel,
  run,
  kind = 'secondary',
  onError,
  name,
}: {
  label: string;
  busyLabel?: string;
  run: () => Promise<unknown>;
  kind?: 'primary' | 'secondary' | 'danger';
  onError: (error: Error | null) => void;
  /** What a screen reader says when the visible label is one of many alike ("Acknowledge" in each row). */
  name?: string;
}) {
  const { canWrite } = useAccess();
  const [busy, runOnce] = useBusy(onError);
  if (!canWrite) return null;
  return (
    <button type="button" class={`button ${kind}`} disabled={busy} aria-label={name} onClick={() => void runOnce(run)}>
      {busy ? (busyLabel ?? `${label}…`) : label}
    </button>
  );
}

/**
 * A modal confirmation (the browser's own <dialog>: focus moves into it, Escape cancels, the page
 * behind is inert). The confirm button stays disabled until `ready`; a failure shows inside.
 */
export function ConfirmDialog({
  title,
  confirmLabel,
  danger = false,
  ready = true,
  onConfirm,
  onClose,
  children,
}: {
  title: string;
  confirmLabel: string;
  danger?: boolean;
  ready?: boolean;
  onConfirm: () => Promise<unknown>;
  onClose: () => void;
  children: ComponentChildren;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  const [error, setError] = useState<Error | null>(null);
  const [busy, run] = useBusy(setError);
  useEffect(() => {
    const dialog = ref.current;
    if (dialog && !dialog.open) dialog.showModal();
    return () => {
      dialog?.close();
    };
  }, []);
  const confirm = async (event: Event) => {
    event.preventDefault();
    if (!ready || busy) return;
    await run(async () => {
      await onConfirm();
      onClose();
    });
  };
  return (
    <dialog ref={ref} class="dialog" aria-labelledby="dialog-title" onClose={onClose} onCancel={onClose}>
      <form method="dialog" onSubmit={(event) => void confirm(event)}>
        <h2 id="dialog-title">{title}</h2>
        {children}
        <ErrorNote error={error} />
        <div class="actions">
          <button type="submit" class={`button ${danger ? 'danger' : 'primary'}`} disabled={!ready || busy}>
            {busy ? `${confirmLabel}…` : confirmLabel}
          </button>
          <button type="button" class="button secondary" onClick={onClose}>
            Cancel
          </button>
        </div>
      </form>
    </dialog>
  );
}

/** A view's heading and what it is about; for a view that refreshes itself, when it last did. */
export function ViewHeader({
  title,
  children,
  polled,
  now,
}: { title: string; children?: ComponentChildren } & ({ polled?: undefined; now?: undefined } | { polled: Polled<unknown>; now: number })) {
  return (
    <header class="view-header">
      <h1 id="view-title" tabIndex={-1}>
        {title}
      </h1>
      {children}
      {polled && <RefreshNote polled={polled} now={now} />}
    </header>
  );
}

/** A table with a heading per column and a row per item; before its items are loaded, nothing. */
export function DataTable<T>({
  class: className,
  caption,
  columns,
  rows,
  row,
  empty,
  busy,
  after,
}: {
  class?: string;
  caption?: ComponentChildren;
  /** The columns' headings; a `false` one is left out (the actions a read-only key does not have). */
  columns: readonly (string | false)[];
  rows: readonly T[] | undefined;
  row: (item: T) => ComponentChildren;
  /** Said instead of the table when there is no row (without it, the table shows, empty). */
  empty?: ComponentChildren;
  busy?: boolean;
  /** Below the table, in its frame. */
  after?: ComponentChildren;
}) {
  if (rows === undefined) return null;
  if (rows.length === 0 && empty !== undefined) return <p class="muted">{empty}</p>;
  return (
    <div class="table-wrap">
      <table class={className} aria-busy={busy}>
        {caption !== undefined && <caption>{caption}</caption>}
        <thead>
          <tr>
            {columns.map(
              (column) =>
                column !== false && (
                  <th key={column} scope="col">
                    {column}
                  </th>
                ),
            )}
          </tr>
        </thead>
        <tbody>{rows.map((item) => row(item))}</tbody>
      </table>
      {after}
    </div>
  );
}

/** Filters that apply as they change: the form has nothing to submit. */
export function Filters({ children }: { children: ComponentChildren }) {
  return (
    <form
      class="filters"
      onSubmit={(event) => {
        event.preventDefault();
      }}
    >
      {children}
    </form>
  );
}

function Field({
  id,
  label,
  wide = false,
  children,
}: {
  id: string;
  label: string;
  wide?: boolean | undefined;
  children: ComponentChildren;
}) {
  return (
    <div class={wide ? 'field wide' : 'field'}>
      <label for={id}>{label}</label>
      {children}
    </div>
  );
}

/** A labelled choice; `children` are its options. */
export function SelectField({
  id,
  label,
  value,
  onValue,
  children,
}: {
  id: string;
  label: string;
  value: string;
  onValue: (value: string) => void;
  children: ComponentChildren;
}) {
  return (
    <Field id={id} label={label}>
      <select
        id={id}
        value={value}
        onChange={(event) => {
          onValue(event.currentTarget.value);
        }}
      >
        {children}
      </select>
    </Field>
  );
}

interface InputProps {
  id: string;
  type: 'text' | 'date' | 'datetime-local';
  value: string;
  onValue: (value: string) => void;
  required?: boolean;
  maxLength?: number;
  autoComplete?: 'off';
  spellcheck?: boolean;
}

/** A text input that hands each new value to `onValue`. */
export function Input({ type, onValue, ...input }: InputProps) {
  const onInput = (event: { currentTarget: HTMLInputElement }) => {
    onValue(event.currentTarget.value);
  };
  // Two branches: a text input and a date one take different attributes.
  return type === 'text' ? <input {...input} type={type} onInput={onInput} /> : <input {...input} type={type} onInput={onInput} />;
}

/** An input with its label above it; `wide` takes the whole row. */
export function InputField({ label, wide, ...input }: InputProps & { label: string; wide?: boolean }) {
  return (
    <Field id={input.id} label={label} wide={wide}>
      <Input {...input} />
    </Field>
  );
}
