import { useQuery } from '@apollo/client/react';
import { Button, Group, Select, Table, Text } from '@mantine/core';
import { useMemo, useState } from 'react';
import { graphql } from '../../gql';
import { authHeaders } from '../../app/auth/session';
import { parseBodyError } from '../../app/errors';
import { words } from '../../app/format';
import { useTenantScope } from '../../app/scope';
import { ErrorAlert, Loading, PageHeader, ScrollRegion } from '../../app/ui';

const UsageQuery = graphql(`
  query LicenseUsage($tenantId: ID, $from: DateTime!, $to: DateTime!) {
    licenseUsage(tenantId: $tenantId, from: $from, to: $to, granularity: MONTH) {
      tenant {
        id
        name
      }
      periodStart
      entitlement {
        id
        displayName
      }
      billingType
      billingModel
      deviceDays
      peakDevices
      averageDevices
    }
  }
`);

const month = new Intl.DateTimeFormat('en-GB', { month: 'long', year: 'numeric', timeZone: 'UTC' });

/** Usage per month (the billing view): device-days, peak and average devices per entitlement and billing model. */
export default function UsagePage() {
  const { tenantId, provider } = useTenantScope();
  const [months, setMonths] = useState<string | null>('12');
  const range = useMemo(() => {
    const now = new Date();
    const to = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1));
    const from = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1 - Number(months ?? 12), 1));
    return { from: from.toISOString(), to: to.toISOString() };
  }, [months]);
  const { data, error, loading } = useQuery(UsageQuery, { variables: { tenantId, ...range } });
  const [csvError, setCsvError] = useState<unknown>();

  const downloadCsv = async () => {
    setCsvError(undefined);
    const params = new URLSearchParams({ ...range, granularity: 'MONTH', ...(tenantId ? { tenantId } : {}) });
    const res = await fetch(`/files/license-usage.csv?${params}`, { headers: authHeaders() });
    if (!res.ok) return setCsvError(parseBodyError(await res.text()) ?? new Error(`HTTP ${res.status}`));
    const a = document.createElement('a');
    a.href = URL.createObjectURL(await res.blob());
    a.download = 'license-usage-month.csv';
    a.click();
  };

  return (
    <>
      <PageHeader title="Usage per month">
        <Group gap="xs" align="end">
          <Select
            aria-label="Period"
            allowDeselect={false}
            data={[
              { value: '3', label: 'Last 3 months' },
              { value: '12', label: 'Last 12 months' },
              { value: '24', label: 'Last 24 months' },
            ]}
            value={months}
            onChange={setMonths}
          />
          <Button variant="default" onClick={() => void downloadCsv()}>
            Download CSV
          </Button>
        </Group>
      </PageHeader>
      <ErrorAlert error={error ?? csvError} />
      {loading && !data && <Loading />}
      {data && data.licenseUsage.length === 0 && <Text>No license was held in this period.</Text>}
      {data && data.licenseUsage.length > 0 && (
        <ScrollRegion minWidth={800} label="Usage per month (scrolls sideways)">
          <Table striped aria-label="Usage per month">
            <Table.Thead>
              <Table.Tr>
                <Table.Th>Month</Table.Th>
                {provider && !tenantId && <Table.Th>Tenant</Table.Th>}
                <Table.Th>Entitlement</Table.Th>
                <Table.Th>Billing</Table.Th>
                <Table.Th>Device-days</Table.Th>
                <Table.Th>Peak devices</Table.Th>
                <Table.Th>Average devices</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {data.licenseUsage.map((r, i) => (
                <Table.Tr key={`${r.periodStart}-${r.tenant.id}-${r.entitlement.id}-${r.billingModel}-${i}`}>
                  <Table.Td>{month.format(new Date(r.periodStart))}</Table.Td>
                  {provider && !tenantId && <Table.Td>{r.tenant.name}</Table.Td>}
                  <Table.Td>{r.entitlement.displayName}</Table.Td>
                  <Table.Td>
                    {words(r.billingType)} · {words(r.billingModel)}
                  </Table.Td>
                  <Table.Td>{r.deviceDays.toFixed(2)}</Table.Td>
                  <Table.Td>{r.peakDevices}</Table.Td>
                  <Table.Td>{r.averageDevices.toFixed(2)}</Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </ScrollRegion>
      )}
    </>
  );
}
