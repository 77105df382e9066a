import { ApolloProvider, useApolloClient, useQuery } from '@apollo/client/react';
import { MantineProvider } from '@mantine/core';
import { Notifications } from '@mantine/notifications';
import { useEffect, useMemo, useState } from 'react';
import { graphql } from '../gql';
import { createApolloClient } from './apollo';
import { CALLBACK_PATH, oidcCallback, oidcSignOut, oidcSilentCallback, SILENT_PATH } from './auth/oidc';
import { loadRuntimeConfig, type RuntimeConfig } from './auth/runtime-config';
import { DEV_TOKEN_KEY, SignInPage } from './auth/SignInPage';
import { session, useToken } from './auth/session';
import { Shell } from './Shell';
import { ErrorAlert, Loading } from './ui';
import { ViewerContext } from './viewer';
import { cssVariablesResolver, theme } from './theme';

const ViewerQuery = graphql(`
  query Viewer {
    viewer {
      subject
      role
      tenant {
        id
        name
        slug
      }
    }
  }
`);

export function App() {
  const client = useMemo(() => createApolloClient(), []);
  return (
    <MantineProvider theme={theme} cssVariablesResolver={cssVariablesResolver}>
      <Notifications position="top-right" />
      <ApolloProvider client={client}>
        <Root />
      </ApolloProvider>
    </MantineProvider>
  );
}

function Root() {
  const [config, setConfig] = useState<RuntimeConfig>();
  const [error, setError] = useState<unknown>();
  const token = useToken();
  const path = window.location.pathname;

  useEffect(() => {
    loadRuntimeConfig()
      .then(async (c) => {
        if (c.signIn === 'oidc' && path === SILENT_PATH) {
          await oidcSilentCallback(c);
        } else if (c.signIn === 'oidc' && path === CALLBACK_PATH) {
          const returnTo = await oidcCallback(c);
          window.history.replaceState(null, '', returnTo);
        } else if (c.signIn === 'dev') {
          session.set(sessionStorage.getItem(DEV_TOKEN_KEY));
        }
        setConfig(c);
      })
      .catch(setError);
    // Once, at start.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);

  if (error) return <ErrorAlert error={error} title="The console could not start" />;
  if (!config) return <Loading label="Starting" />;
  if (path === SILENT_PATH) return null;
  if (!token) return <SignInPage config={config} />;
  return <SignedIn config={config} />;
}

function SignedIn({ config }: { config: RuntimeConfig }) {
  const client = useApolloClient();
  const { data, error } = useQuery(ViewerQuery, { fetchPolicy: 'network-only' });
  const signOut = () => {
    sessionStorage.removeItem(DEV_TOKEN_KEY);
    void client.clearStore();
    if (config.signIn === 'oidc') void oidcSignOut(config);
    else session.set(null);
  };
  if (error) {
    return (
      <main style={{ padding: 24 }}>
        <ErrorAlert error={error} title="You are signed in, but the API refused your token" />
        <button type="button" onClick={signOut} style={{ marginTop: 12 }}>
          Sign out
        </button>
      </main>
    );
  }
  if (!data) return <Loading label="Signing in" />;
  return (
    <ViewerContext.Provider value={data.viewer}>
      <Shell onSignOut={signOut} />
    </ViewerContext.Provider>
  );
}
