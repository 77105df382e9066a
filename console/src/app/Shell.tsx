import { useApolloClient, useQuery } from '@apollo/client/react';
import { Anchor, AppShell, Badge, Burger, Button, Group, NavLink, Select, Text, VisuallyHidden } from '@mantine/core';
import { useDisclosure } from '@mantine/hooks';
import { Suspense, useEffect, useState } from 'react';
import { Link, useLocation } from 'wouter';
import { graphql } from '../gql';
import { LiveAlerts } from '../features/alerts/LiveAlerts';
import { AppRoutes } from './routes';
import { useScopedHref, useTenantScope } from './scope';
import { Loading } from './ui';
import { permissions, ROLE_WORDS, useViewer } from './viewer';

const ShellTenants = graphql(`
  query ShellTenants($after: String) {
    tenants(first: 100, after: $after) {
      edges {
        node {
          id
          name
          slug
        }
      }
      pageInfo {
        hasNextPage
        endCursor
      }
    }
  }
`);

interface NavItem {
  path: string;
  label: string;
}

function navItems(provider: boolean): { heading: string; items: NavItem[] }[] {
  const tenant: NavItem[] = [
    { path: provider ? '/dashboard' : '/', label: 'Dashboard' },
    { path: '/devices', label: 'Devices' },
    { path: '/licenses', label: 'License lines' },
    { path: '/accounts', label: 'Smart account' },
    { path: '/usage', label: 'Usage' },
    { path: '/offline', label: 'Offline files' },
    { path: '/audit', label: 'Audit log' },
  ];
  const common: NavItem[] = [
    { path: '/alerts', label: 'Alerts' },
    { path: '/license-server', label: 'License server' },
  ];
  if (!provider) return [{ heading: 'Tenant', items: [...tenant, ...common] }];
  return [
    { heading: 'Provider', items: [{ path: '/', label: 'Overview' }, { path: '/tenants', label: 'Tenants' }, ...common] },
    { heading: 'Tenant', items: tenant },
  ];
}

export function Shell({ onSignOut }: { onSignOut: () => void }) {
  const viewer = useViewer();
  const [opened, { toggle, close }] = useDisclosure();
  const [location] = useLocation();
  const href = useScopedHref();
  const provider = permissions(viewer.role).provider;

  return (
    <AppShell header={{ height: 60 }} navbar={{ width: 230, breakpoint: 'sm', collapsed: { mobile: !opened } }} padding="md">
      <Anchor href="#main" className="skip-link">
        Skip to content
      </Anchor>
      <AppShell.Header>
        <Group h="100%" px="md" justify="space-between" wrap="nowrap">
          <Group gap="sm" wrap="nowrap">
            <Burger opened={opened} onClick={toggle} hiddenFrom="sm" size="sm" aria-label={opened ? 'Close navigation' : 'Open navigation'} />
            <Text fw={700} visibleFrom="xs">
              SD-WAN License Manager
            </Text>
          </Group>
          <Group gap="sm" wrap="nowrap">
            {provider ? <TenantPicker /> : <Text size="sm">{viewer.tenant?.name}</Text>}
            <Badge variant="light" visibleFrom="md" aria-label={`Signed in as ${ROLE_WORDS[viewer.role]}`}>
              {ROLE_WORDS[viewer.role]}
            </Badge>
            <Button variant="default" size="xs" onClick={onSignOut}>
              Sign out
            </Button>
          </Group>
        </Group>
      </AppShell.Header>
      <AppShell.Navbar p="xs" aria-label="Main">
        {navItems(provider).map((group) => (
          <nav key={group.heading} aria-label={group.heading}>
            <Text size="xs" fw={700} c="dimmed" tt="uppercase" px="sm" mt="sm" mb={4}>
              {group.heading}
            </Text>
            {group.items.map((item) => (
              <NavLink
                key={item.path}
                component={Link}
                href={href(item.path)}
                label={item.label}
                active={location === item.path}
                aria-current={location === item.path ? 'page' : undefined}
                onClick={close}
              />
            ))}
          </nav>
        ))}
      </AppShell.Navbar>
      <AppShell.Main id="main" tabIndex={-1}>
        <LiveAlerts />
        <Suspense fallback={<Loading />}>
          <AppRoutes />
        </Suspense>
      </AppShell.Main>
    </AppShell>
  );
}

/** Providers choose which tenant the tenant screens show; "All tenants" is the provider-wide view. */
function TenantPicker() {
  const { tenantId, setTenantId } = useTenantScope();
  const client = useApolloClient();
  const { data } = useQuery(ShellTenants, { variables: { after: null } });
  const [more, setMore] = useState<{ id: string; name: string; slug: string }[]>([]);
  useEffect(() => {
    // Every tenant, 100 at a time (the API's page size), for the searchable list.
    let cancelled = false;
    let after = data?.tenants.pageInfo.hasNextPage ? data.tenants.pageInfo.endCursor : null;
    void (async () => {
      const found: { id: string; name: string; slug: string }[] = [];
      while (after && !cancelled) {
        const page = await client.query({ query: ShellTenants, variables: { after } });
        found.push(...(page.data?.tenants.edges.map((e) => e.node) ?? []));
        after = page.data?.tenants.pageInfo.hasNextPage ? page.data.tenants.pageInfo.endCursor : null;
      }
      if (!cancelled) setMore(found);
    })();
    return () => {
      cancelled = true;
    };
  }, [data, client]);
  const options = [...(data?.tenants.edges.map((e) => e.node) ?? []), ...more].map((t) => ({ value: t.id, label: `${t.name} (${t.slug})` }));
  return (
    <>
      <VisuallyHidden id="tenant-picker-label">Tenant shown</VisuallyHidden>
      <Select
        aria-labelledby="tenant-picker-label"
        placeholder="All tenants"
        data={options}
        value={tenantId ?? null}
        onChange={(v) => setTenantId(v ?? undefined)}
        searchable
        clearable
        size="xs"
        w={{ base: 150, sm: 240 }}
        comboboxProps={{ withinPortal: true }}
      />
    </>
  );
}
