import { useQuery } from '@apollo/client/react';
import { Badge, Group, Select, Table } from '@mantine/core';
import { useState } from 'react';
import { graphql } from '../../gql';
import type { BillingType } from '../../gql/graphql';
import { formatDate, words } from '../../app/format';
import { useCursorPager } from '../../app/paging';
import { useTenantScope } from '../../app/scope';
import { ErrorAlert, Loading, PageHeader, Pager, ScrollRegion } from '../../app/ui';

const LicensesQuery = graphql(`
  query Licenses($tenantId: ID, $billingType: BillingType, $after: String) {
    licenses(tenantId: $tenantId, billingType: $billingType, first: 50, after: $after) {
      totalCount
      pageInfo {
        hasNextPage
        endCursor
      }
      edges {
        node {
          id
          entitlement {
            id
            displayName
          }
          virtualAccount {
            id
            name
          }
          tenant {
            id
            name
          }
          billingType
          billingModel
          subscriptionId
          licenseType
          quantity
          inUse
          available
          startDate
          endDate
          expired
          source
          overAllocated
        }
      }
    }
  }
`);

export default function LicensesPage() {
  const { tenantId, provider } = useTenantScope();
  const [billing, setBilling] = useState<string | null>(null);
  const pager = useCursorPager();
  const { data, error, loading } = useQuery(LicensesQuery, { variables: { tenantId, billingType: billing as BillingType | null, after: pager.after } });
  const lines = data?.licenses.edges.map((e) => e.node) ?? [];
  return (
    <>
      <PageHeader title="License lines">
        <Select
          aria-label="Billing type"
          placeholder="All billing types"
          clearable
          data={[
            { value: 'PREPAID', label: 'Prepaid' },
            { value: 'POSTPAID', label: 'Postpaid' },
          ]}
          value={billing}
          onChange={(v) => (setBilling(v), pager.reset())}
        />
      </PageHeader>
      <ErrorAlert error={error} />
      {loading && !data && <Loading />}
      {data && (
        <ScrollRegion minWidth={1000} label="License lines (scrolls sideways)">
          <Table striped aria-label="License lines">
            <Table.Thead>
              <Table.Tr>
                <Table.Th>Entitlement</Table.Th>
                {provider && !tenantId && <Table.Th>Tenant</Table.Th>}
                <Table.Th>Virtual account</Table.Th>
                <Table.Th>Billing</Table.Th>
                <Table.Th>Subscription</Table.Th>
                <Table.Th>Purchased</Table.Th>
                <Table.Th>In use</Table.Th>
                <Table.Th>Available</Table.Th>
                <Table.Th>Term</Table.Th>
                <Table.Th>Source</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {lines.map((l) => (
                <Table.Tr key={l.id}>
                  <Table.Td>{l.entitlement.displayName}</Table.Td>
                  {provider && !tenantId && <Table.Td>{l.tenant.name}</Table.Td>}
                  <Table.Td>{l.virtualAccount.name}</Table.Td>
                  <Table.Td>
                    {words(l.billingType)} · {words(l.billingModel)}
                  </Table.Td>
                  <Table.Td>{l.subscriptionId}</Table.Td>
                  <Table.Td>{l.billingType === 'POSTPAID' ? 'by use' : l.quantity}</Table.Td>
                  <Table.Td>{l.inUse}</Table.Td>
                  <Table.Td>{l.available ?? 'not capped'}</Table.Td>
                  <Table.Td>
                    <Group gap={4}>
                      {formatDate(l.startDate)} – {formatDate(l.endDate)}
                      {l.expired && <Badge color="gray">Ended</Badge>}
                      {l.licenseType === 'DEMO' && <Badge color="grape">Demo</Badge>}
                      {l.overAllocated && <Badge color="red">Over-allocated</Badge>}
                    </Group>
                  </Table.Td>
                  <Table.Td>{l.source === 'SYNC' ? 'License server' : l.source === 'FILE' ? 'Summary file' : 'Recorded by hand'}</Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </ScrollRegion>
      )}
      {data && <Pager page={pager.page} hasNext={data.licenses.pageInfo.hasNextPage} onPrev={pager.prev} onNext={() => pager.next(data.licenses.pageInfo.endCursor)} total={data.licenses.totalCount} label="license lines" />}
    </>
  );
}
