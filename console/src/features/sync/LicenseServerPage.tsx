import { useMutation, useQuery } from '@apollo/client/react';
import { Badge, Button, Card, Group, NumberInput, PasswordInput, Select, SimpleGrid, Stack, Table, Text, Textarea, TextInput, Title } from '@mantine/core';
import { notifications } from '@mantine/notifications';
import { useState } from 'react';
import { graphql } from '../../gql';
import type { LicenseSyncSettingsQuery, SetLicenseSyncModeInput, SyncMode } from '../../gql/graphql';
import { formatDateTime, words } from '../../app/format';
import { useCursorPager } from '../../app/paging';
import { useTenantScope } from '../../app/scope';
import { ErrorAlert, Loading, PageHeader, Pager, ScrollRegion } from '../../app/ui';
import { permissions, useViewer } from '../../app/viewer';

const LicenseSyncSettingsQueryDoc = graphql(`
  query LicenseSyncSettings {
    licenseSyncSettings {
      mode
      serverUrl
      clientId
      hasCredentials
      proxyUrl
      hasProxyCredentials
      syncIntervalMinutes
      trustedSigningKeys {
        keyId
        publicKey
      }
      nextSyncAt
      syncRequiredDays
      prepaidReportMonths
      postpaidReportMonths
      lastSync {
        id
        status
        finishedAt
      }
    }
  }
`);
const SetLicenseSyncMode = graphql(`
  mutation SetLicenseSyncMode($input: SetLicenseSyncModeInput!) {
    setLicenseSyncMode(input: $input) {
      mode
      serverUrl
      clientId
      hasCredentials
      proxyUrl
      hasProxyCredentials
      syncIntervalMinutes
      trustedSigningKeys {
        keyId
        publicKey
      }
      syncRequiredDays
      prepaidReportMonths
      postpaidReportMonths
    }
  }
`);
const SynchronizeLicenses = graphql(`
  mutation SynchronizeLicenses($input: SynchronizeLicensesInput) {
    synchronizeLicenses(input: $input) {
      id
      status
      errorMessage
    }
  }
`);
const SyncRunsQuery = graphql(`
  query SyncRuns($tenantId: ID, $after: String) {
    syncRuns(tenantId: $tenantId, first: 25, after: $after) {
      totalCount
      pageInfo {
        hasNextPage
        endCursor
      }
      edges {
        node {
          id
          tenant {
            id
            name
          }
          mode
          trigger
          status
          startedAt
          finishedAt
          requestedBy
          linesAdded
          linesChanged
          linesRemoved
          usageReported
          errorMessage
        }
      }
    }
  }
`);

type Settings = LicenseSyncSettingsQuery['licenseSyncSettings'];

export default function LicenseServerPage() {
  const can = permissions(useViewer().role);
  const { data, error, loading } = useQuery(LicenseSyncSettingsQueryDoc);
  return (
    <>
      <PageHeader title="License server" />
      <ErrorAlert error={error} />
      {loading && !data && <Loading />}
      <Stack>
        {data && (can.manageProvider ? <SettingsForm settings={data.licenseSyncSettings} /> : <SettingsView settings={data.licenseSyncSettings} />)}
        <SyncNow />
        <SyncRuns />
      </Stack>
    </>
  );
}

function SettingsView({ settings: s }: { settings: Settings }) {
  return (
    <Card withBorder component="section" aria-label="Settings">
      <Text>
        Sync mode: <strong>{words(s.mode)}</strong>
      </Text>
      {s.mode !== 'OFFLINE' && <Text size="sm">Server: {s.serverUrl ?? '—'}</Text>}
      <Text size="sm">Next scheduled sync: {formatDateTime(s.nextSyncAt)}</Text>
      <Text size="sm">
        Reporting: sync at least every {s.syncRequiredDays} days; prepaid report every {s.prepaidReportMonths} months, postpaid every {s.postpaidReportMonths}.
      </Text>
    </Card>
  );
}

const PEM_RE = /-----BEGIN PUBLIC KEY-----[\s\S]+?-----END PUBLIC KEY-----/g;

