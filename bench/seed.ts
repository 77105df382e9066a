import pg from 'pg';

export interface SeedOptions {
  tenants: number;
  devices: number;
}

export interface SeededTenant {
  id: string;
  n: number;
  devices: number;
}

export interface SeedResult {
  tenants: SeededTenant[];
  devices: number;
  licenses: number;
  assignments: number;
  ms: number;
}

/**
 * Seeds the benchmark data set with set-based SQL as the database owner, in one transaction:
 * `tenants` tenants holding `devices` devices in all (tenant 1 is the largest, 5% of the devices;
 * the rest share the remainder evenly), one smart account with one managed virtual account each,
 * 5 license lines per tenant (DNA Advantage T1, Essentials T1 and Premier T2 prepaid, Advantage T1
 * postpaid, HSEC), and a DNA license on 95% of the devices spread over the four DNA lines.
 */
export async function seed(ownerUrl: string, opts: SeedOptions): Promise<SeedResult> {
  const t0 = performance.now();
  const client = new pg.Client({ connectionString: ownerUrl });
  await client.connect();
  try {
    await client.query('begin');
    const big = opts.tenants > 1 ? Math.max(1, Math.round(opts.devices * 0.05)) : opts.devices;
    await client.query(
      `create temp table bench_tenant on commit drop as
         select n, gen_random_uuid() as id,
                case when n = 1 then $2::int
                     else ($3::int / greatest($1::int - 1, 1)) + case when n - 2 < $3::int % greatest($1::int - 1, 1) then 1 else 0 end
                end as devices
           from generate_series(1, $1::int) as n`,
      [opts.tenants, big, opts.devices - big],
    );
    await client.query(`insert into tenant (id, name, slug) select id, 'Bench tenant ' || n, 'bench-' || n from bench_tenant`);
    await client.query(
      `insert into smart_account (tenant_id, domain, name, external_id)
       select id, 'bench' || n || '.example', 'Bench ' || n, 'SA-BENCH-' || n from bench_tenant`,
    );
    await client.query(
      `insert into virtual_account (tenant_id, smart_account_id, external_id, name, managed)
       select s.tenant_id, s.id, s.external_id || '-MAIN', 'Main', true from smart_account s`,
    );
    const lines = await client.query(
      `insert into license (tenant_id, virtual_account_id, entitlement_id, billing_type, billing_model, subscription_id,
                            license_type, quantity, start_date, end_date, source)
       select t.id, va.id, e.id, k.billing_type, k.billing_model, 'SUB-' || t.n || '-' || k.k, 'TERM',
              case when k.billing_type = 'PREPAID' then t.devices / 3 + 10 else 0 end, date '2025-01-01', date '2030-12-31', 'SYNC'
         from bench_tenant t
         join virtual_account va on va.tenant_id = t.id
         cross join (values (1, 'regid.2020-10.com.cisco.DSTACK_T1_A', 'PREPAID', 'A_LA_CARTE'),
                            (2, 'regid.2020-10.com.cisco.DSTACK_T1_E', 'PREPAID', 'A_LA_CARTE'),
                            (3, 'regid.2020-10.com.cisco.DSTACK_T2_P', 'PREPAID', 'ENTERPRISE_AGREEMENT'),
                            (4, 'regid.2020-10.com.cisco.DSTACK_T1_A', 'POSTPAID', 'MSLA_U'),
                            (5, 'regid.2019-03.com.cisco.HSECK9', 'PREPAID', 'A_LA_CARTE')) as k(k, tag, billing_type, billing_model)
         join entitlement e on e.tag = k.tag`,
    );
    const devices = await client.query(
      `insert into device (tenant_id, uuid, hostname, model, kind, mode, software_version, hsec_compatible)
       select t.id, 'BENCH-' || t.n || '-' || g, 'rtr-' || t.n || '-' || lpad(g::text, 5, '0'), 'C8000V', 'IOS_XE_SDWAN',
              'CONTROLLER', '17.9.3a', g % 2 = 0
         from bench_tenant t cross join lateral generate_series(1, t.devices) as g`,
    );
    // 95% of devices hold a DNA license: device g of a tenant takes DNA line (g % 4) + 1.
    const assigned = await client.query(
      `insert into assignment (tenant_id, device_id, entitlement_id, category, license_id, billing_type, status, assigned_by)
       select d.tenant_id, d.id, l.entitlement_id, 'DNA', l.id, l.billing_type, 'ACTIVE', 'bench-seed'
         from (select d.tenant_id, d.id, row_number() over (partition by d.tenant_id order by d.uuid) as g from device d) d
         join license l on l.tenant_id = d.tenant_id
          and l.subscription_id like '%-' || ((d.g % 4) + 1)
        where d.g % 20 <> 0`,
    );
    const { rows } = await client.query<SeededTenant>('select id::text, n, devices from bench_tenant order by n');
    await client.query('commit');
    await client.query('analyze');
    return {
      tenants: rows,
      devices: devices.rowCount ?? 0,
      licenses: lines.rowCount ?? 0,
      assignments: assigned.rowCount ?? 0,
      ms: Math.round(performance.now() - t0),
    };
  } catch (err) {
    await client.query('rollback').catch(() => undefined);
    throw err;
  } finally {
    await client.end();
  }
}

