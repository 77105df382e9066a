import {
  ApolloClient,
  ApolloLink,
  CombinedGraphQLErrors,
  HttpLink,
  InMemoryCache,
  gql,
  type TypedDocumentNode,
} from '@apollo/client';
import { GraphQLWsLink } from '@apollo/client/link/subscriptions';
import { getMainDefinition } from '@apollo/client/utilities';
import { Kind, OperationTypeNode } from 'graphql';
import { createClient, type Client as WsClient } from 'graphql-ws';
import WebSocket from 'ws';
import { ASSIGN, createTrialTenant, dbId, gqlData, type AccountTenant } from './support/assignment-fixtures';
import { deviceInput, registerDevices } from './support/fixtures';
import { startTestServer, type TestServer } from './support/harness';

/**
 * The API driven by @apollo/client (v4, no React) as a frontend would: a bearer token on an
 * HttpLink for queries and mutations, and a GraphQLWsLink (graphql-ws) for subscriptions, split by
 * operation type, with a normalized InMemoryCache.
 */

const WAIT_MS = 10_000;

interface ViewerDevicesData {
  viewer: { __typename: 'Viewer'; role: string; tenant: { __typename: 'Tenant'; id: string; slug: string } | null };
  devices: {
    __typename: 'DeviceConnection';
    totalCount: number;
    pageInfo: { __typename: 'PageInfo'; hasNextPage: boolean; endCursor: string | null };
    edges: { __typename: 'DeviceEdge'; cursor: string; node: DeviceNode }[];
  };
}
interface DeviceNode {
  __typename: 'Device';
  id: string;
  uuid: string;
  hostname: string;
  tenant: { __typename: 'Tenant'; id: string };
}
interface ViewerDevicesVars {
  first: number;
  after?: string | null;
  [key: string]: unknown;
}

const VIEWER_AND_DEVICES: TypedDocumentNode<ViewerDevicesData, ViewerDevicesVars> = gql`
  query ViewerAndDevices($first: Int!, $after: String) {
    viewer {
      role
      tenant {
        id
        slug
      }
    }
    devices(first: $first, after: $after) {
      totalCount
      pageInfo {
        hasNextPage
        endCursor
      }
      edges {
        cursor
        node {
          id
          uuid
          hostname
          tenant {
            id
          }
        }
      }
    }
  }
`;

interface RegisterData {
  registerDevices: { __typename: 'RegisterDevicesPayload'; created: number; updated: number; devices: DeviceNode[] };
}
interface RegisterVars {
  input: { devices: ReturnType<typeof deviceInput>[] };
  [key: string]: unknown;
}

const REGISTER: TypedDocumentNode<RegisterData, RegisterVars> = gql`
  mutation Register($input: RegisterDevicesInput!) {
    registerDevices(input: $input) {
      created
      updated
      devices {
        id
        uuid
        hostname
        tenant {
          id
        }
      }
    }
  }
`;

interface AlertEvent {
  __typename: 'Alert';
  id: string;
  kind: string;
  active: boolean;
  tenant: { __typename: 'Tenant'; id: string } | null;
}

const LICENSE_ALERTS: TypedDocumentNode<{ licenseAlerts: AlertEvent }, Record<string, never>> = gql`
  subscription LicenseAlerts {
    licenseAlerts {
      id
      kind
      active
      tenant {
        id
      }
    }
  }
`;

const RELEASE = 'mutation($input: ReleaseLicensesInput!) { releaseLicenses(input: $input) { released } }';

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

interface Frontend {
  client: ApolloClient;
  ws: WsClient;
  /** How many times the graphql-ws client connected (it connects lazily, on the first subscription). */
  wsConnections: () => number;
  dispose(): Promise<void>;
}

