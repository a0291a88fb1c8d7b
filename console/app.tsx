import type { ComponentChildren } from 'preact';
import { useEffect, useErrorBoundary, useState } from 'preact/hooks';
import type { CallingReseller } from '../protocol/reseller.ts';
import { ApiError, api, asError, whenUnauthorized } from './api.ts';
import { AccessContext, ErrorNote, IconText } from './components.tsx';
import { hrefOf, parseRoute, type Route, sectionOf, sections } from './route.ts';
import { forgetKey, storedKey, storeKey } from './session.ts';
import { IncidentsView } from './views/incidents.tsx';
import { ReportsView } from './views/reports.tsx';
import { SignIn } from './views/sign-in.tsx';
import { SiteView } from './views/site.tsx';
import { SitesView } from './views/sites.tsx';
import { WebhooksView } from './views/webhooks.tsx';

const viewTitles: Record<Route['view'], string> = {
  sites: 'Sites',
  site: 'Site',
  incidents: 'Incidents',
  webhooks: 'Webhooks',
  reports: 'Reports',
  'not-found': 'Not found',
};

/** The console: signed out, the sign-in form; signed in, the header, the navigation and the view of the hash route. */
export function App() {
  const [me, setMe] = useState<CallingReseller | null>(null);
  const [restoring, setRestoring] = useState(storedKey() !== null);
  const [restoreError, setRestoreError] = useState<Error | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [route, setRoute] = useState<Route>(parseRoute(location.hash));

  useEffect(() => {
    const onHash = () => {
      setRoute(parseRoute(location.hash));
    };
    window.addEventListener('hashchange', onHash);
    whenUnauthorized((error) => {
      forgetKey();
      setMe(null);
      setNotice(`You were signed out: ${error.message}.`);
    });
    return () => {
      window.removeEventListener('hashchange', onHash);
    };
  }, []);

  // A reload keeps the tab's key: who it belongs to is asked again.
  useEffect(() => {
    if (!restoring) return;
    api<CallingReseller>('GET', '/v1/reseller')
      .then((reseller) => {
        setMe(reseller);
      })
      .catch((error: unknown) => {
        if (!(error instanceof ApiError && error.status === 401)) setRestoreError(asError(error));
      })
      .finally(() => {
        setRestoring(false);
      });
  }, [restoring]);

  useEffect(() => {
    document.title = me ? `${viewTitles[route.view]} — Tiebreak console` : 'Sign in — Tiebreak console';
  }, [me, route.view]);

  // Each new view gets the focus on its heading, so that a screen reader announces where it is.
  useEffect(() => {
    if (me) document.getElementById('view-title')?.focus({ preventScroll: true });
  }, [me, route]);

  const signIn = (key: string, reseller: CallingReseller) => {
    storeKey(key);
    setNotice(null);
    setMe(reseller);
  };
  const signOut = () => {
    forgetKey();
    setMe(null);
    setNotice('You are signed out. The key was removed from this tab.');
  };

  if (restoring)
    return (
      <p class="loading" role="status">
        Loading…
      </p>
    );
  if (!me) {
    return (
      <>
        <ErrorNote error={restoreError} prefix="Could not reach the service" />
        <SignIn notice={notice} onSignedIn={signIn} />
      </>
    );
  }
  const canWrite = me.caller.scope === 'read-write';
  const current = sectionOf(route);
  return (
    <AccessContext.Provider value={{ canWrite }}>
      <a
        class="skip-link"
        href="#main"
        onClick={(event) => {
          event.preventDefault();
          document.getElementById('view-title')?.focus();
        }}
      >
        Skip to content
      </a>
      <header class="top">
        <div class="brand">
          <span class="logo" aria-hidden="true">
            ⚖
          </span>
          Tiebreak console
        </div>
        <nav aria-label="Sections">
          <ul>
            {sections.map((section) => (
              <li key={section.view}>
                <a href={`#/${section.view}`} aria-current={current === section.view ? 'page' : undefined}>
                  {section.label}
                </a>
              </li>
            ))}
          </ul>
        </nav>
        <div class="who">
          <span class="reseller">{me.name}</span>
          <IconText class={`badge scope scope-${me.caller.scope}`} icon={canWrite ? '✎' : '◉'}>
            {canWrite ? 'Read-write key' : 'Read-only key'}
          </IconText>
          <button type="button" class="button secondary" onClick={signOut}>
            Sign out
          </button>
        </div>
      </header>
      <main id="main">
        {!canWrite && <p class="note">This key is read-only: you can see everything, and change nothing (actions are hidden).</p>}
        <Contained key={hrefOf(route)}>
          <View route={route} />
        </Contained>
      </main>
    </AccessContext.Provider>
  );
}

/** A view that fails to render says so, in its place; the header and the other views still work. */
function Contained({ children }: { children: ComponentChildren }) {
  const boundary: [unknown, () => void] = useErrorBoundary();
  const [error, reset] = boundary;
  if (error) {
    return (
      <section aria-labelledby="view-title">
        <h1 id="view-title" tabIndex={-1}>
          This view failed
        </h1>
        <ErrorNote error={error instanceof Error ? error : 'an unknown error'} />
        <button type="button" class="button secondary" onClick={reset}>
          Try again
        </button>
      </section>
    );
  }
  return <>{children}</>;
}

function View({ route }: { route: Route }) {
  switch (route.view) {
    case 'sites':
      return <SitesView route={route} />;
    case 'site':
      return <SiteView siteId={route.siteId} />;
    case 'incidents':
      return <IncidentsView route={route} />;
    case 'webhooks':
      return <WebhooksView endpointId={route.endpointId} />;
    case 'reports':
      return <ReportsView />;
    case 'not-found':
      return (
        <section aria-labelledby="view-title">
          <h1 id="view-title" tabIndex={-1}>
            Not found
          </h1>
          <p>
            The console has no page <code>#/{route.path}</code>.{' '}
            <a href={hrefOf({ view: 'sites', customerId: null, status: null })}>Go to the sites</a>.
          </p>
        </section>
      );
  }
}
