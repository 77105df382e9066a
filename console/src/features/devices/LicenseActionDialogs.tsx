import { useMutation } from '@apollo/client/react';
import { Alert, Button, Group, Modal, SegmentedControl, Select, Stack, Text } from '@mantine/core';
import { useState } from 'react';
import { graphql } from '../../gql';
import type { DeviceFilter } from '../../gql/graphql';
import { ErrorAlert } from '../../app/ui';

const AssignLicenses = graphql(`
  mutation AssignLicenses($input: AssignLicensesInput!) {
    assignLicenses(input: $input) {
      assigned
      replaced
      unchanged
      pending
      replayed
    }
  }
`);
const ReleaseLicenses = graphql(`
  mutation ReleaseLicenses($input: ReleaseLicensesInput!) {
    releaseLicenses(input: $input) {
      released
      unchanged
      replayed
    }
  }
`);
const DecommissionDevices = graphql(`
  mutation DecommissionDevices($input: DecommissionDevicesInput!) {
    decommissionDevices(input: $input) {
      decommissioned
      alreadyDecommissioned
      releasedAssignments
      replayed
    }
  }
`);

/** Which devices an action applies to: picked ids, or every device the filter matches. */
export type Target = { tenantId?: string; count: number } & ({ deviceIds: string[] } | { filter: DeviceFilter });

const REFRESH = ['Devices', 'TenantDashboard', 'TenantsOverview', 'Alerts'];

function targetInput(target: Target) {
  return 'deviceIds' in target ? { tenantId: target.tenantId, deviceIds: target.deviceIds } : { tenantId: target.tenantId, filter: target.filter };
}

/**
 * One idempotency key per opened dialog: pressing the button twice (or a retry after a lost answer)
 * sends the same key, and the server applies the change once and answers the retry with the first result.
 */
function useIdempotencyKey(): string {
  const [key] = useState(() => crypto.randomUUID());
  return key;
}

/** What the server did, and the button that closes the dialog. */
function Done({ title, children, onClose }: { title: string; children: React.ReactNode; onClose: () => void }) {
  return (
    <>
      <Alert color="green" title={title} role="status">
        {children}
      </Alert>
      <Group justify="flex-end">
        <Button onClick={onClose} data-autofocus>
          Close
        </Button>
      </Group>
    </>
  );
}

/** Cancel and the submit button (disabled while the request runs: see useIdempotencyKey for a double click). */
function Buttons({ label, color, loading, onClose, onSubmit }: { label: string; color?: string; loading: boolean; onClose: () => void; onSubmit?: () => void }) {
  return (
    <Group justify="flex-end">
      <Button variant="default" onClick={onClose}>
        Cancel
      </Button>
      <Button type={onSubmit ? 'button' : 'submit'} color={color} loading={loading} onClick={onSubmit}>
        {label}
      </Button>
    </Group>
  );
}

function DialogFrame({ title, onClose, children }: { title: string; onClose: () => void; children: React.ReactNode }) {
  return (
    <Modal opened onClose={onClose} title={title} size="lg">
      <Stack>{children}</Stack>
    </Modal>
  );
}

