import { useQuery } from '@apollo/client/react';
import { Anchor, Badge, Group, Pagination, Select, Table, Text, TextInput, UnstyledButton } from '@mantine/core';
import { useMemo, useState } from 'react';
import { Link } from 'wouter';
import { graphql } from '../../gql';
import { formatDate, relativeDays, REASON_WORDS } from '../../app/format';
import { ErrorAlert, Loading, PageHeader, ScrollRegion } from '../../app/ui';

const TenantsOverviewQuery = graphql(`
  query TenantsOverview {
    licenseDashboard {
      tenants {
        tenant {
          id
          name
          slug
          status
        }
        devices {
          total
          licensed
          unlicensed
          pendingReconciliation
        }
        compliance {
          outOfCompliance
          reasons {
            reason
            devices
          }
        }
        alerts {
          active
          critical
        }
        reportingClock {
          lastSyncAt
          syncDueAt
          prepaidReportDueAt
          postpaidReportDueAt
        }
      }
    }
  }
`);

type Row = {
  id: string;
  name: string;
  slug: string;
  suspended: boolean;
  total: number;
  licensed: number;
  unlicensed: number;
  outOfCompliance: number;
  reasons: { reason: string; devices: number }[];
  alerts: number;
  critical: number;
  lastSyncAt: string | null;
  nextDueAt: string | null;
};
type SortKey = 'name' | 'licensed' | 'unlicensed' | 'outOfCompliance' | 'alerts' | 'lastSyncAt' | 'nextDueAt';
const PAGE = 50;

const COLUMNS: { key: SortKey; label: string }[] = [
  { key: 'name', label: 'Tenant' },
  { key: 'licensed', label: 'Licensed' },
  { key: 'unlicensed', label: 'Unlicensed' },
  { key: 'outOfCompliance', label: 'Out of compliance' },
  { key: 'alerts', label: 'Active alerts' },
  { key: 'lastSyncAt', label: 'Last sync' },
  { key: 'nextDueAt', label: 'Next due' },
];