/**
 * One more tenant of `devices` devices, every one holding a DNA license from a single prepaid line
 * (assigned a day ago), written by the owner in set-based SQL so the server under test has done no
 * work (and grown no memory) for it. Returns the tenant's uuid.
 */
export async function seedLicensedTenant(ownerUrl: string, slug: string, devices: number): Promise<string> {
  const client = new pg.Client({ connectionString: ownerUrl });
  await client.connect();
  try {
    await client.query('begin');
    const [{ id }] = (await client.query<{ id: string }>(`insert into tenant (name, slug) values ($1, $1) returning id::text`, [slug])).rows;
    await client.query(
      `with sa as (insert into smart_account (tenant_id, domain, name, external_id) values ($1, $2 || '.example', $2, 'SA-' || upper($2)) returning tenant_id, id, external_id),
            va as (insert into virtual_account (tenant_id, smart_account_id, external_id, name, managed) select tenant_id, id, external_id || '-MAIN', 'Main', true from sa returning tenant_id, id)
       insert into license (tenant_id, virtual_account_id, entitlement_id, billing_type, billing_model, subscription_id, license_type, quantity, start_date, end_date, source)
       select va.tenant_id, va.id, e.id, 'PREPAID', 'A_LA_CARTE', 'SUB-' || $2, 'TERM', $3, date '2025-01-01', date '2030-12-31', 'SYNC'
         from va, entitlement e where e.tag = 'regid.2020-10.com.cisco.DSTACK_T1_A'`,
      [id, slug, devices],
    );
    await client.query(
      `insert into device (tenant_id, uuid, hostname, model, kind, mode, software_version)
       select $1, $2 || '-' || g, $2 || '-' || lpad(g::text, 6, '0'), 'C8000V', 'IOS_XE_SDWAN', 'CONTROLLER', '17.9.3a'
         from generate_series(1, $3::int) as g`,
      [id, slug, devices],
    );
    await client.query(
      `insert into assignment (tenant_id, device_id, entitlement_id, category, license_id, billing_type, status, assigned_by, assigned_at)
       select d.tenant_id, d.id, l.entitlement_id, 'DNA', l.id, 'PREPAID', 'ACTIVE', 'bench-seed', now() - interval '1 day'
         from device d join license l on l.tenant_id = d.tenant_id where d.tenant_id = $1`,
      [id],
    );
    await client.query('commit');
    await client.query('analyze device, assignment');
    return id;
  } catch (err) {
    await client.query('rollback').catch(() => undefined);
    throw err;
  } finally {
    await client.end();
  }
}