export function AssignDialog({ target, onClose }: { target: Target; onClose: () => void }) {
  const idempotencyKey = useIdempotencyKey();
  const [kind, setKind] = useState<'DNA' | 'HSEC'>('DNA');
  const [level, setLevel] = useState<string | null>('ADVANTAGE');
  const [tier, setTier] = useState<string | null>('T1');
  const [billing, setBilling] = useState<string | null>(null);
  const [assign, { data, loading, error }] = useMutation(AssignLicenses, { refetchQueries: REFRESH, awaitRefetchQueries: true });
  const result = data?.assignLicenses;
  const submit = () =>
    void assign({
      variables: {
        input: {
          ...targetInput(target),
          ...(kind === 'HSEC' ? { hsec: true } : { level: level as 'ADVANTAGE', tier: tier as 'T1' }),
          billingType: (billing as 'PREPAID' | 'POSTPAID' | null) ?? undefined,
          idempotencyKey,
        },
      },
    }).catch(() => undefined);
  return (
    <DialogFrame title={`Assign a license to ${target.count} device${target.count === 1 ? '' : 's'}`} onClose={onClose}>
      {!result && (
        <form
          onSubmit={(e) => {
            e.preventDefault();
            submit();
          }}
        >
          <Stack>
            <SegmentedControl
              aria-label="License"
              value={kind}
              onChange={(v) => setKind(v as 'DNA' | 'HSEC')}
              data={[
                { value: 'DNA', label: 'DNA routing' },
                { value: 'HSEC', label: 'HSEC (high security)' },
              ]}
            />
            {kind === 'DNA' && (
              <Group grow>
                <Select
                  label="Level"
                  allowDeselect={false}
                  data={[
                    { value: 'ESSENTIALS', label: 'Essentials' },
                    { value: 'ADVANTAGE', label: 'Advantage' },
                    { value: 'PREMIER', label: 'Premier' },
                  ]}
                  value={level}
                  onChange={setLevel}
                />
                <Select
                  label="Tier"
                  allowDeselect={false}
                  data={[
                    { value: 'T0', label: 'Tier 0 (15 Mbps)' },
                    { value: 'T1', label: 'Tier 1 (100 Mbps)' },
                    { value: 'T2', label: 'Tier 2 (1 Gbps)' },
                    { value: 'T3', label: 'Tier 3 (10 Gbps)' },
                  ]}
                  value={tier}
                  onChange={setTier}
                />
              </Group>
            )}
            <Select
              label="Billing type"
              placeholder="Prepaid first, then postpaid"
              clearable
              data={[
                { value: 'PREPAID', label: 'Prepaid only' },
                { value: 'POSTPAID', label: 'Postpaid only' },
              ]}
              value={billing}
              onChange={setBilling}
            />
            <ErrorAlert error={error} />
            <Buttons label="Assign" loading={loading} onClose={onClose} />
          </Stack>
        </form>
      )}
      {result && (
        <Done title="Licenses assigned" onClose={onClose}>
          {result.assigned} assigned, {result.replaced} replaced, {result.unchanged} already held it, {result.pending} waiting for a license line.
        </Done>
      )}
    </DialogFrame>
  );
}

export function ReleaseDialog({ target, onClose }: { target: Target; onClose: () => void }) {
  const idempotencyKey = useIdempotencyKey();
  const [category, setCategory] = useState<string | null>(null);
  const [release, { data, loading, error }] = useMutation(ReleaseLicenses, { refetchQueries: REFRESH, awaitRefetchQueries: true });
  const result = data?.releaseLicenses;
  return (
    <DialogFrame title={`Release licenses of ${target.count} device${target.count === 1 ? '' : 's'}`} onClose={onClose}>
      {!result ? (
        <form
          onSubmit={(e) => {
            e.preventDefault();
            void release({ variables: { input: { ...targetInput(target), category: (category as 'DNA' | 'HSEC' | null) ?? undefined, idempotencyKey } } }).catch(() => undefined);
          }}
        >
          <Stack>
            <Select
              label="Which licenses"
              placeholder="All they hold"
              clearable
              data={[
                { value: 'DNA', label: 'DNA only' },
                { value: 'HSEC', label: 'HSEC only' },
              ]}
              value={category}
              onChange={setCategory}
            />
            <ErrorAlert error={error} />
            <Buttons label="Release" color="orange" loading={loading} onClose={onClose} />
          </Stack>
        </form>
      ) : (
        <Done title="Licenses released" onClose={onClose}>
          {result.released} released, {result.unchanged} held nothing to release.
        </Done>
      )}
    </DialogFrame>
  );
}

export function DecommissionDialog({ target, onClose }: { target: Target; onClose: () => void }) {
  const idempotencyKey = useIdempotencyKey();
  const [decommission, { data, loading, error }] = useMutation(DecommissionDevices, { refetchQueries: REFRESH, awaitRefetchQueries: true });
  const result = data?.decommissionDevices;
  return (
    <DialogFrame title={`Decommission ${target.count} device${target.count === 1 ? '' : 's'}`} onClose={onClose}>
      {!result ? (
        <>
          <Text size="sm">Their licenses are released and they are retired. Their history stays readable; registering a router again brings it back as a new device.</Text>
          <ErrorAlert error={error} />
          <Buttons label="Decommission" color="red" loading={loading} onClose={onClose} onSubmit={() => void decommission({ variables: { input: { ...targetInput(target), idempotencyKey } } }).catch(() => undefined)} />
        </>
      ) : (
        <Done title="Devices decommissioned" onClose={onClose}>
          {result.decommissioned} decommissioned ({result.alreadyDecommissioned} were already), {result.releasedAssignments} licenses released.
        </Done>
      )}
    </DialogFrame>
  );
}
