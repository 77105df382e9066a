import { useMutation, useQuery } from '@apollo/client/react';
import { Badge, Button, Checkbox, Group, Modal, Stack, Table, Text, TextInput } from '@mantine/core';
import { notifications } from '@mantine/notifications';
import { useState } from 'react';
import { graphql } from '../../gql';
import { formatDate } from '../../app/format';
import { useCursorPager } from '../../app/paging';
import { ErrorAlert, Loading, PageHeader, Pager, ScrollRegion } from '../../app/ui';
import { permissions, useViewer } from '../../app/viewer';

const TenantsQuery = graphql(`
  query Tenants($after: String) {
    tenants(first: 50, after: $after) {
      totalCount
      pageInfo {
        hasNextPage
        endCursor
      }
      edges {
        node {
          id
          uuid
          name
          slug
          status
          createdAt
          suspendedAt
        }
      }
    }
  }
`);

const CreateTenant = graphql(`
  mutation CreateTenant($input: CreateTenantInput!) {
    createTenant(input: $input) {
      id
      name
      slug
      status
    }
  }
`);
const RenameTenant = graphql(`
  mutation RenameTenant($input: UpdateTenantInput!) {
    updateTenant(input: $input) {
      id
      name
    }
  }
`);
const SuspendTenant = graphql(`
  mutation SuspendTenant($input: TenantIdInput!) {
    suspendTenant(input: $input) {
      id
      status
      suspendedAt
    }
  }
`);
const ResumeTenant = graphql(`
  mutation ResumeTenant($input: TenantIdInput!) {
    resumeTenant(input: $input) {
      id
      status
      suspendedAt
    }
  }
`);
const DeleteTenant = graphql(`
  mutation DeleteTenant($input: DeleteTenantInput!) {
    deleteTenant(input: $input) {
      id
      slug
      removedTotal
      unreportedDevices
    }
  }
`);

type TenantRow = { id: string; name: string; slug: string; status: string };

