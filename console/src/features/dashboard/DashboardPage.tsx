import { useQuery } from '@apollo/client/react';
import { Card, Group, SimpleGrid, Stack, Table, Text, Title } from '@mantine/core';
import { lazy, Suspense } from 'react';
import { graphql } from '../../gql';
import { formatDate, relativeDays, REASON_WORDS, words } from '../../app/format';
import { useTenantScope } from '../../app/scope';
import { ErrorAlert, Loading, PageHeader, ScrollRegion } from '../../app/ui';

const EntitlementChart = lazy(() => import('./EntitlementChart'));

const TenantDashboardQuery = graphql(`
  query TenantDashboard($tenantId: ID) {
    licenseDashboard(tenantId: $tenantId) {
      tenant {
        id
        name
      }
      entitlements {
        entitlement {
          id
          displayName
        }
        billingType
        lines
        purchased
        inUse
        available
      }
      devices {
        total
        licensed
        unlicensed
        pendingReconciliation
      }
      compliance {
        compliant
        outOfCompliance
        reasons {
          reason
          devices
        }
      }
      expiring {
        within30Days
        within90Days
        expired
      }
      alerts {
        active
        critical
        warning
        unacknowledged
      }
      reportingClock {
        lastSyncAt
        syncDueAt
        lastPrepaidReportAt
        prepaidReportDueAt
        lastPostpaidReportAt
        postpaidReportDueAt
      }
    }
  }
`);

function Stat({ label, value, hint }: { label: string; value: number | string; hint?: string }) {
  return (
    <Card withBorder padding="sm" component="section" aria-label={label}>
      <Text size="xs" c="dimmed" tt="uppercase" fw={700}>
        {label}
      </Text>
      <Text fz={28} fw={700} data-testid={`stat-${label.toLowerCase().replace(/\W+/g, '-')}`}>
        {value}
      </Text>
      {hint && (
        <Text size="xs" c="dimmed">
          {hint}
        </Text>
      )}
    </Card>
  );
}