function SettingsForm({ settings: s }: { settings: Settings }) {
  const [mode, setMode] = useState<SyncMode>(s.mode);
  const [serverUrl, setServerUrl] = useState(s.serverUrl ?? '');
  const [clientId, setClientId] = useState(s.clientId ?? '');
  const [clientSecret, setClientSecret] = useState('');
  const [proxyUrl, setProxyUrl] = useState(s.proxyUrl ?? '');
  const [proxyUsername, setProxyUsername] = useState('');
  const [proxyPassword, setProxyPassword] = useState('');
  const [interval, setInterval] = useState<number | string>(s.syncIntervalMinutes);
  const [keysText, setKeysText] = useState(s.trustedSigningKeys.map((k) => k.publicKey.trim()).join('\n'));
  const [syncRequiredDays, setSyncRequiredDays] = useState<number | string>(s.syncRequiredDays);
  const [prepaid, setPrepaid] = useState<number | string>(s.prepaidReportMonths);
  const [postpaid, setPostpaid] = useState<number | string>(s.postpaidReportMonths);
  const [save, { loading, error }] = useMutation(SetLicenseSyncMode, { refetchQueries: ['LicenseSyncSettings'] });
  const online = mode !== 'OFFLINE';

  const submit = () => {
    const input: SetLicenseSyncModeInput = { mode };
    // Only what changed: secrets are write-only and sent only when typed.
    if (online && serverUrl !== (s.serverUrl ?? '')) input.serverUrl = serverUrl;
    if (online && clientId !== (s.clientId ?? '')) input.clientId = clientId;
    if (clientSecret) input.clientSecret = clientSecret;
    if (proxyUrl !== (s.proxyUrl ?? '')) input.proxyUrl = proxyUrl || null;
    if (proxyUsername) input.proxyUsername = proxyUsername;
    if (proxyPassword) input.proxyPassword = proxyPassword;
    if (Number(interval) !== s.syncIntervalMinutes) input.syncIntervalMinutes = Number(interval);
    const keys = keysText.match(PEM_RE) ?? [];
    if (keys.join('\n') !== s.trustedSigningKeys.map((k) => k.publicKey.trim()).join('\n')) input.trustedSigningKeys = keys;
    if (Number(syncRequiredDays) !== s.syncRequiredDays) input.syncRequiredDays = Number(syncRequiredDays);
    if (Number(prepaid) !== s.prepaidReportMonths) input.prepaidReportMonths = Number(prepaid);
    if (Number(postpaid) !== s.postpaidReportMonths) input.postpaidReportMonths = Number(postpaid);
    save({ variables: { input } })
      .then(() => {
        setClientSecret('');
        setProxyPassword('');
        notifications.show({ color: 'green', title: 'Saved', message: `License server settings saved (${words(mode)})` });
      })
      .catch(() => undefined);
  };

  return (
    <Card withBorder component="section" aria-labelledby="settings-heading">
      <form
        onSubmit={(e) => {
          e.preventDefault();
          submit();
        }}
      >
        <Stack>
          <Title order={2} size="h4" id="settings-heading">
            How this instance talks to the license server
          </Title>
          <Select
            label="Sync mode"
            allowDeselect={false}
            data={[
              { value: 'ONLINE', label: 'Online (cloud license server)' },
              { value: 'ON_PREM', label: 'On-prem (SSM On-Prem server)' },
              { value: 'OFFLINE', label: 'Offline (files carried by hand)' },
            ]}
            value={mode}
            onChange={(v) => setMode(v as SyncMode)}
          />
          {online && (
            <SimpleGrid cols={{ base: 1, sm: 3 }}>
              <TextInput label="Server URL" type="url" value={serverUrl} onChange={(e) => setServerUrl(e.currentTarget.value)} />
              <TextInput label="Client id" value={clientId} onChange={(e) => setClientId(e.currentTarget.value)} />
              <PasswordInput
                label="Client secret"
                description={s.hasCredentials ? 'Set; type a new one to replace it' : 'Not set'}
                value={clientSecret}
                onChange={(e) => setClientSecret(e.currentTarget.value)}
                autoComplete="new-password"
              />
            </SimpleGrid>
          )}
          <SimpleGrid cols={{ base: 1, sm: 3 }}>
            <TextInput label="Proxy URL" placeholder="http://proxy.example:3128" value={proxyUrl} onChange={(e) => setProxyUrl(e.currentTarget.value)} />
            <TextInput label="Proxy user" description={s.hasProxyCredentials ? 'Proxy credentials set' : 'No proxy credentials'} value={proxyUsername} onChange={(e) => setProxyUsername(e.currentTarget.value)} autoComplete="off" />
            <PasswordInput label="Proxy password" value={proxyPassword} onChange={(e) => setProxyPassword(e.currentTarget.value)} autoComplete="new-password" />
          </SimpleGrid>
          <Text size="sm" c="dimmed">
            The certificate authority trusted for the license server's HTTPS is set on the server (SSM_CA_CERT).
          </Text>
          <Textarea
            label="Trusted signing keys"
            description="Ed25519 public keys (PEM) that sign offline license files; one or more BEGIN/END PUBLIC KEY blocks"
            autosize
            minRows={3}
            maxRows={10}
            value={keysText}
            onChange={(e) => setKeysText(e.currentTarget.value)}
            styles={{ input: { fontFamily: 'monospace', fontSize: 12 } }}
          />
          <SimpleGrid cols={{ base: 2, sm: 4 }}>
            <NumberInput label="Sync every (minutes)" min={5} value={interval} onChange={setInterval} />
            <NumberInput label="Sync required every (days)" min={1} value={syncRequiredDays} onChange={setSyncRequiredDays} />
            <NumberInput label="Prepaid report every (months)" min={1} value={prepaid} onChange={setPrepaid} />
            <NumberInput label="Postpaid report every (months)" min={1} value={postpaid} onChange={setPostpaid} />
          </SimpleGrid>
          <ErrorAlert error={error} />
          <Group>
            <Button type="submit" loading={loading}>
              Save settings
            </Button>
          </Group>
        </Stack>
      </form>
    </Card>
  );
}