export default function TenantsPage() {
  const viewer = useViewer();
  const admin = permissions(viewer.role).manageProvider;
  const pager = useCursorPager();
  const { data, error, loading } = useQuery(TenantsQuery, { variables: { after: pager.after } });
  const [renaming, setRenaming] = useState<TenantRow | null>(null);
  const [deleting, setDeleting] = useState<TenantRow | null>(null);
  const [suspend, suspendState] = useMutation(SuspendTenant, { refetchQueries: ['Tenants', 'TenantsOverview'] });
  const [resume, resumeState] = useMutation(ResumeTenant, { refetchQueries: ['Tenants', 'TenantsOverview'] });

  return (
    <>
      <PageHeader title="Tenants" />
      {admin && <CreateTenantForm />}
      <ErrorAlert error={error ?? suspendState.error ?? resumeState.error} />
      {loading && !data && <Loading />}
      {data && (
        <ScrollRegion minWidth={700} label="Tenants (scrolls sideways)">
          <Table striped aria-label="Tenants">
            <Table.Thead>
              <Table.Tr>
                <Table.Th>Name</Table.Th>
                <Table.Th>Slug</Table.Th>
                <Table.Th>Status</Table.Th>
                <Table.Th>Created</Table.Th>
                {admin && <Table.Th>Actions</Table.Th>}
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {data.tenants.edges.map(({ node: t }) => (
                <Table.Tr key={t.id}>
                  <Table.Td>{t.name}</Table.Td>
                  <Table.Td>
                    <code>{t.slug}</code>
                  </Table.Td>
                  <Table.Td>
                    <Badge color={t.status === 'SUSPENDED' ? 'gray' : 'green'} variant="light">
                      {t.status === 'SUSPENDED' ? 'Suspended' : 'Active'}
                    </Badge>
                  </Table.Td>
                  <Table.Td>{formatDate(t.createdAt)}</Table.Td>
                  {admin && (
                    <Table.Td>
                      <Group gap={4} wrap="nowrap">
                        <Button size="xs" variant="default" onClick={() => setRenaming(t)} aria-label={`Rename ${t.name}`}>
                          Rename
                        </Button>
                        {t.status === 'SUSPENDED' ? (
                          <>
                            <Button size="xs" variant="default" onClick={() => void resume({ variables: { input: { id: t.id } } }).catch(() => undefined)} aria-label={`Resume ${t.name}`}>
                              Resume
                            </Button>
                            <Button size="xs" color="red" variant="light" onClick={() => setDeleting(t)} aria-label={`Delete ${t.name}`}>
                              Delete
                            </Button>
                          </>
                        ) : (
                          <Button size="xs" variant="default" onClick={() => void suspend({ variables: { input: { id: t.id } } }).catch(() => undefined)} aria-label={`Suspend ${t.name}`}>
                            Suspend
                          </Button>
                        )}
                      </Group>
                    </Table.Td>
                  )}
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </ScrollRegion>
      )}
      {data && <Pager page={pager.page} hasNext={data.tenants.pageInfo.hasNextPage} onPrev={pager.prev} onNext={() => pager.next(data.tenants.pageInfo.endCursor)} total={data.tenants.totalCount} label="tenants" />}
      {renaming && <RenameDialog tenant={renaming} onClose={() => setRenaming(null)} />}
      {deleting && <DeleteDialog tenant={deleting} onClose={() => setDeleting(null)} />}
    </>
  );
}

function CreateTenantForm() {
  const [name, setName] = useState('');
  const [slug, setSlug] = useState('');
  const [create, { loading, error, reset }] = useMutation(CreateTenant, { refetchQueries: ['Tenants', 'TenantsOverview', 'ShellTenants'] });
  return (
    <form
      aria-label="Create a tenant"
      onSubmit={(e) => {
        e.preventDefault();
        create({ variables: { input: { name: name.trim(), slug: slug.trim() } } })
          .then(({ data }) => {
            notifications.show({ color: 'green', title: 'Tenant created', message: `${data?.createTenant.name} (${data?.createTenant.slug})` });
            setName('');
            setSlug('');
          })
          .catch(() => undefined);
      }}
    >
      <Group align="end" mb="md" wrap="wrap">
        <TextInput label="Tenant name" required value={name} onChange={(e) => (setName(e.currentTarget.value), reset())} />
        <TextInput
          label="Slug"
          description="Lower-case letters, digits and dashes"
          required
          value={slug}
          onChange={(e) => (setSlug(e.currentTarget.value), reset())}
        />
        <Button type="submit" loading={loading}>
          Create tenant
        </Button>
      </Group>
      <ErrorAlert error={error} />
    </form>
  );
}

function RenameDialog({ tenant, onClose }: { tenant: TenantRow; onClose: () => void }) {
  const [name, setName] = useState(tenant.name);
  const [rename, { loading, error }] = useMutation(RenameTenant, { refetchQueries: ['TenantsOverview', 'ShellTenants'] });
  return (
    <Modal opened onClose={onClose} title={`Rename ${tenant.name}`}>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          rename({ variables: { input: { id: tenant.id, name: name.trim() } } })
            .then(onClose)
            .catch(() => undefined);
        }}
      >
        <Stack>
          <TextInput label="New name" required value={name} onChange={(e) => setName(e.currentTarget.value)} data-autofocus />
          <Text size="sm" c="dimmed">
            The slug ({tenant.slug}) never changes.
          </Text>
          <ErrorAlert error={error} />
          <Group justify="flex-end">
            <Button variant="default" onClick={onClose}>
              Cancel
            </Button>
            <Button type="submit" loading={loading}>
              Rename
            </Button>
          </Group>
        </Stack>
      </form>
    </Modal>
  );
}

function DeleteDialog({ tenant, onClose }: { tenant: TenantRow; onClose: () => void }) {
  const [typed, setTyped] = useState('');
  const [force, setForce] = useState(false);
  const [remove, { loading, error }] = useMutation(DeleteTenant, { refetchQueries: ['Tenants', 'TenantsOverview', 'ShellTenants'] });
  return (
    <Modal opened onClose={onClose} title={`Delete ${tenant.name}`}>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          remove({ variables: { input: { id: tenant.id, confirmSlug: typed, force } } })
            .then(({ data }) => {
              notifications.show({ color: 'green', title: 'Tenant deleted', message: `${data?.deleteTenant.slug}: ${data?.deleteTenant.removedTotal} rows removed` });
              onClose();
            })
            .catch(() => undefined);
        }}
      >
        <Stack>
          <Text size="sm">
            This removes the tenant and everything it owns, for good. Type its slug <code>{tenant.slug}</code> to confirm.
          </Text>
          <TextInput label="Slug of the tenant to delete" required value={typed} onChange={(e) => setTyped(e.currentTarget.value)} data-autofocus autoComplete="off" />
          <Checkbox label="Delete even though usage was not reported (it is then lost)" checked={force} onChange={(e) => setForce(e.currentTarget.checked)} />
          <ErrorAlert error={error} />
          <Group justify="flex-end">
            <Button variant="default" onClick={onClose}>
              Cancel
            </Button>
            <Button type="submit" color="red" loading={loading} disabled={typed !== tenant.slug}>
              Delete tenant
            </Button>
          </Group>
        </Stack>
      </form>
    </Modal>
  );
}