export default function DashboardPage() {
  const { tenantId } = useTenantScope();
  const { data, error, loading } = useQuery(TenantDashboardQuery, { variables: { tenantId } });
  const d = data?.licenseDashboard;
  const chartRows = (billing: 'PREPAID' | 'POSTPAID') =>
    (d?.entitlements ?? [])
      .filter((e) => e.billingType === billing)
      .map((e) => ({ name: e.entitlement.displayName, 'In use': e.inUse, Available: e.available ?? 0 }));
  const clock = d?.reportingClock;

  return (
    <>
      <PageHeader title={d?.tenant ? `Dashboard · ${d.tenant.name}` : 'Dashboard · all tenants'} />
      <ErrorAlert error={error} />
      {loading && !d && <Loading />}
      {d && (
        <Stack gap="lg">
          <SimpleGrid cols={{ base: 2, md: 4 }}>
            <Stat label="Devices" value={d.devices.total} />
            <Stat label="Licensed" value={d.devices.licensed} />
            <Stat label="Unlicensed" value={d.devices.unlicensed} hint={d.devices.pendingReconciliation ? `${d.devices.pendingReconciliation} waiting for a license line` : undefined} />
            <Stat label="Active alerts" value={d.alerts.active} hint={`${d.alerts.critical} critical, ${d.alerts.unacknowledged} not acknowledged`} />
          </SimpleGrid>

          <section aria-labelledby="licenses-heading">
            <Title order={2} size="h4" id="licenses-heading" mb="xs">
              Licenses: purchased, in use, available
            </Title>
            {d.entitlements.length === 0 ? (
              <Text>No license lines yet: upload a license summary file or synchronise with the license server.</Text>
            ) : (
              <>
                <SimpleGrid cols={{ base: 1, lg: 2 }}>
                  {(['PREPAID', 'POSTPAID'] as const).map((billing) =>
                    chartRows(billing).length ? (
                      <Card withBorder key={billing}>
                        <Text fw={600} mb="xs">
                          {words(billing)}
                        </Text>
                        <Suspense fallback={<Loading label="Loading chart" />}>
                          <EntitlementChart rows={chartRows(billing)} title={`${words(billing)} licenses in use and available`} />
                        </Suspense>
                      </Card>
                    ) : null,
                  )}
                </SimpleGrid>
                <ScrollRegion minWidth={600} mt="sm" label="Licenses per entitlement and billing type (scrolls sideways)">
                  <Table striped aria-label="Licenses per entitlement and billing type">
                    <Table.Thead>
                      <Table.Tr>
                        <Table.Th>Entitlement</Table.Th>
                        <Table.Th>Billing</Table.Th>
                        <Table.Th>Purchased</Table.Th>
                        <Table.Th>In use</Table.Th>
                        <Table.Th>Available</Table.Th>
                      </Table.Tr>
                    </Table.Thead>
                    <Table.Tbody>
                      {d.entitlements.map((e) => (
                        <Table.Tr key={`${e.entitlement.id}-${e.billingType}`}>
                          <Table.Td>{e.entitlement.displayName}</Table.Td>
                          <Table.Td>{words(e.billingType)}</Table.Td>
                          <Table.Td>{e.billingType === 'POSTPAID' ? 'by use' : e.purchased}</Table.Td>
                          <Table.Td>{e.inUse}</Table.Td>
                          <Table.Td>{e.available ?? 'not capped'}</Table.Td>
                        </Table.Tr>
                      ))}
                    </Table.Tbody>
                  </Table>
                </ScrollRegion>
              </>
            )}
          </section>

          <SimpleGrid cols={{ base: 1, md: 3 }}>
            <Card withBorder component="section" aria-labelledby="compliance-heading">
              <Title order={2} size="h4" id="compliance-heading" mb="xs">
                Compliance
              </Title>
              <Text>
                {d.compliance.compliant} compliant, {d.compliance.outOfCompliance} out of compliance
              </Text>
              <Stack gap={2} mt="xs">
                {d.compliance.reasons
                  .filter((r) => r.devices > 0)
                  .map((r) => (
                    <Text size="sm" key={r.reason}>
                      {REASON_WORDS[r.reason] ?? words(r.reason)}: {r.devices}
                    </Text>
                  ))}
              </Stack>
            </Card>
            <Card withBorder component="section" aria-labelledby="expiry-heading">
              <Title order={2} size="h4" id="expiry-heading" mb="xs">
                License lines ending
              </Title>
              <Text size="sm">Within 30 days: {d.expiring.within30Days}</Text>
              <Text size="sm">Within 90 days: {d.expiring.within90Days}</Text>
              <Text size="sm">Already ended: {d.expiring.expired}</Text>
            </Card>
            <Card withBorder component="section" aria-labelledby="clock-heading">
              <Title order={2} size="h4" id="clock-heading" mb="xs">
                Reporting clock
              </Title>
              {clock ? (
                <Stack gap={4}>
                  <Due label="Synchronise with the license server" last={clock.lastSyncAt} due={clock.syncDueAt} />
                  <Due label="Prepaid usage report" last={clock.lastPrepaidReportAt} due={clock.prepaidReportDueAt} />
                  <Due label="Postpaid usage report" last={clock.lastPostpaidReportAt} due={clock.postpaidReportDueAt} />
                </Stack>
              ) : (
                <Text size="sm">Choose a tenant to see its reporting clock.</Text>
              )}
            </Card>
          </SimpleGrid>
        </Stack>
      )}
    </>
  );
}

function Due({ label, last, due }: { label: string; last: string | null | undefined; due: string | null | undefined }) {
  const overdue = due ? new Date(due).getTime() < Date.now() : false;
  return (
    <Group justify="space-between" gap="xs" wrap="nowrap" align="start">
      <Text size="sm">{label}</Text>
      <Text size="sm" c={overdue ? 'red.8' : undefined} ta="right">
        {due ? `due ${formatDate(due)} (${relativeDays(due)})` : 'nothing due'}
        <br />
        <Text span size="xs" c="dimmed">
          last: {formatDate(last)}
        </Text>
      </Text>
    </Group>
  );
}