function SyncNow() {
  const can = permissions(useViewer().role);
  const { tenantId, provider } = useTenantScope();
  const [sync, { data, loading, error }] = useMutation(SynchronizeLicenses, { refetchQueries: ['SyncRuns', 'LicenseSyncSettings'] });
  if (!can.sync) return null;
  const run = data?.synchronizeLicenses;
  return (
    <Card withBorder component="section" aria-label="Synchronise now">
      <Group>
        <Button loading={loading} disabled={provider && !tenantId} onClick={() => void sync({ variables: { input: tenantId ? { tenantId } : null } }).catch(() => undefined)}>
          Synchronise now
        </Button>
        {provider && !tenantId && <Text size="sm">Choose a tenant in the header to synchronise it.</Text>}
        {run && (
          <Text size="sm" role="status">
            Sync {words(run.status).toLowerCase()}
            {run.errorMessage ? `: ${run.errorMessage}` : ''}
          </Text>
        )}
      </Group>
      <ErrorAlert error={error} />
    </Card>
  );
}

function SyncRuns() {
  const { tenantId, provider } = useTenantScope();
  const pager = useCursorPager();
  const { data, error } = useQuery(SyncRunsQuery, { variables: { tenantId, after: pager.after } });
  return (
    <section aria-labelledby="runs-heading">
      <Title order={2} size="h4" id="runs-heading" mb="xs">
        Sync runs
      </Title>
      <ErrorAlert error={error} />
      {data && data.syncRuns.totalCount === 0 && <Text size="sm">No sync has run yet.</Text>}
      {data && data.syncRuns.totalCount > 0 && (
        <ScrollRegion minWidth={800} label="Sync runs (scrolls sideways)">
          <Table striped aria-label="Sync runs">
            <Table.Thead>
              <Table.Tr>
                <Table.Th>Started</Table.Th>
                {provider && !tenantId && <Table.Th>Tenant</Table.Th>}
                <Table.Th>How</Table.Th>
                <Table.Th>Result</Table.Th>
                <Table.Th>Lines</Table.Th>
                <Table.Th>Error</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {data.syncRuns.edges.map(({ node: r }) => (
                <Table.Tr key={r.id}>
                  <Table.Td>{formatDateTime(r.startedAt)}</Table.Td>
                  {provider && !tenantId && <Table.Td>{r.tenant.name}</Table.Td>}
                  <Table.Td>
                    {words(r.mode)} · {words(r.trigger)} · {r.requestedBy}
                  </Table.Td>
                  <Table.Td>
                    <Badge color={r.status === 'FAILED' ? 'red' : r.status === 'SUCCEEDED' ? 'green' : 'blue'} variant="light">
                      {words(r.status)}
                    </Badge>
                  </Table.Td>
                  <Table.Td>
                    +{r.linesAdded} ~{r.linesChanged} −{r.linesRemoved}
                  </Table.Td>
                  <Table.Td>{r.errorMessage ?? ''}</Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </ScrollRegion>
      )}
      {data && data.syncRuns.totalCount > 0 && <Pager page={pager.page} hasNext={data.syncRuns.pageInfo.hasNextPage} onPrev={pager.prev} onNext={() => pager.next(data.syncRuns.pageInfo.endCursor)} total={data.syncRuns.totalCount} label="runs" />}
    </section>
  );
}
