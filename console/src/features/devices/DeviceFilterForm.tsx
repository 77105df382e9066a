import { useQuery } from '@apollo/client/react';
import { Button, Group, Select, SimpleGrid, TextInput } from '@mantine/core';
import { useState } from 'react';
import { graphql } from '../../gql';
import type { DeviceFilter } from '../../gql/graphql';
import { REASON_WORDS } from '../../app/format';

const DeviceFilterOptions = graphql(`
  query DeviceFilterOptions($tenantId: ID) {
    entitlements {
      id
      tag
      displayName
      assignable
    }
    smartAccounts(tenantId: $tenantId) {
      id
      name
      virtualAccounts {
        id
        name
        managed
      }
    }
  }
`);

const yesNo = (yes: string, no: string) => [
  { value: 'true', label: yes },
  { value: 'false', label: no },
];
const bool = (v: string | null): boolean | undefined => (v === null ? undefined : v === 'true');
const boolText = (v: boolean | null | undefined): string | null => (v === undefined || v === null ? null : String(v));

/** Every field of the API's DeviceFilter; applied on submit. */
export function DeviceFilterForm({ tenantId, value, onApply }: { tenantId: string | undefined; value: DeviceFilter; onApply: (f: DeviceFilter) => void }) {
  const [f, setF] = useState<DeviceFilter>(value);
  const { data } = useQuery(DeviceFilterOptions, { variables: { tenantId } });
  const set = <K extends keyof DeviceFilter>(key: K, v: DeviceFilter[K] | null) => setF((old) => ({ ...old, [key]: v ?? undefined }));
  const text = (key: 'search' | 'model' | 'siteId' | 'softwareVersion', label: string, placeholder?: string) => (
    <TextInput label={label} placeholder={placeholder} value={(f[key] as string | undefined) ?? ''} onChange={(e) => set(key, e.currentTarget.value || undefined)} />
  );
  const vas = (data?.smartAccounts ?? []).flatMap((sa) => sa.virtualAccounts.map((va) => ({ value: va.id, label: `${va.name} (${sa.name})` })));

  return (
    <form
      aria-label="Filter devices"
      onSubmit={(e) => {
        e.preventDefault();
        onApply(f);
      }}
    >
      <SimpleGrid cols={{ base: 1, xs: 2, md: 4 }} spacing="xs" verticalSpacing="xs">
        {text('search', 'Search', 'Hostname, uuid or system IP')}
        <Select label="Licensed" placeholder="Any" clearable data={yesNo('Licensed', 'Unlicensed')} value={boolText(f.licensed)} onChange={(v) => set('licensed', bool(v))} />
        <Select
          label="Compliance"
          placeholder="Any"
          clearable
          data={[
            { value: 'COMPLIANT', label: 'Compliant' },
            { value: 'OUT_OF_COMPLIANCE', label: 'Out of compliance' },
          ]}
          value={f.complianceStatus ?? null}
          onChange={(v) => set('complianceStatus', v as DeviceFilter['complianceStatus'])}
        />
        <Select
          label="Compliance reason"
          placeholder="Any"
          clearable
          data={Object.entries(REASON_WORDS).map(([value, label]) => ({ value, label }))}
          value={f.complianceReason ?? null}
          onChange={(v) => set('complianceReason', v as DeviceFilter['complianceReason'])}
        />
        <Select
          label="Kind"
          placeholder="Any"
          clearable
          data={[
            { value: 'IOS_XE_SDWAN', label: 'IOS XE SD-WAN' },
            { value: 'VEDGE', label: 'vEdge' },
          ]}
          value={f.kind ?? null}
          onChange={(v) => set('kind', v as DeviceFilter['kind'])}
        />
        <Select
          label="Mode"
          placeholder="Any"
          clearable
          data={[
            { value: 'CONTROLLER', label: 'Controller' },
            { value: 'AUTONOMOUS', label: 'Autonomous' },
          ]}
          value={f.mode ?? null}
          onChange={(v) => set('mode', v as DeviceFilter['mode'])}
        />
        {text('model', 'Model', 'e.g. C8000V')}
        {text('softwareVersion', 'Software version', 'e.g. 17.9.4')}
        {text('siteId', 'Site id')}
        <Select label="HSEC compatible" placeholder="Any" clearable data={yesNo('Yes', 'No')} value={boolText(f.hsecCompatible)} onChange={(v) => set('hsecCompatible', bool(v))} />
        <Select
          label="Holds entitlement"
          placeholder="Any"
          clearable
          searchable
          data={(data?.entitlements ?? []).map((e) => ({ value: e.tag, label: e.displayName }))}
          value={f.entitlementTag ?? null}
          onChange={(v) => set('entitlementTag', v)}
        />
        <Select
          label="Billing type held"
          placeholder="Any"
          clearable
          data={[
            { value: 'PREPAID', label: 'Prepaid' },
            { value: 'POSTPAID', label: 'Postpaid' },
          ]}
          value={f.billingType ?? null}
          onChange={(v) => set('billingType', v as DeviceFilter['billingType'])}
        />
        <Select label="Virtual account" placeholder="Any" clearable data={vas} value={f.virtualAccountId ?? null} onChange={(v) => set('virtualAccountId', v)} />
        <Select label="Decommissioned" placeholder="In service" clearable data={yesNo('Decommissioned only', 'In service')} value={boolText(f.decommissioned)} onChange={(v) => set('decommissioned', bool(v))} />
      </SimpleGrid>
      <Group mt="sm" gap="xs">
        <Button type="submit">Apply filter</Button>
        <Button
          variant="default"
          onClick={() => {
            setF({});
            onApply({});
          }}
        >
          Clear filter
        </Button>
      </Group>
    </form>
  );
}
