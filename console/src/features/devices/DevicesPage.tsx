import { useQuery } from '@apollo/client/react';
import { Alert, Anchor, Badge, Button, Checkbox, Group, Table, Text } from '@mantine/core';
import { useState } from 'react';
import { graphql } from '../../gql';
import type { DeviceFilter } from '../../gql/graphql';
import { authHeaders } from '../../app/auth/session';
import { describeError, parseBodyError } from '../../app/errors';
import { REASON_WORDS, words } from '../../app/format';
import { useCursorPager } from '../../app/paging';
import { useTenantScope } from '../../app/scope';
import { ErrorAlert, Loading, PageHeader, Pager, ScrollRegion } from '../../app/ui';
import { permissions, useViewer } from '../../app/viewer';
import { cleanFilter, filterToSearchParams } from './device-filter';
import { DeviceFilterForm } from './DeviceFilterForm';
import { AssignDialog, DecommissionDialog, ReleaseDialog, type Target } from './LicenseActionDialogs';

const DevicesQuery = graphql(`
  query Devices($tenantId: ID, $filter: DeviceFilter, $after: String) {
    devices(tenantId: $tenantId, filter: $filter, first: 50, after: $after) {
      totalCount
      pageInfo {
        hasNextPage
        endCursor
      }
      edges {
        node {
          id
          hostname
          uuid
          model
          kind
          mode
          softwareVersion
          siteId
          state
          tenant {
            id
            name
          }
          complianceStatus
          complianceReasons
          assignments {
            id
            status
            entitlement {
              id
              displayName
            }
            license {
              id
              billingType
            }
          }
        }
      }
    }
  }
`);

type Dialog = { kind: 'assign' | 'release' | 'decommission'; target: Target } | null;

