import { useMutation, useQuery } from '@apollo/client/react';
import { Button, Card, Checkbox, Group, Stack, Text, TextInput, Title } from '@mantine/core';
import { notifications } from '@mantine/notifications';
import { useState } from 'react';
import { graphql } from '../../gql';
import { useTenantScope } from '../../app/scope';
import { ErrorAlert, Loading, PageHeader } from '../../app/ui';
import { permissions, useViewer } from '../../app/viewer';

const SmartAccountsQuery = graphql(`
  query SmartAccounts($tenantId: ID) {
    smartAccounts(tenantId: $tenantId) {
      id
      domain
      name
      accountId
      tenant {
        id
        name
      }
      virtualAccounts {
        id
        externalId
        name
        managed
      }
    }
  }
`);
const ConfigureSmartAccount = graphql(`
  mutation ConfigureSmartAccount($input: ConfigureSmartAccountInput!) {
    configureSmartAccount(input: $input) {
      id
      domain
      name
      accountId
    }
  }
`);
const SetManagedVirtualAccounts = graphql(`
  mutation SetManagedVirtualAccounts($input: SetManagedVirtualAccountsInput!) {
    setManagedVirtualAccounts(input: $input) {
      id
      managed
    }
  }
`);

type Account = { id: string; domain: string; name: string; accountId: string; tenant: { id: string; name: string }; virtualAccounts: { id: string; externalId: string; name: string; managed: boolean }[] };

export default function AccountsPage() {
  const { tenantId, provider } = useTenantScope();
  const can = permissions(useViewer().role);
  const { data, error, loading } = useQuery(SmartAccountsQuery, { variables: { tenantId } });
  const editable = can.administer && (!provider || !!tenantId);
  const accounts = data?.smartAccounts ?? [];
  return (
    <>
      <PageHeader title="Smart account and virtual accounts" />
      <ErrorAlert error={error} />
      {loading && !data && <Loading />}
      {data && accounts.length === 0 && <Text mb="md">No smart account yet.{editable ? ' Record it below, or upload a license summary file (Offline files).' : ''}</Text>}
      <Stack>
        {accounts.map((sa) => (
          <AccountCard key={sa.id} account={sa} editable={editable} showTenant={provider && !tenantId} />
        ))}
        {editable && accounts.length === 0 && <ConfigureForm tenantId={tenantId} />}
      </Stack>
    </>
  );
}

function AccountCard({ account, editable, showTenant }: { account: Account; editable: boolean; showTenant: boolean }) {
  const [managed, setManaged] = useState(() => new Set(account.virtualAccounts.filter((v) => v.managed).map((v) => v.id)));
  const [save, { loading, error }] = useMutation(SetManagedVirtualAccounts, { refetchQueries: ['SmartAccounts', 'TenantDashboard'] });
  return (
    <Card withBorder component="section" aria-label={`Smart account ${account.name}`}>
      <Title order={2} size="h4">
        {account.name}
      </Title>
      <Text size="sm" c="dimmed" mb="sm">
        {account.domain} · account id {account.accountId}
        {showTenant ? ` · ${account.tenant.name}` : ''}
      </Text>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          save({ variables: { input: { tenantId: account.tenant.id, virtualAccountIds: [...managed] } } })
            .then(() => notifications.show({ color: 'green', title: 'Saved', message: 'Managed virtual accounts saved' }))
            .catch(() => undefined);
        }}
      >
        <fieldset style={{ border: 0, padding: 0, margin: 0 }}>
          <legend>
            <Text fw={600} size="sm">
              Virtual accounts managed here
            </Text>
          </legend>
          <Stack gap={6} mt="xs">
            {account.virtualAccounts.map((va) => (
              <Checkbox
                key={va.id}
                label={`${va.name} (${va.externalId})`}
                checked={managed.has(va.id)}
                disabled={!editable}
                onChange={(e) => {
                  const next = new Set(managed);
                  if (e.currentTarget.checked) next.add(va.id);
                  else next.delete(va.id);
                  setManaged(next);
                }}
              />
            ))}
          </Stack>
        </fieldset>
        <ErrorAlert error={error} />
        {editable && (
          <Button type="submit" mt="sm" loading={loading}>
            Save managed virtual accounts
          </Button>
        )}
      </form>
    </Card>
  );
}

function ConfigureForm({ tenantId }: { tenantId: string | undefined }) {
  const [domain, setDomain] = useState('');
  const [name, setName] = useState('');
  const [accountId, setAccountId] = useState('');
  const [vaText, setVaText] = useState('');
  const [configure, { loading, error }] = useMutation(ConfigureSmartAccount, { refetchQueries: ['SmartAccounts'] });
  return (
    <Card withBorder component="section" aria-label="Record the smart account">
      <form
        onSubmit={(e) => {
          e.preventDefault();
          const virtualAccounts = vaText
            .split(',')
            .map((s) => s.trim())
            .filter(Boolean)
            .map((n, i) => ({ externalId: `va-${i + 1}`, name: n }));
          void configure({ variables: { input: { tenantId, domain, name, accountId, virtualAccounts } } }).catch(() => undefined);
        }}
      >
        <Stack>
          <Title order={2} size="h4">
            Record the smart account
          </Title>
          <Group grow wrap="wrap">
            <TextInput label="Domain" placeholder="acme.example" required value={domain} onChange={(e) => setDomain(e.currentTarget.value)} />
            <TextInput label="Name" required value={name} onChange={(e) => setName(e.currentTarget.value)} />
            <TextInput label="Account id" required value={accountId} onChange={(e) => setAccountId(e.currentTarget.value)} />
          </Group>
          <TextInput label="Virtual accounts" description="Names, separated by commas" value={vaText} onChange={(e) => setVaText(e.currentTarget.value)} />
          <ErrorAlert error={error} />
          <Group>
            <Button type="submit" loading={loading}>
              Record smart account
            </Button>
          </Group>
        </Stack>
      </form>
    </Card>
  );
}
