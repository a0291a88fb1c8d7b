import { useState } from 'preact/hooks';
import type { CallingReseller } from '../../protocol/reseller.ts';
import { api } from '../api.ts';
import { ErrorNote, useBusy } from '../components.tsx';

/**
 * Sign-in with a reseller API key: tried with `GET /v1/reseller` (which also says the key's scope)
 * before it is kept, in this tab's sessionStorage only.
 */
export function SignIn({ notice, onSignedIn }: { notice: string | null; onSignedIn: (key: string, reseller: CallingReseller) => void }) {
  const [key, setKey] = useState('');
  const [error, setError] = useState<Error | null>(null);
  const [busy, run] = useBusy(setError);
  const submit = async (event: Event) => {
    event.preventDefault();
    const candidate = key.trim();
    if (!candidate) {
      setError(new Error('Paste your API key first.'));
      return;
    }
    await run(async () => {
      const reseller = await api<CallingReseller>('GET', '/v1/reseller', undefined, candidate);
      setKey('');
      onSignedIn(candidate, reseller);
    });
  };
  return (
    <main id="main" class="sign-in">
      <h1>
        <span class="logo" aria-hidden="true">
          ⚖
        </span>{' '}
        Tiebreak console
      </h1>
      <p>Sign in with one of your reseller API keys. A read-only key shows everything and changes nothing.</p>
      {notice && (
        <p class="note" role="status">
          {notice}
        </p>
      )}
      <form onSubmit={(event) => void submit(event)} noValidate>
        <label for="api-key">API key</label>
        <input
          id="api-key"
          name="api-key"
          type="password"
          autoComplete="off"
          spellcheck={false}
          placeholder="tbk.…"
          value={key}
          aria-describedby="api-key-help"
          aria-invalid={error ? true : undefined}
          onInput={(event) => {
            setKey(event.currentTarget.value);
          }}
          required
        />
        <p id="api-key-help" class="help">
          Kept in this browser tab only (its session storage) until you sign out or close the tab; never in the address bar.
        </p>
        <ErrorNote error={error} prefix="Sign-in failed" />
        <button type="submit" class="button primary" disabled={busy}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
    </main>
  );
}
