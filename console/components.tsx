import type { ComponentChildren } from 'preact';
import { createContext } from 'preact';
import { useContext, useEffect, useRef, useState } from 'preact/hooks';
import type { Severity } from '../protocol/events.ts';
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

/** A site's status: an icon of its own shape and the word, the colour only a third cue. */
export function StatusBadge({ status }: { status: SiteState }) {
  // A status this console does not know yet (a newer service) still shows, as its word.
  const { label, icon, meaning } = Object.hasOwn(statusLabels, status) ? statusLabels[status] : { label: status, icon: '?', meaning: 'a status this console does not know' };
  return (
    <span class={`badge status-${status}`} title={meaning}>
      <span class="icon" aria-hidden="true">
        {icon}
      </span>
      {label}
    </span>
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
    <span class={`badge severity-${severity}`}>
      <span class="icon" aria-hidden="true">
        {icon}
      </span>
      {label}
    </span>
  );
}

/** A yes/no/unknown fact, in words with a mark. */
export function Flag({ value, yes, no, unknown = 'unknown' }: { value: boolean | null; yes: string; no: string; unknown?: string }) {
  const [mark, word, tone] = value === null ? ['?', unknown, 'unknown'] : value ? ['✔', yes, 'good'] : ['✖', no, 'bad'];
  return (
    <span class={`flag flag-${tone}`}>
      <span class="icon" aria-hidden="true">
        {mark}
      </span>
      {word}
    </span>
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

export function ErrorNote({ error, prefix }: { error: Error | string | null | undefined; prefix?: string }) {
  if (!error) return null;
  const message = typeof error === 'string' ? error : error.message;
  return (
    <p class="error" role="alert">
      <span class="icon" aria-hidden="true">
        ✖
      </span>
      {prefix ? `${prefix}: ${message}` : message}
    </p>
  );
}

/** When the view was refreshed, or why it could not be and when it tries again. */
export function RefreshNote({ polled, now }: { polled: Polled<unknown>; now: number }) {
  if (polled.error && polled.retryAt !== null) {
    const seconds = Math.max(0, Math.ceil((polled.retryAt - now) / 1000));
    return <ErrorNote error={`Could not refresh: ${polled.error.message} Trying again ${seconds > 0 ? `in ${seconds} s` : 'now'}.`} />;
  }
  if (polled.updatedAt === null) return <p class="muted refreshed" role="status">Loading…</p>;
  return <p class="muted refreshed">Updated {new Date(polled.updatedAt).toLocaleTimeString('en-GB')}</p>;
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
  const [busy, setBusy] = useState(false);
  if (!canWrite) return null;
  const click = async () => {
    setBusy(true);
    onError(null);
    try {
      await run();
    } catch (error) {
      onError(error instanceof Error ? error : new Error(String(error)));
    } finally {
      setBusy(false);
    }
  };
  return (
    <button type="button" class={`button ${kind}`} disabled={busy} aria-label={name} onClick={() => void click()}>
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
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<Error | null>(null);
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
    setBusy(true);
    setError(null);
    try {
      await onConfirm();
      onClose();
    } catch (failure) {
      setError(failure instanceof Error ? failure : new Error(String(failure)));
      setBusy(false);
    }
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

/** A view's heading and what it is about. */
export function ViewHeader({ title, children }: { title: string; children?: ComponentChildren }) {
  return (
    <header class="view-header">
      <h1 id="view-title" tabIndex={-1}>
        {title}
      </h1>
      {children}
    </header>
  );
}