/** The provider's start page: one row per tenant, sortable and filterable in the browser (1,000 rows stay fast: 50 drawn at a time). */
export default function OverviewPage() {
  const { data, error, loading } = useQuery(TenantsOverviewQuery);
  const [filter, setFilter] = useState('');
  const [show, setShow] = useState<string | null>('all');
  const [sort, setSort] = useState<{ key: SortKey; desc: boolean }>({ key: 'name', desc: false });
  const [page, setPage] = useState(1);

  const rows = useMemo<Row[]>(
    () =>
      (data?.licenseDashboard.tenants ?? []).flatMap((t) => {
        if (!t.tenant) return [];
        const clock = t.reportingClock;
        const dues = [clock?.syncDueAt, clock?.prepaidReportDueAt, clock?.postpaidReportDueAt].filter((d): d is string => !!d).sort();
        return [
          {
            id: t.tenant.id,
            name: t.tenant.name,
            slug: t.tenant.slug,
            suspended: t.tenant.status === 'SUSPENDED',
            total: t.devices.total,
            licensed: t.devices.licensed,
            unlicensed: t.devices.unlicensed,
            outOfCompliance: t.compliance.outOfCompliance,
            reasons: t.compliance.reasons,
            alerts: t.alerts.active,
            critical: t.alerts.critical,
            lastSyncAt: clock?.lastSyncAt ?? null,
            nextDueAt: dues[0] ?? null,
          },
        ];
      }),
    [data],
  );

  const shown = useMemo(() => {
    const needle = filter.trim().toLowerCase();
    const kept = rows.filter(
      (r) =>
        (!needle || r.name.toLowerCase().includes(needle) || r.slug.includes(needle)) &&
        (show === 'all' || (show === 'unlicensed' && r.unlicensed > 0) || (show === 'alerts' && r.alerts > 0) || (show === 'suspended' && r.suspended)),
    );
    const dir = sort.desc ? -1 : 1;
    return kept.sort((a, b) => {
      const x = a[sort.key];
      const y = b[sort.key];
      if (x === y) return a.name.localeCompare(b.name);
      if (x === null) return 1;
      if (y === null) return -1;
      return (typeof x === 'number' && typeof y === 'number' ? x - y : String(x).localeCompare(String(y))) * dir;
    });
  }, [rows, filter, show, sort]);

  const pages = Math.max(1, Math.ceil(shown.length / PAGE));
  const current = shown.slice((Math.min(page, pages) - 1) * PAGE, Math.min(page, pages) * PAGE);

  return (
    <>
      <PageHeader title="Overview of all tenants" />
      <ErrorAlert error={error} />
      <Group mb="sm" align="end" wrap="wrap">
        <TextInput label="Filter tenants" placeholder="Name or slug" value={filter} onChange={(e) => (setFilter(e.currentTarget.value), setPage(1))} />
        <Select
          label="Show"
          value={show}
          onChange={(v) => (setShow(v), setPage(1))}
          allowDeselect={false}
          data={[
            { value: 'all', label: 'All tenants' },
            { value: 'unlicensed', label: 'With unlicensed devices' },
            { value: 'alerts', label: 'With active alerts' },
            { value: 'suspended', label: 'Suspended' },
          ]}
        />
      </Group>
      {loading && !data && <Loading />}
      {data && (
        <>
          <Text size="sm" mb="xs" aria-live="polite">
            {shown.length} of {rows.length} tenants
          </Text>
          <ScrollRegion minWidth={900} label="Tenants (scrolls sideways)">
            <Table striped highlightOnHover aria-label="Tenants">
              <Table.Thead>
                <Table.Tr>
                  {COLUMNS.map((c) => (
                    <Table.Th key={c.key} aria-sort={sort.key === c.key ? (sort.desc ? 'descending' : 'ascending') : 'none'}>
                      <UnstyledButton
                        fw={700}
                        fz="sm"
                        onClick={() => setSort((s) => ({ key: c.key, desc: s.key === c.key ? !s.desc : false }))}
                        aria-label={`Sort by ${c.label}`}
                      >
                        {c.label} {sort.key === c.key ? (sort.desc ? '▼' : '▲') : ''}
                      </UnstyledButton>
                    </Table.Th>
                  ))}
                  <Table.Th>Compliance reasons</Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {current.map((r) => (
                  <Table.Tr key={r.id}>
                    <Table.Td>
                      <Anchor component={Link} href={`/dashboard?tenant=${encodeURIComponent(r.id)}`}>
                        {r.name}
                      </Anchor>{' '}
                      <Text span size="xs" c="dimmed">
                        {r.slug}
                      </Text>
                      {r.suspended && (
                        <Badge ml="xs" color="gray" size="sm">
                          Suspended
                        </Badge>
                      )}
                    </Table.Td>
                    <Table.Td>{r.licensed}</Table.Td>
                    <Table.Td>{r.unlicensed}</Table.Td>
                    <Table.Td>{r.outOfCompliance}</Table.Td>
                    <Table.Td>
                      {r.alerts}
                      {r.critical > 0 && (
                        <Badge ml="xs" color="red" size="sm">
                          {r.critical} critical
                        </Badge>
                      )}
                    </Table.Td>
                    <Table.Td>{formatDate(r.lastSyncAt)}</Table.Td>
                    <Table.Td>
                      {formatDate(r.nextDueAt)} <Text span size="xs" c="dimmed">({relativeDays(r.nextDueAt)})</Text>
                    </Table.Td>
                    <Table.Td>{r.reasons.filter((x) => x.devices > 0).map((x) => `${REASON_WORDS[x.reason] ?? x.reason}: ${x.devices}`).join(', ') || '—'}</Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          </ScrollRegion>
          {pages > 1 && <Pagination mt="sm" total={pages} value={Math.min(page, pages)} onChange={setPage} getControlProps={(c) => ({ 'aria-label': c === 'previous' ? 'Previous page' : c === 'next' ? 'Next page' : c })} />}
        </>
      )}
    </>
  );
}
