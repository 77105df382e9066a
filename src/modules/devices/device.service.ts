import type { RequestContext } from '../../common/context';
import { loadById } from '../../common/loaders';
import { parseIdArg } from '../../common/global-id';
import { badInput } from '../../common/errors';
import { decodeCursor, pageSize, toConnection, type Connection, type CursorSpec } from '../../common/relay';
import { inScope } from '../../db/scope';
import { prepared, sql } from '../../db/sql';
import { requireTenantScope, resolveTenantScope } from '../tenants/tenant.service';
import { DeviceEntity } from './device.entity';
import { invalidDevices, noDevices, tooManyDevices } from './device.errors';
import { Device, type DeviceFilter, type RegisterDevicesInput, type RegisterDevicesPayload } from './device.types';
import { MAX_DEVICES_PER_CALL, validateDevices } from './device.validation';

const CURSOR: CursorSpec = { list: 'devices', shape: ['string', 'uuid'] };

interface DeviceRow {
  id: string;
  tenant_id: string;
  uuid: string;
  hostname: string;
  system_ip: string | null;
  model: string;
  kind: DeviceEntity['kind'];
  mode: DeviceEntity['mode'];
  software_version: string;
  site_id: string | null;
  hsec_compatible: boolean;
  created_at: Date;
  updated_at: Date;
  inserted: boolean;
}

/**
 * Upserts up to 10,000 devices by (tenant, uuid) in one set-based statement. Every row is validated
 * first; one bad row rejects the call with all offending rows named, and nothing is written.
 */
export async function registerDevices(ctx: RequestContext, input: RegisterDevicesInput): Promise<RegisterDevicesPayload> {
  if (input.devices.length === 0) throw noDevices();
  if (input.devices.length > MAX_DEVICES_PER_CALL) throw tooManyDevices(input.devices.length, MAX_DEVICES_PER_CALL);
  const problems = validateDevices(input.devices);
  if (problems.length > 0) throw invalidDevices(problems);
  const tenantId = await requireTenantScope(ctx, input.tenantId);

  const rows = input.devices.map((d) => ({
    uuid: d.uuid,
    hostname: d.hostname,
    system_ip: d.systemIp ?? null,
    model: d.model,
    kind: d.kind,
    mode: d.mode,
    software_version: d.softwareVersion,
    site_id: d.siteId ?? null,
    hsec_compatible: d.hsecCompatible ?? false,
  }));
  const result = await inScope(ctx, (em) =>
    em.execute<DeviceRow[]>(
      `insert into device (tenant_id, uuid, hostname, system_ip, model, kind, mode, software_version, site_id, hsec_compatible)
       select ?::uuid, r.uuid, r.hostname, r.system_ip, r.model, r.kind, r.mode, r.software_version, r.site_id, r.hsec_compatible
         from jsonb_to_recordset(?::jsonb) as r(uuid text, hostname text, system_ip text, model text, kind text, mode text,
                                                software_version text, site_id text, hsec_compatible boolean)
       on conflict (tenant_id, uuid) do update set
         hostname = excluded.hostname, system_ip = excluded.system_ip, model = excluded.model, kind = excluded.kind,
         mode = excluded.mode, software_version = excluded.software_version, site_id = excluded.site_id,
         hsec_compatible = excluded.hsec_compatible, updated_at = app_now()
       returning id, tenant_id, uuid, hostname, system_ip, model, kind, mode, software_version, site_id,
                 hsec_compatible, created_at, updated_at, (xmax = 0) as inserted`,
      [tenantId, JSON.stringify(rows)],
    ),
  );
  const byUuid = new Map(result.map((r) => [r.uuid, r]));
  const created = result.filter((r) => r.inserted).length;
  ctx.log.info({ tenantId, created, updated: result.length - created }, 'devices registered');
  return {
    devices: input.devices.map((d) => Device.from(fromRow(byUuid.get(d.uuid) as DeviceRow))),
    created,
    updated: result.length - created,
  };
}

