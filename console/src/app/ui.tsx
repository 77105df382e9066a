import { Alert, Button, Group, Loader, Table, Text, Title } from '@mantine/core';
import type { ReactNode } from 'react';
import { describeError } from './errors';

/** An error as the person reads it: the plain-words title, the server's detail, and per-device refusals. */
export function ErrorAlert({ error, title }: { error: unknown; title?: string }) {
  if (!error) return null;
  const problem = describeError(error);
  return (
    <Alert color="red" role="alert" title={title ?? problem.title} data-code={problem.code}>
      {title && <Text size="sm">{problem.title}</Text>}
      {problem.detail && (
        <Text size="sm" c="dimmed">
          {problem.detail}
        </Text>
      )}
      {problem.devices && (
        <Table mt="sm" aria-label="Devices refused">
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Device</Table.Th>
              <Table.Th>Why</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {problem.devices.slice(0, 50).map((d) => (
              <Table.Tr key={d.deviceId}>
                <Table.Td>{d.hostname}</Table.Td>
                <Table.Td>{d.message}</Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      )}
    </Alert>
  );
}

/** A wide table on a narrow screen: a labelled region that scrolls sideways and takes keyboard focus. */
export function ScrollRegion({ minWidth, label, children, mt }: { minWidth: number; label: string; children: ReactNode; mt?: string }) {
  return (
    <div role="region" aria-label={label} tabIndex={0} className="scroll-region" style={{ overflowX: 'auto', marginTop: mt ? `var(--mantine-spacing-${mt})` : undefined }}>
      <div style={{ minWidth }}>{children}</div>
    </div>
  );
}

export function PageHeader({ title, children }: { title: string; children?: ReactNode }) {
  return (
    <Group justify="space-between" mb="md" wrap="wrap">
      <Title order={1} size="h2">
        {title}
      </Title>
      {children && <Group gap="xs">{children}</Group>}
    </Group>
  );
}

export function Loading({ label = 'Loading' }: { label?: string }) {
  return (
    <Group gap="xs" role="status" aria-live="polite">
      <Loader size="sm" aria-hidden />
      <Text size="sm">{label}…</Text>
    </Group>
  );
}

export function Pager({ page, hasNext, onPrev, onNext, total, label }: { page: number; hasNext: boolean; onPrev: () => void; onNext: () => void; total?: number; label: string }) {
  return (
    <Group justify="space-between" mt="sm">
      <Text size="sm" aria-live="polite">
        {total !== undefined ? `${total} ${label}` : ''} · page {page}
      </Text>
      <Group gap="xs">
        <Button variant="default" size="xs" onClick={onPrev} disabled={page <= 1}>
          Previous page
        </Button>
        <Button variant="default" size="xs" onClick={onNext} disabled={!hasNext}>
          Next page
        </Button>
      </Group>
    </Group>
  );
}

/** Shown by tenant screens when a provider has not chosen a tenant and the screen needs one. */
export function ChooseTenant() {
  return (
    <Alert color="blue" title="Choose a tenant">
      Pick a tenant in the header to see this screen for it.
    </Alert>
  );
}