describe('@apollo/client against the real server', () => {
  let server: TestServer;
  let tenant: AccountTenant;
  const frontends: Frontend[] = [];

  /** An Apollo Client as a browser app would build it: HTTP for queries and mutations, graphql-ws for subscriptions. */
  function frontend(token: string | null): Frontend {
    const http = new HttpLink({
      uri: server.url,
      headers: token ? { authorization: `Bearer ${token}` } : {},
    });
    let wsConnections = 0;
    const ws = createClient({
      url: server.url.replace(/^http/, 'ws'),
      webSocketImpl: WebSocket,
      connectionParams: token ? { authorization: `Bearer ${token}` } : {},
      retryAttempts: 0,
      on: { connected: () => void wsConnections++ },
    });
    const link = ApolloLink.split(
      ({ query }) => {
        const definition = getMainDefinition(query);
        return definition.kind === Kind.OPERATION_DEFINITION && definition.operation === OperationTypeNode.SUBSCRIPTION;
      },
      new GraphQLWsLink(ws),
      http,
    );
    const client = new ApolloClient({ link, cache: new InMemoryCache() });
    const created: Frontend = {
      client,
      ws,
      wsConnections: () => wsConnections,
      async dispose() {
        client.stop();
        await ws.dispose();
      },
    };
    frontends.push(created);
    return created;
  }

  beforeAll(async () => {
    server = await startTestServer();
    // A tenant without a smart account: assigning a DNA level/tier leaves the assignment pending,
    // which raises UNRECONCILED_ASSIGNMENTS for the tenant.
    tenant = await createTrialTenant(server, 'apollo-client');
    await registerDevices(server, tenant.admin, [deviceInput(9003), deviceInput(9001), deviceInput(9002)]);
  });
  afterEach(async () => {
    await Promise.all(frontends.splice(0).map((f) => f.dispose()));
  });
  afterAll(async () => {
    await server?.close();
  });

  it('queries the viewer and a page of devices over HttpLink with the bearer token, and keeps the result normalized in its cache', async () => {
    const { client, wsConnections } = frontend(tenant.admin);
    const { data, error } = await client.query({ query: VIEWER_AND_DEVICES, variables: { first: 2 } });
    expect(error).toBeUndefined();
    expect(data?.viewer).toEqual({ __typename: 'Viewer', role: 'TENANT_ADMIN', tenant: { __typename: 'Tenant', id: tenant.id, slug: tenant.slug } });
    expect(data?.devices.totalCount).toBe(3);
    expect(data?.devices.pageInfo.hasNextPage).toBe(true);
    expect(data?.devices.edges.map((e) => e.node.hostname)).toEqual([deviceInput(9001).hostname, deviceInput(9002).hostname]);
    expect(data?.devices.edges.every((e) => e.node.tenant.id === tenant.id)).toBe(true);

    // The next page through the cursor Apollo Client received.
    const next = await client.query({
      query: VIEWER_AND_DEVICES,
      variables: { first: 2, after: data?.devices.pageInfo.endCursor ?? null },
    });
    expect(next.data?.devices.edges.map((e) => e.node.hostname)).toEqual([deviceInput(9003).hostname]);
    expect(next.data?.devices.pageInfo.hasNextPage).toBe(false);

    // Every Device came with id and __typename, so the cache holds it as one normalized entity.
    const first = data?.devices.edges[0].node;
    expect(first).toBeDefined();
    const id = client.cache.identify({ __typename: 'Device', id: first?.id });
    expect(id).toBe(`Device:${first?.id}`);
    expect(client.cache.extract()).toHaveProperty([id ?? '', 'uuid'], deviceInput(9001).uuid);
    // Queries went over HTTP: the split link never opened the WebSocket.
    expect(wsConnections()).toBe(0);
  });

  it('registers a device with a mutation as TENANT_ADMIN, stores it in that tenant, and a network-only query then counts it', async () => {
    const { client } = frontend(tenant.admin);
    const device = deviceInput(9100);
    const { data, error } = await client.mutate({ mutation: REGISTER, variables: { input: { devices: [device] } } });
    expect(error).toBeUndefined();
    expect(data?.registerDevices).toMatchObject({ created: 1, updated: 0, devices: [{ uuid: device.uuid, hostname: device.hostname, tenant: { id: tenant.id } }] });

    const stored = await server.sql<{ tenant_id: string }>('select tenant_id from device where uuid = $1', [device.uuid]);
    expect(stored).toEqual([{ tenant_id: tenant.uuid }]);
    const after = await client.query({ query: VIEWER_AND_DEVICES, variables: { first: 10 }, fetchPolicy: 'network-only' });
    expect(after.data?.devices.totalCount).toBe(4);
    expect(after.data?.devices.edges.map((e) => e.node.uuid)).toContain(device.uuid);
  });

  it('rejects the mutation of a TENANT_OPERATOR with a CombinedGraphQLErrors carrying FORBIDDEN, and stores nothing', async () => {
    const { client } = frontend(tenant.operator);
    const device = deviceInput(9200);
    const outcome = await client.mutate({ mutation: REGISTER, variables: { input: { devices: [device] } } }).then(
      () => 'resolved',
      (err: unknown) => err,
    );
    expect(CombinedGraphQLErrors.is(outcome)).toBe(true);
    expect(CombinedGraphQLErrors.is(outcome) ? outcome.errors.map((e) => e.extensions?.code) : []).toEqual(['FORBIDDEN']);
    expect(await server.sql('select 1 from device where uuid = $1', [device.uuid])).toEqual([]);
  });

  it('surfaces the refusal of a request without a token as CombinedGraphQLErrors with UNAUTHENTICATED and no data', async () => {
    const { client } = frontend(null);
    const outcome = await client.query({ query: VIEWER_AND_DEVICES, variables: { first: 1 } }).then(
      (result) => result,
      (err: unknown) => err,
    );
    // Apollo Client accepts application/graphql-response+json, so the 401's errors reach it as GraphQL errors.
    expect(CombinedGraphQLErrors.is(outcome)).toBe(true);
    if (!CombinedGraphQLErrors.is(outcome)) return;
    expect(outcome.errors.map((e) => e.extensions?.code)).toEqual(['UNAUTHENTICATED']);
    expect(outcome.data).toBeUndefined();
  });

  it('delivers a licenseAlerts event through GraphQLWsLink when a pending assignment raises an alert for the tenant', async () => {
    const { client, wsConnections } = frontend(tenant.admin);
    const [deviceId] = (await registerDevices(server, tenant.admin, [deviceInput(9300)])).map((d) => d.id);
    const events: AlertEvent[] = [];
    const failures: unknown[] = [];
    const subscription = client.subscribe({ query: LICENSE_ALERTS }).subscribe({
      next: (result) => {
        if (result.error) failures.push(result.error);
        if (result.data) events.push(result.data.licenseAlerts);
      },
      error: (err: unknown) => failures.push(err),
    });
    try {
      // The server sends nothing when a subscription starts listening: raise (assign) and clear
      // (release) the tenant's pending-assignment alert until the first event arrives.
      const raised = (): AlertEvent | undefined => events.find((e) => e.kind === 'UNRECONCILED_ASSIGNMENTS' && e.active);
      const deadline = Date.now() + WAIT_MS;
      for (let attempt = 0; !raised() && failures.length === 0 && Date.now() < deadline; attempt++) {
        if (attempt % 2 === 0) await gqlData(server, ASSIGN, { input: { deviceIds: [deviceId], level: 'ADVANTAGE', tier: 'T1' } }, tenant.admin);
        else await gqlData(server, RELEASE, { input: { deviceIds: [deviceId] } }, tenant.admin);
        const wait = Date.now() + 500;
        while (!raised() && failures.length === 0 && Date.now() < wait) await sleep(20);
      }
      expect(failures).toEqual([]);
      const event = raised();
      expect(event).toMatchObject({ __typename: 'Alert', kind: 'UNRECONCILED_ASSIGNMENTS', active: true, tenant: { __typename: 'Tenant', id: tenant.id } });
      const stored = await server.sql<{ tenant_id: string; kind: string }>('select tenant_id, kind from alert where id = $1', [dbId(event?.id ?? '')]);
      expect(stored).toEqual([{ tenant_id: tenant.uuid, kind: 'UNRECONCILED_ASSIGNMENTS' }]);
      // The subscription went over the one graphql-ws connection.
      expect(wsConnections()).toBe(1);
      // Every event belongs to the subscriber's tenant.
      expect(events.filter((e) => e.tenant?.id !== tenant.id)).toEqual([]);
    } finally {
      subscription.unsubscribe();
    }
  });
});