export default function DevicesPage() {
  const { tenantId, provider } = useTenantScope();
  const viewer = useViewer();
  const can = permissions(viewer.role);
  const [filter, setFilter] = useState<DeviceFilter>({});
  const pager = useCursorPager();
  const { data, error, loading } = useQuery(DevicesQuery, { variables: { tenantId, filter, after: pager.after } });
  const [picked, setPicked] = useState<Set<string>>(new Set());
  const [allMatching, setAllMatching] = useState(false);
  const [dialog, setDialog] = useState<Dialog>(null);
  const [exportError, setExportError] = useState<unknown>();
  const devices = data?.devices.edges.map((e) => e.node) ?? [];
  const total = data?.devices.totalCount ?? 0;
  const pageIds = devices.map((d) => d.id);
  const pageAllPicked = pageIds.length > 0 && pageIds.every((id) => picked.has(id));
  const count = allMatching ? total : picked.size;
  const target: Target = allMatching ? { tenantId, filter, count } : { tenantId, deviceIds: [...picked], count };
  // Bulk actions name one tenant's devices; a provider chooses the tenant first.
  const actionsAllowed = !provider || !!tenantId;

  const applyFilter = (f: DeviceFilter) => {
    setFilter(cleanFilter(f));
    pager.reset();
    setPicked(new Set());
    setAllMatching(false);
  };

  const exportCsv = async () => {
    setExportError(undefined);
    try {
      const res = await fetch(`/files/devices.csv?${filterToSearchParams(filter, tenantId)}`, { headers: authHeaders() });
      if (!res.ok) throw parseBodyError(await res.text()) ?? new Error(`HTTP ${res.status}`);
      const url = URL.createObjectURL(await res.blob());
      const a = document.createElement('a');
      a.href = url;
      a.download = 'devices.csv';
      a.click();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
    } catch (e) {
      setExportError(e);
    }
  };

  return (
    <>
      <PageHeader title="Devices">
        <Button variant="default" onClick={() => void exportCsv()}>
          Export CSV
        </Button>
      </PageHeader>
      <DeviceFilterForm tenantId={tenantId} value={filter} onApply={applyFilter} />
      <ErrorAlert error={error ?? exportError} title={exportError ? `Export failed: ${describeError(exportError).title}` : undefined} />

      <Group my="sm" gap="xs" wrap="wrap" aria-label="Bulk actions" role="group">
        <Text size="sm" aria-live="polite" data-testid="selection-summary">
          {count > 0 ? `${count} selected` : 'No device selected'}
          {allMatching ? ' (all matching the filter)' : ''}
        </Text>
        {actionsAllowed && (
          <>
            <Button size="xs" disabled={count === 0} onClick={() => setDialog({ kind: 'assign', target })}>
              Assign license
            </Button>
            <Button size="xs" variant="light" color="orange" disabled={count === 0} onClick={() => setDialog({ kind: 'release', target })}>
              Release licenses
            </Button>
            {can.administer && (
              <Button size="xs" variant="light" color="red" disabled={count === 0} onClick={() => setDialog({ kind: 'decommission', target })}>
                Decommission
              </Button>
            )}
          </>
        )}
        {!actionsAllowed && <Text size="sm" c="dimmed">Choose a tenant in the header to assign or release licenses.</Text>}
      </Group>

      {pageAllPicked && !allMatching && total > pageIds.length && (
        <Alert color="blue" mb="sm">
          All {pageIds.length} devices on this page are selected.{' '}
          <Anchor component="button" type="button" onClick={() => setAllMatching(true)}>
            Select all {total} devices matching the filter
          </Anchor>
        </Alert>
      )}
      {allMatching && (
        <Alert color="blue" mb="sm">
          All {total} devices matching the filter are selected.{' '}
          <Anchor
            component="button"
            type="button"
            onClick={() => {
              setAllMatching(false);
              setPicked(new Set());
            }}
          >
            Clear selection
          </Anchor>
        </Alert>
      )}

      {loading && !data && <Loading />}
      {data && (
        <ScrollRegion minWidth={900} label="Devices (scrolls sideways)">
          <Table striped highlightOnHover aria-label="Devices">
            <Table.Thead>
              <Table.Tr>
                <Table.Th>
                  <Checkbox
                    aria-label="Select every device on this page"
                    checked={allMatching || pageAllPicked}
                    indeterminate={!allMatching && !pageAllPicked && pageIds.some((id) => picked.has(id))}
                    onChange={(e) => {
                      setAllMatching(false);
                      const next = new Set(picked);
                      for (const id of pageIds) {
                        if (e.currentTarget.checked) next.add(id);
                        else next.delete(id);
                      }
                      setPicked(next);
                    }}
                  />
                </Table.Th>
                <Table.Th>Hostname</Table.Th>
                {provider && !tenantId && <Table.Th>Tenant</Table.Th>}
                <Table.Th>Model</Table.Th>
                <Table.Th>Kind · mode</Table.Th>
                <Table.Th>Release</Table.Th>
                <Table.Th>Site</Table.Th>
                <Table.Th>Licenses</Table.Th>
                <Table.Th>Compliance</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {devices.map((d) => (
                <Table.Tr key={d.id}>
                  <Table.Td>
                    <Checkbox
                      aria-label={`Select ${d.hostname}`}
                      checked={allMatching || picked.has(d.id)}
                      onChange={(e) => {
                        setAllMatching(false);
                        const next = new Set(picked);
                        if (e.currentTarget.checked) next.add(d.id);
                        else next.delete(d.id);
                        setPicked(next);
                      }}
                    />
                  </Table.Td>
                  <Table.Td>
                    <Text size="sm" fw={600}>
                      {d.hostname}
                    </Text>
                    <Text size="xs" c="dimmed">
                      {d.uuid}
                    </Text>
                  </Table.Td>
                  {provider && !tenantId && <Table.Td>{d.tenant.name}</Table.Td>}
                  <Table.Td>{d.model}</Table.Td>
                  <Table.Td>
                    {d.kind === 'VEDGE' ? 'vEdge' : 'IOS XE SD-WAN'} · {words(d.mode)}
                  </Table.Td>
                  <Table.Td>{d.softwareVersion}</Table.Td>
                  <Table.Td>{d.siteId ?? '—'}</Table.Td>
                  <Table.Td>
                    {d.assignments.length === 0
                      ? 'None'
                      : d.assignments.map((a) => (
                          <Text size="sm" key={a.id}>
                            {a.entitlement.displayName}
                            {a.license ? ` · ${words(a.license.billingType)}` : ''}
                            {a.status === 'PENDING_RECONCILIATION' ? ' (waiting for a license line)' : ''}
                          </Text>
                        ))}
                  </Table.Td>
                  <Table.Td>
                    {d.state === 'DECOMMISSIONED' ? (
                      <Badge color="gray">Decommissioned</Badge>
                    ) : (
                      <>
                        <Badge color={d.complianceStatus === 'COMPLIANT' ? 'green' : 'red'} variant="light">
                          {words(d.complianceStatus)}
                        </Badge>
                        {d.complianceReasons.map((r) => (
                          <Text size="xs" key={r}>
                            {REASON_WORDS[r] ?? words(r)}
                          </Text>
                        ))}
                      </>
                    )}
                  </Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </ScrollRegion>
      )}
      {data && devices.length === 0 && <Text my="sm">No device matches the filter.</Text>}
      {data && <Pager page={pager.page} hasNext={data.devices.pageInfo.hasNextPage} onPrev={pager.prev} onNext={() => pager.next(data.devices.pageInfo.endCursor)} total={total} label="devices match" />}

      {dialog && (
        <DialogSwitch
          dialog={dialog.kind}
          // Fixed when the dialog opens: the counts on the page change once the action is done.
          target={dialog.target}
          onClose={() => {
            setDialog(null);
            setPicked(new Set());
            setAllMatching(false);
          }}
        />
      )}
    </>
  );
}

function DialogSwitch({ dialog, target, onClose }: { dialog: NonNullable<Dialog>['kind']; target: Target; onClose: () => void }) {
  if (dialog === 'assign') return <AssignDialog target={target} onClose={onClose} />;
  if (dialog === 'release') return <ReleaseDialog target={target} onClose={onClose} />;
  return <DecommissionDialog target={target} onClose={onClose} />;
}
