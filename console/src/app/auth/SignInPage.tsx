import { useApolloClient } from '@apollo/client/react';
import { Alert, Button, Card, Center, Radio, Select, Stack, Text, Title } from '@mantine/core';
import { useState } from 'react';
import { graphql } from '../../gql';
import type { Role } from '../../gql/graphql';
import { ErrorAlert } from '../ui';
import { ROLE_WORDS } from '../viewer';
import { oidcSignIn } from './oidc';
import type { RuntimeConfig } from './runtime-config';
import { session } from './session';

export const DEV_TOKEN_KEY = 'sdwan-license-manager.console.dev-token';

const DevSignInTenants = graphql(`
  query DevSignInTenants {
    tenants(first: 100) {
      edges {
        node {
          id
          uuid
          name
          slug
          status
        }
      }
    }
  }
`);

async function devToken(role: Role, tenantUuid?: string): Promise<string> {
  const res = await fetch('/dev/token', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ role, ...(tenantUuid ? { tenantId: tenantUuid } : {}) }),
  });
  const body = (await res.json()) as { token?: string; errors?: { message: string; extensions?: Record<string, unknown> }[] };
  if (!res.ok || !body.token) throw body.errors?.[0] ?? new Error(`POST /dev/token answered ${res.status}`);
  return body.token;
}

export function SignInPage({ config }: { config: RuntimeConfig }) {
  return (
    <Center mih="100vh" p="md" component="main">
      <Card withBorder shadow="sm" p="xl" w="100%" maw={460}>
        <Stack>
          <Title order={1} size="h2">
            SD-WAN License Manager
          </Title>
          {config.signIn === 'oidc' && <OidcSignIn config={config} />}
          {config.signIn === 'dev' && <DevSignIn />}
          {config.signIn === 'none' && (
            <Alert color="yellow" title="Sign-in is not configured">
              {config.reason}
            </Alert>
          )}
        </Stack>
      </Card>
    </Center>
  );
}

function OidcSignIn({ config }: { config: Extract<RuntimeConfig, { signIn: 'oidc' }> }) {
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  return (
    <>
      <Text>Sign in with your organisation's account.</Text>
      <Button
        loading={busy}
        onClick={() => {
          setBusy(true);
          oidcSignIn(config).catch((e: unknown) => {
            setBusy(false);
            setError(e);
          });
        }}
      >
        Sign in
      </Button>
      <ErrorAlert error={error} title="Sign-in failed" />
    </>
  );
}

/**
 * Development only (the server has no JWT settings and generated its own secret): be anyone. The tenant
 * list is read with a provider operator's development token, through the API like every other screen.
 */
function DevSignIn() {
  const client = useApolloClient();
  const [role, setRole] = useState<Role>('PROVIDER_ADMIN');
  const [tenants, setTenants] = useState<{ value: string; label: string }[] | null>(null);
  const [tenant, setTenant] = useState<string | null>(null);
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  const tenantRole = role === 'TENANT_ADMIN' || role === 'TENANT_OPERATOR';

  const loadTenants = async () => {
    if (tenants) return;
    try {
      const token = await devToken('PROVIDER_OPERATOR');
      const { data } = await client.query({ query: DevSignInTenants, context: { headers: { authorization: `Bearer ${token}` } }, fetchPolicy: 'network-only' });
      setTenants((data?.tenants.edges ?? []).map(({ node }) => ({ value: node.uuid, label: `${node.name} (${node.slug})${node.status === 'SUSPENDED' ? ' — suspended' : ''}` })));
    } catch (e) {
      setError(e);
    }
  };

  const signIn = async () => {
    setBusy(true);
    setError(undefined);
    try {
      const token = await devToken(role, tenantRole ? (tenant ?? undefined) : undefined);
      sessionStorage.setItem(DEV_TOKEN_KEY, token);
      await client.clearStore();
      session.set(token);
    } catch (e) {
      setError(e);
      setBusy(false);
    }
  };

  return (
    <form
      onSubmit={(e) => {
        e.preventDefault();
        void signIn();
      }}
    >
      <Stack>
        <Alert color="yellow" title="Development sign-in">
          This server runs without identity provider settings: pick who you want to be. Production servers sign in with OpenID Connect.
        </Alert>
        <Radio.Group
          label="Role"
          value={role}
          onChange={(v) => {
            setRole(v as Role);
            if (v === 'TENANT_ADMIN' || v === 'TENANT_OPERATOR') void loadTenants();
          }}
        >
          <Stack gap="xs" mt="xs">
            {(Object.keys(ROLE_WORDS) as Role[]).map((r) => (
              <Radio key={r} value={r} label={ROLE_WORDS[r]} />
            ))}
          </Stack>
        </Radio.Group>
        {tenantRole && (
          <Select
            label="Tenant"
            placeholder={tenants ? 'Choose a tenant' : 'Loading tenants…'}
            data={tenants ?? []}
            value={tenant}
            onChange={setTenant}
            searchable
            required
            nothingFoundMessage="No tenant: a provider creates one first"
          />
        )}
        <ErrorAlert error={error} />
        <Button type="submit" loading={busy} disabled={tenantRole && !tenant}>
          Sign in
        </Button>
      </Stack>
    </form>
  );
}