const DEVICE_COLUMNS = `d.id, d.tenant_id, d.uuid, d.hostname, d.system_ip, d.model, d.kind, d.mode, d.software_version,
  d.site_id, d.hsec_compatible, d.created_at, d.updated_at`;

/**
 * A keyset page of devices ordered by (hostname, id) and the total matching the filter, in one
 * statement (the count is an uncorrelated sub-select, evaluated once).
 */
export async function listDevices(
  ctx: RequestContext,
  args: { tenantId?: string | null; filter?: DeviceFilter | null; first?: number | null; after?: string | null },
): Promise<Connection<Device>> {
  const limit = pageSize(args.first);
  const after = decodeCursor(args.after, CURSOR);
  const tenantId = await resolveTenantScope(ctx, args.tenantId);
  const filter = filterToSql(tenantId, args.filter);
  const keyset = after ? ' and (d.hostname, d.id) > (?, ?::uuid)' : '';
  return inScope(ctx, async (em) => {
    const rows = await prepared<Omit<DeviceRow, 'inserted'> & { total_count: number }>(
      em,
      `select ${DEVICE_COLUMNS}, (select count(*)::int from device d where ${filter.where}) as total_count
         from device d where ${filter.where}${keyset} order by d.hostname, d.id limit ?`,
      [...filter.params, ...filter.params, ...(after ? [String(after[0]), String(after[1])] : []), limit + 1],
    );
    const totalCount =
      rows[0]?.total_count ??
      (after ? (await sql<{ n: number }>(em, `select count(*)::int as n from device d where ${filter.where}`, filter.params))[0].n : 0);
    return toConnection(rows, limit, totalCount, CURSOR, (r) => [r.hostname, r.id], (r) => Device.from(fromRow({ ...r, inserted: false })));
  });
}

const LOADER = Symbol('device-loader');

/** A device visible to the viewer, or null; batched per request. */
export function loadDevice(ctx: RequestContext, id: string): Promise<Device | null> {
  const tenantId = ctx.viewer.tenantId;
  return loadById(
    ctx,
    LOADER,
    id,
    (ids) => inScope(ctx, (em) => em.find(DeviceEntity, { id: { $in: [...ids] }, ...(tenantId ? { tenantId } : {}) })),
    (r) => r.id,
    Device.from,
  );
}

export async function findDevice(ctx: RequestContext, idArg: string): Promise<Device | null> {
  return loadDevice(ctx, parseIdArg(idArg, 'Device', 'id'));
}

const MAX_FILTER_LENGTH = 100;

function filterToSql(tenantId: string | null, filter: DeviceFilter | null | undefined): { where: string; params: unknown[] } {
  const conditions: string[] = [];
  const params: unknown[] = [];
  const add = (condition: string, value: unknown): void => {
    conditions.push(condition);
    params.push(value);
  };
  if (tenantId) add('d.tenant_id = ?', tenantId);
  for (const key of ['model', 'search'] as const) {
    const value = filter?.[key];
    if (value != null && value.length > MAX_FILTER_LENGTH) {
      throw badInput(`filter.${key} must be at most ${MAX_FILTER_LENGTH} characters`, { argumentName: `filter.${key}` });
    }
  }
  if (filter?.kind) add('d.kind = ?', filter.kind);
  if (filter?.mode) add('d.mode = ?', filter.mode);
  if (filter?.model) add('d.model = ?', filter.model);
  if (filter?.search) add("d.hostname ilike ? escape '\\'", `%${escapeLike(filter.search)}%`);
  return { where: conditions.length ? conditions.join(' and ') : 'true', params };
}

function escapeLike(s: string): string {
  return s.replace(/[\\%_]/g, (c) => `\\${c}`);
}

function fromRow(r: DeviceRow): DeviceEntity {
  return {
    id: r.id,
    tenantId: r.tenant_id,
    uuid: r.uuid,
    hostname: r.hostname,
    systemIp: r.system_ip,
    model: r.model,
    kind: r.kind,
    mode: r.mode,
    softwareVersion: r.software_version,
    siteId: r.site_id,
    hsecCompatible: r.hsec_compatible,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}
