import 'reflect-metadata';
import pg from 'pg';
import { Role } from '../src/auth/roles';
import { startBenchServer, writeResult } from './support';

/**
 * Bulk assignment against the raw statement, in one run (`npm run bench:assign [-- --devices 10000]`):
 * assignLicenses for N devices through HTTP, JWT and RLS, then the same rows written by one
 * hand-written set-based INSERT as the owner. Uses DATABASE_URL (a scratch database is created on it)
 * or the embedded PostgreSQL.
 */

async function main(): Promise<void> {
  const n = Number(process.argv[process.argv.indexOf('--devices') + 1]) || 10_000;
  const rounds = 3;
  const bench = await startBenchServer();
  const { db } = bench;
  const token = bench.token(Role.PROVIDER_ADMIN);
  const gql = <T>(query: string, variables: Record<string, unknown>): Promise<T> => bench.gql<T>(query, variables, token);

  const { createTenant } = await gql<{ createTenant: { id: string } }>(
    'mutation($i: CreateTenantInput!) { createTenant(input: $i) { id } }',
    { i: { name: 'Bench', slug: `bench-${Date.now()}` } },
  );
  const tenantId = createTenant.id;
  const devices = Array.from({ length: n }, (_, i) => ({
    uuid: `BENCH-${i}`, hostname: `bench-${i}`, model: 'C8000V', kind: 'IOS_XE_SDWAN', mode: 'CONTROLLER', softwareVersion: '17.9.3a',
  }));
  const { registerDevices } = await gql<{ registerDevices: { devices: { id: string }[] } }>(
    'mutation($i: RegisterDevicesInput!) { registerDevices(input: $i) { devices { id } } }',
    { i: { tenantId, devices } },
  );
  const deviceIds = registerDevices.devices.map((d) => d.id);
  const { configureSmartAccount } = await gql<{ configureSmartAccount: { virtualAccounts: { id: string }[] } }>(
    'mutation($i: ConfigureSmartAccountInput!) { configureSmartAccount(input: $i) { virtualAccounts { id } } }',
    { i: { tenantId, domain: 'bench.example', name: 'Bench', accountId: 'SA-BENCH', virtualAccounts: [{ externalId: 'VA-1', name: 'Main' }] } },
  );
  const va = configureSmartAccount.virtualAccounts[0].id;
  await gql('mutation($i: SetManagedVirtualAccountsInput!) { setManagedVirtualAccounts(input: $i) { id } }', { i: { tenantId, virtualAccountIds: [va] } });
  await gql('mutation($i: AddLicensesInput!) { addLicenses(input: $i) { id } }', {
    i: { tenantId, licenses: [{ virtualAccountId: va, entitlementTag: 'regid.2020-10.com.cisco.DSTACK_T1_A', billingType: 'PREPAID', billingModel: 'A_LA_CARTE', subscriptionId: 'SUB-BENCH', quantity: n, startDate: '2020-01-01', endDate: '2099-12-31' }] },
  });

  const owner = new pg.Client({ connectionString: db.ownerUrl });
  await owner.connect();
  const [{ tenant }] = (await owner.query<{ tenant: string }>('select tenant_id::text as tenant from smart_account limit 1')).rows;
  const apiMs: number[] = [];
  const rawMs: number[] = [];
  for (let round = 0; round < rounds; round++) {
    await owner.query('delete from assignment where tenant_id = $1', [tenant]);
    let t0 = performance.now();
    const { assignLicenses } = await gql<{ assignLicenses: { assigned: number } }>(
      'mutation($i: AssignLicensesInput!) { assignLicenses(input: $i) { assigned } }',
      { i: { tenantId, deviceIds, level: 'ADVANTAGE', tier: 'T1', billingType: 'PREPAID' } },
    );
    apiMs.push(performance.now() - t0);
    if (assignLicenses.assigned !== n) throw new Error(`assigned ${assignLicenses.assigned} of ${n}`);

    await owner.query('delete from assignment where tenant_id = $1', [tenant]);
    t0 = performance.now();
    const raw = await owner.query(
      `insert into assignment (tenant_id, device_id, entitlement_id, category, license_id, billing_type, status, assigned_by)
       select d.tenant_id, d.id, l.entitlement_id, 'DNA', l.id, 'PREPAID', 'ACTIVE', 'bench'
         from device d join license l on l.tenant_id = d.tenant_id where d.tenant_id = $1`,
      [tenant],
    );
    rawMs.push(performance.now() - t0);
    if (raw.rowCount !== n) throw new Error(`raw inserted ${raw.rowCount}`);
  }
  const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const result = {
    devices: n,
    rounds,
    assignLicensesMs: Math.round(median(apiMs)),
    rawInsertMs: Math.round(median(rawMs)),
    ratio: Number((median(apiMs) / median(rawMs)).toFixed(2)),
    allApiMs: apiMs.map(Math.round),
    allRawMs: rawMs.map(Math.round),
  };
  console.table([result]);
  writeResult('bulk-assign', result);
  await owner.end();
  await bench.close();
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
