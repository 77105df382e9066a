import { ApolloClient, ApolloLink, InMemoryCache } from '@apollo/client';
import { SetContextLink } from '@apollo/client/link/context';
import { GraphQLWsLink } from '@apollo/client/link/subscriptions';
import { getMainDefinition } from '@apollo/client/utilities';
import UploadHttpLink from 'apollo-upload-client/UploadHttpLink.mjs';
import { createClient } from 'graphql-ws';
import { session } from './auth/session';

/**
 * The console talks to the API like any frontend: POST /graphql (multipart when a variable holds a File,
 * GraphQL multipart request spec) and graphql-ws on the same URL for subscriptions, both with the bearer
 * token of the signed-in person. A new token (sign-in, silent renew) reconnects the WebSocket.
 */
export function createApolloClient(): ApolloClient {
  const wsUrl = `${window.location.protocol === 'https:' ? 'wss' : 'ws'}://${window.location.host}/graphql`;
  const ws = createClient({
    url: wsUrl,
    lazy: true,
    retryAttempts: Infinity,
    shouldRetry: () => true,
    connectionParams: () => {
      const token = session.token();
      return token ? { authorization: `Bearer ${token}` } : {};
    },
  });
  let lastToken = session.token();
  session.subscribe(() => {
    if (session.token() !== lastToken) {
      lastToken = session.token();
      ws.terminate();
    }
  });
  const auth = new SetContextLink((prev) => {
    const token = session.token();
    const headers = { ...(prev.headers as Record<string, string> | undefined) };
    if (token && !headers.authorization) headers.authorization = `Bearer ${token}`;
    return { headers };
  });
  const http = new UploadHttpLink({ uri: '/graphql', headers: { accept: 'application/graphql-response+json, application/json' } });
  const link = ApolloLink.split(
    ({ query }) => {
      const def = getMainDefinition(query);
      return def.kind === 'OperationDefinition' && def.operation === 'subscription';
    },
    new GraphQLWsLink(ws),
    ApolloLink.from([auth, http]),
  );
  return new ApolloClient({
    link,
    cache: new InMemoryCache({
      typePolicies: {
        // Dashboards and settings are values, not entities: replaced whole on each read.
        LicenseDashboard: { keyFields: false },
        LicenseSyncSettings: { keyFields: false },
      },
    }),
    defaultOptions: { watchQuery: { fetchPolicy: 'cache-and-network' } },
  });
}
