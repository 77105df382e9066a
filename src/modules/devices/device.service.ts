import type { RequestContext } from '../../common/context';
import { loadById } from '../../common/loaders';
import { parseIdArg } from '../../common/global-id';
import { preload } from '../../common/preload';
import { columnsFor, ProjectionBudget, type ColumnMap } from '../../common/projection';
import { decodeCursor, pageSize, toConnection, type Connection, type CursorSpec } from '../../common/relay';
import { inScope, scopedRead } from '../../db/scope';
import { bulkSql, pgArray, sql } from '../../db/sql';
import { withIdempotency } from '../../common/idempotency';
import { evaluateAlerts } from '../alerts/alert.service';
import { primeLicenses } from '../licenses/license.service';
import type { License } from '../licenses/license.types';
import {
  currentAssignmentsParams,
  currentAssignmentsSql,
  deviceTargets,
  lockDevices,
  heldAssignments,
  primeCurrentAssignments,
  releaseInTransaction,
  type HeldSelection,
  type HeldRow,
} from '../assignments/assignment.service';
import { recordAudit } from '../audit/audit.service';
import { requireTenantScope, resolveTenantScope } from '../tenants/tenant.service';
import { DeviceEntity } from './device.entity';
import { deviceFilterSql } from './device.filter';
import { invalidDevices, noDevices, tooManyDevices } from './device.errors';
import {
  Device,
  type DecommissionDevicesInput,
  type DecommissionDevicesPayload,
  type DeviceFilter,
  type RegisterDevicesInput,
  type RegisterDevicesPayload,
} from './device.types';
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
  /** timestamptz arrives as PostgreSQL's text (MikroORM sets pg's parser so); fromRow makes Dates. */
  created_at: string | Date;
  updated_at: string | Date;
  decommissioned_at: string | Date | null;
  decommissioned_by: string | null;
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
       on conflict (tenant_id, uuid) where decommissioned_at is null do update set
         hostname = excluded.hostname, system_ip = excluded.system_ip, model = excluded.model, kind = excluded.kind,
         mode = excluded.mode, software_version = excluded.software_version, site_id = excluded.site_id,
         hsec_compatible = excluded.hsec_compatible, updated_at = app_now()
       returning id, tenant_id, uuid, hostname, system_ip, model, kind, mode, software_version, site_id,
                 hsec_compatible, created_at, updated_at, decommissioned_at, decommissioned_by, (xmax = 0) as inserted`,
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

/** Distinct column sets of the page statement (devices, assignments, lines together); then every column. */
const PAGE_PROJECTIONS = new ProjectionBudget(64);

/** The columns of a page of devices, by the Device fields the query selects (common/projection.ts). */
export const DEVICE_COLUMNS: ColumnMap = {
  key: ['d.id', 'd.tenant_id', 'd.hostname'],
  fields: {
    id: [],
    tenant: [],
    hostname: [],
    uuid: ['d.uuid'],
    systemIp: ['d.system_ip'],
    model: ['d.model'],
    kind: ['d.kind'],
    mode: ['d.mode'],
    softwareVersion: ['d.software_version'],
    siteId: ['d.site_id'],
    hsecCompatible: ['d.hsec_compatible'],
    state: ['d.decommissioned_at'],
    decommissionedAt: ['d.decommissioned_at'],
    decommissionedBy: ['d.decommissioned_by'],
    createdAt: ['d.created_at'],
    // Field resolvers (assignments module): they read the device's id and state.
    assignments: [],
    licenseHistory: [],
    complianceStatus: ['d.decommissioned_at'],
    complianceReasons: ['d.decommissioned_at'],
  },
  all: [
    'd.id', 'd.tenant_id', 'd.uuid', 'd.hostname', 'd.system_ip', 'd.model', 'd.kind', 'd.mode', 'd.software_version',
    'd.site_id', 'd.hsec_compatible', 'd.created_at', 'd.updated_at', 'd.decommissioned_at', 'd.decommissioned_by',
  ],
};

/**
 * A keyset page of devices ordered by (hostname, id) and the total matching the filter, in one
 * statement (the count is an uncorrelated sub-select, evaluated once). When the query asks for the
 * devices' assignments, the same statement reads their current assignments and the license lines those
 * hold, and the devices carry them (common/preload.ts): a page of devices with their licenses is one
 * statement, one round trip, and no field resolver call per device. `select` names the fields the
 * query asks for, and the statement reads only their columns (common/projection.ts); without it, every
 * column and no assignments.
 */
export async function listDevices(
  ctx: RequestContext,
  args: { tenantId?: string | null; filter?: DeviceFilter | null; first?: number | null; after?: string | null; select?: DeviceSelection },
): Promise<Connection<Device>> {
  const limit = pageSize(args.first);
  const after = decodeCursor(args.after, CURSOR);
  const tenantId = await resolveTenantScope(ctx, args.tenantId);
  const filter = deviceFilterSql(tenantId, args.filter);
  const keyset = after ? ' and (d.hostname, d.id) > (?, ?::uuid)' : '';
  let columns = columnsFor(DEVICE_COLUMNS, args.select?.device);
  const heldIds = 'in (select p.id from page p)';
  let held = args.select?.assignments && currentAssignmentsSql(ctx, heldIds, args.select.assignments);
  if (!PAGE_PROJECTIONS.admit(columns, ...(held ? [held] : []))) {
    columns = columnsFor(DEVICE_COLUMNS, undefined);
    held = held && currentAssignmentsSql(ctx, heldIds);
  }
  const page = `select ${columns.sql}, (select count(*)::int from device d where ${filter.where}) as total_count
       from device d where ${filter.where}${keyset} order by d.hostname, d.id limit ?`;
  const pageParams = [...filter.params, ...filter.params, ...(after ? [String(after[0]), String(after[1])] : []), limit + 1];
  // Columns the query did not ask for are absent from a projected row; nothing reads them.
  type PageRow = Omit<DeviceRow, 'inserted'> & { total_count: number; current_assignments?: HeldRow[] };
  const rows = held
    ? await scopedRead<PageRow>(
        ctx,
        `with page as materialized (${page}),
         ${held.sql}
         select p.*, coalesce((select json_agg(x order by x.category, x.id) from (
                  select a.*, (select row_to_json(l) from l where l.id = a.license_id) as license from a where a.device_id = p.id) x), '[]')
                  as current_assignments
           from page p order by p.hostname, p.id`,
        [...pageParams, ...currentAssignmentsParams(ctx)],
      )
    : await scopedRead<PageRow>(ctx, page, pageParams);
  // Past the last page there is no row to carry the count: it is asked for on its own.
  const totalCount =
    rows[0]?.total_count ??
    (after ? (await scopedRead<{ n: number }>(ctx, `select count(*)::int as n from device d where ${filter.where}`, filter.params))[0].n : 0);
  const lines = new Map<string, License>();
  const connection = toConnection(rows, limit, totalCount, CURSOR, (r) => [r.hostname, r.id], (r) => {
    const device = Device.from(fromRow(r));
    if (r.current_assignments) {
      const assignments = heldAssignments(r.current_assignments, lines);
      preload(device, 'assignments', assignments);
      // Complete rows may serve the rest of the request too (another field asking for the same device's assignments).
      if (held?.complete) primeCurrentAssignments(ctx, r.id, assignments);
    }
    return device;
  });
  if (held?.complete) primeLicenses(ctx, lines.values());
  return connection;
}

/** What a query selects of a page of devices: Device fields, and of their current assignments (absent: not asked for). */
export interface DeviceSelection {
  device?: ReadonlySet<string>;
  assignments?: HeldSelection;
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

/** A timestamp column as a Date (absent from a projected row: left absent). */
function asDate(value: string | Date): Date {
  return typeof value === 'string' ? new Date(value) : value;
}

function fromRow(r: Omit<DeviceRow, 'inserted'>): DeviceEntity {
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
    createdAt: asDate(r.created_at),
    updatedAt: asDate(r.updated_at),
    decommissionedAt: r.decommissioned_at === null ? null : asDate(r.decommissioned_at),
    decommissionedBy: r.decommissioned_by,
  };
}

/**
 * Retires up to 10,000 devices, all or nothing: releases every license they hold, marks them
 * DECOMMISSIONED (when, by whom) and audits it, in one transaction. They leave compliance, the
 * dashboard, alerts and later usage reports; their rows and history stay readable, and their uuids are
 * free: registering one again creates a new device. Devices already decommissioned are left as they are.
 */
export async function decommissionDevices(ctx: RequestContext, input: DecommissionDevicesInput): Promise<DecommissionDevicesPayload> {
  const targets = deviceTargets(input);
  const tenantId = await requireTenantScope(ctx, input.tenantId);
  const { ...request } = input;
  delete request.idempotencyKey;
  const { result, replayed } = await inScope(ctx, (em) =>
    withIdempotency(em, { tenantId, operation: 'decommissionDevices', key: input.idempotencyKey, request }, async () => {
      const deviceIds = await targets(em, tenantId);
      const locked = await lockDevices(em, tenantId, deviceIds);
      const retiring = locked.filter((d) => !d.decommissioned).map((d) => d.id);
      const released = await releaseInTransaction(ctx, em, tenantId, retiring, null);
      if (retiring.length > 0) {
        await bulkSql(em, 'update device set decommissioned_at = app_now(), decommissioned_by = ? where tenant_id = ? and id = any(?::uuid[])', [
          ctx.viewer.subject,
          tenantId,
          pgArray(retiring),
        ]);
        await recordAudit(ctx, em, {
          tenantId,
          action: 'devices.decommissioned',
          targetType: 'Device',
          targetIds: retiring,
          details: { releasedAssignments: released.length, alreadyDecommissioned: deviceIds.length - retiring.length, byFilter: !!input.filter },
        });
        await evaluateAlerts(ctx, em, tenantId);
      }
      const rows = deviceIds.length
        ? await sql<Omit<DeviceRow, 'inserted'>>(em, `select ${DEVICE_COLUMNS.all.join(', ')} from device d where d.tenant_id = ? and d.id = any(?::uuid[])`, [
            tenantId,
            pgArray(deviceIds),
          ])
        : [];
      const byId = new Map(rows.map((r) => [r.id, r]));
      return {
        rows: deviceIds.map((id) => byId.get(id) as Omit<DeviceRow, 'inserted'>),
        decommissioned: retiring.length,
        releasedAssignments: released.length,
      };
    }),
  );
  ctx.log.info({ tenantId, decommissioned: result.decommissioned, replayed }, 'devices decommissioned');
  return {
    // A replay reads the stored JSON, where timestamps are strings.
    devices: result.rows.map((r) => Device.from(fromRow(r))),
    decommissioned: result.decommissioned,
    alreadyDecommissioned: result.rows.length - result.decommissioned,
    releasedAssignments: result.releasedAssignments,
    replayed,
  };
}

