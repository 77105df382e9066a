import { useMutation, useQuery } from '@apollo/client/react';
import { Badge, Button, SegmentedControl, Table, Text } from '@mantine/core';
import { useState } from 'react';
import { graphql } from '../../gql';
import { formatDateTime, words } from '../../app/format';
import { useCursorPager } from '../../app/paging';
import { useTenantScope } from '../../app/scope';
import { ErrorAlert, Loading, PageHeader, Pager, ScrollRegion } from '../../app/ui';

const AlertsQuery = graphql(`
  query Alerts($tenantId: ID, $active: Boolean, $after: String) {
    alerts(tenantId: $tenantId, active: $active, first: 50, after: $after) {
      totalCount
      pageInfo {
        hasNextPage
        endCursor
      }
      edges {
        node {
          id
          kind
          severity
          message
          raisedAt
          acknowledgedAt
          acknowledgedBy
          resolvedAt
          active
          tenant {
            id
            name
          }
        }
      }
    }
  }
`);

const AcknowledgeAlert = graphql(`
  mutation AcknowledgeAlert($id: ID!) {
    acknowledgeAlert(id: $id) {
      id
      acknowledgedAt
      acknowledgedBy
      active
    }
  }
`);

const SEVERITY_COLOR = { CRITICAL: 'red', WARNING: 'orange', INFO: 'blue' } as const;

export default function AlertsPage() {
  const { tenantId, provider } = useTenantScope();
  const [show, setShow] = useState<'active' | 'all'>('active');
  const pager = useCursorPager();
  const { data, error, loading } = useQuery(AlertsQuery, { variables: { tenantId, active: show === 'active' ? true : null, after: pager.after } });
  const [acknowledge, ack] = useMutation(AcknowledgeAlert);
  const alerts = data?.alerts.edges.map((e) => e.node) ?? [];

  return (
    <>
      <PageHeader title="Alerts">
        <SegmentedControl
          aria-label="Which alerts"
          value={show}
          onChange={(v) => {
            setShow(v as 'active' | 'all');
            pager.reset();
          }}
          data={[
            { value: 'active', label: 'Active' },
            { value: 'all', label: 'All' },
          ]}
        />
      </PageHeader>
      <ErrorAlert error={error ?? ack.error} />
      {loading && !data && <Loading />}
      {data && alerts.length === 0 && <Text>No {show === 'active' ? 'active ' : ''}alerts.</Text>}
      {alerts.length > 0 && (
        <ScrollRegion minWidth={700} label="Alerts (scrolls sideways)">
          <Table striped aria-label="Alerts">
            <Table.Thead>
              <Table.Tr>
                <Table.Th>Severity</Table.Th>
                <Table.Th>Alert</Table.Th>
                {provider && !tenantId && <Table.Th>Tenant</Table.Th>}
                <Table.Th>Raised</Table.Th>
                <Table.Th>State</Table.Th>
                <Table.Th>Action</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {alerts.map((a) => (
                <Table.Tr key={a.id}>
                  <Table.Td>
                    <Badge color={SEVERITY_COLOR[a.severity]} variant="light">
                      {words(a.severity)}
                    </Badge>
                  </Table.Td>
                  <Table.Td>
                    <Text fw={600} size="sm">
                      {words(a.kind)}
                    </Text>
                    <Text size="sm">{a.message}</Text>
                  </Table.Td>
                  {provider && !tenantId && <Table.Td>{a.tenant?.name ?? 'Instance'}</Table.Td>}
                  <Table.Td>{formatDateTime(a.raisedAt)}</Table.Td>
                  <Table.Td>{a.resolvedAt ? `Resolved ${formatDateTime(a.resolvedAt)}` : a.acknowledgedAt ? `Acknowledged by ${a.acknowledgedBy}` : 'Open'}</Table.Td>
                  <Table.Td>
                    {a.active && !a.acknowledgedAt && (
                      <Button size="xs" variant="light" onClick={() => void acknowledge({ variables: { id: a.id } }).catch(() => undefined)} aria-label={`Acknowledge ${words(a.kind)}: ${a.message}`}>
                        Acknowledge
                      </Button>
                    )}
                  </Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </ScrollRegion>
      )}
      {data && <Pager page={pager.page} hasNext={data.alerts.pageInfo.hasNextPage} onPrev={pager.prev} onNext={() => pager.next(data.alerts.pageInfo.endCursor)} total={data.alerts.totalCount} label="alerts" />}
    </>
  );
}
