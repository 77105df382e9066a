import { useQuery } from '@apollo/client/react';
import { Code, Table } from '@mantine/core';
import { graphql } from '../../gql';
import { formatDateTime } from '../../app/format';
import { useCursorPager } from '../../app/paging';
import { useTenantScope } from '../../app/scope';
import { ErrorAlert, Loading, PageHeader, Pager, ScrollRegion } from '../../app/ui';
import { ROLE_WORDS } from '../../app/viewer';

const AuditQuery = graphql(`
  query AuditEvents($tenantId: ID, $after: String) {
    auditEvents(tenantId: $tenantId, first: 50, after: $after) {
      totalCount
      pageInfo {
        hasNextPage
        endCursor
      }
      edges {
        node {
          id
          action
          actorSubject
          actorRole
          targetType
          targetIds
          details
          createdAt
          tenant {
            id
            name
          }
        }
      }
    }
  }
`);

export default function AuditPage() {
  const { tenantId, provider } = useTenantScope();
  const pager = useCursorPager();
  const { data, error, loading } = useQuery(AuditQuery, { variables: { tenantId, after: pager.after } });
  return (
    <>
      <PageHeader title="Audit log" />
      <ErrorAlert error={error} />
      {loading && !data && <Loading />}
      {data && (
        <ScrollRegion minWidth={900} label="Audit events (scrolls sideways)">
          <Table striped aria-label="Audit events">
            <Table.Thead>
              <Table.Tr>
                <Table.Th>When</Table.Th>
                <Table.Th>Who</Table.Th>
                {provider && !tenantId && <Table.Th>Tenant</Table.Th>}
                <Table.Th>What</Table.Th>
                <Table.Th>Details</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {data.auditEvents.edges.map(({ node: e }) => (
                <Table.Tr key={e.id}>
                  <Table.Td>{formatDateTime(e.createdAt)}</Table.Td>
                  <Table.Td>
                    {e.actorSubject}
                    <br />
                    <small>{ROLE_WORDS[e.actorRole]}</small>
                  </Table.Td>
                  {provider && !tenantId && <Table.Td>{e.tenant?.name ?? 'Provider'}</Table.Td>}
                  <Table.Td>
                    {e.action} · {e.targetType} ({e.targetIds.length})
                  </Table.Td>
                  <Table.Td>
                    {/* Wrapped, never a scroll box of its own: every detail readable without a pointer or a tab stop per row. */}
                    <Code block style={{ maxWidth: 420, whiteSpace: 'pre-wrap', overflowWrap: 'anywhere', overflow: 'visible' }}>
                      {JSON.stringify(e.details)}
                    </Code>
                  </Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </ScrollRegion>
      )}
      {data && <Pager page={pager.page} hasNext={data.auditEvents.pageInfo.hasNextPage} onPrev={pager.prev} onNext={() => pager.next(data.auditEvents.pageInfo.endCursor)} total={data.auditEvents.totalCount} label="events" />}
    </>
  );
}
