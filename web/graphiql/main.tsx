/**
 * The GraphiQL page this server serves at /graphiql (and to a browser's GET /graphql): the `graphiql`
 * package, bundled by scripts/build-graphiql.ts, with a bearer-token field. The token is kept in
 * sessionStorage (gone when the tab closes), sent as `Authorization: Bearer …` over HTTP and as
 * graphql-ws connectionParams `{ authorization: 'Bearer …' }` for subscriptions (src/server/ws.ts).
 */
import './workers';
import 'graphiql/style.css';
import './page.css';
import { createGraphiQLFetcher } from '@graphiql/toolkit';
import { GraphiQL } from 'graphiql';
import { createClient } from 'graphql-ws';
import { StrictMode, useEffect, useMemo, useState } from 'react';
import { createRoot } from 'react-dom/client';

const TOKEN_KEY = 'sdwan-license-manager.graphiql.token';
const HTTP_URL = new URL('/graphql', location.href).href;
const WS_URL = HTTP_URL.replace(/^http/, 'ws');

const DEFAULT_QUERY = `# Paste a bearer token above (npm run token -- --help), then run a query, e.g.
query Me {
  viewer {
    subject
    role
  }
}
`;

function readToken(): string {
  try {
    return sessionStorage.getItem(TOKEN_KEY) ?? '';
  } catch {
    return '';
  }
}

function saveToken(token: string): void {
  try {
    if (token) sessionStorage.setItem(TOKEN_KEY, token);
    else sessionStorage.removeItem(TOKEN_KEY);
  } catch {
    // storage disabled: the token lives as long as the page
  }
}

/** "Bearer x", "bearer x" or just "x" → "x". */
function bareToken(value: string): string {
  return value.trim().replace(/^bearer\s+/i, '');
}

function App() {
  const [token, setToken] = useState(readToken);
  const [draft, setDraft] = useState(token);

  const wsClient = useMemo(
    () =>
      createClient({
        url: WS_URL,
        lazy: true,
        connectionParams: token ? { authorization: `Bearer ${token}` } : {},
      }),
    [token],
  );
  useEffect(() => () => void wsClient.dispose(), [wsClient]);

  const fetcher = useMemo(
    () =>
      createGraphiQLFetcher({
        url: HTTP_URL,
        headers: token ? { Authorization: `Bearer ${token}` } : {},
        wsClient,
      }),
    [token, wsClient],
  );

  const apply = () => {
    const next = bareToken(draft);
    setDraft(next);
    saveToken(next);
    setToken(next);
  };

  return (
    <div className="slm-page">
      <form
        className="slm-token"
        onSubmit={(e) => {
          e.preventDefault();
          apply();
        }}
      >
        <label htmlFor="slm-token-input">Bearer token</label>
        <input
          id="slm-token-input"
          name="token"
          type="password"
          autoComplete="off"
          spellCheck={false}
          placeholder="eyJhbGciOi… (kept in this tab's sessionStorage)"
          value={draft}
          onChange={(e) => setDraft(e.target.value)}
          onBlur={apply}
        />
        <button type="submit">Use token</button>
        <span className="slm-token-state" data-testid="token-state">
          {token ? 'token set' : 'no token: requests are refused (401)'}
        </span>
      </form>
      <div className="slm-graphiql">
        <GraphiQL fetcher={fetcher} defaultQuery={DEFAULT_QUERY} />
      </div>
    </div>
  );
}

createRoot(document.getElementById('graphiql')!).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
