import type { RequestContext } from '../../common/context';
import { loadById } from '../../common/loaders';
import { inScope } from '../../db/scope';
import { pgArray, sql } from '../../db/sql';
import { Entitlement, type EntitlementRow } from './entitlement.types';

const LOADER = Symbol('entitlement-loader');
const COLUMNS = `id, tag, display_name, category, level, tier, throughput_mbps, managed, obsolete, device_kinds,
                 device_modes, min_release_ios_xe, min_release_vedge, requires_hsec_compatible`;

/** The catalog is global reference data (not tenant-owned); every viewer reads the same lines. */
export async function listEntitlements(ctx: RequestContext, includeUnmanaged: boolean): Promise<Entitlement[]> {
  const rows = await inScope(ctx, (em) =>
    sql<EntitlementRow>(
      em,
      `select ${COLUMNS} from entitlement ${includeUnmanaged ? '' : 'where managed and not obsolete'} order by sort_order`,
    ),
  );
  return rows.map(Entitlement.from);
}

export function loadEntitlement(ctx: RequestContext, id: string): Promise<Entitlement | null> {
  return loadById(
    ctx,
    LOADER,
    id,
    (ids) => inScope(ctx, (em) => sql<EntitlementRow>(em, `select ${COLUMNS} from entitlement where id = any(?::uuid[])`, [pgArray(ids)])),
    (r) => r.id,
    Entitlement.from,
  );
}

export type EntitlementSelector = { tag: string } | { level: string; tier: string } | { hsec: true };

/** The catalog row a selector names, or null. */
export async function findEntitlement(ctx: RequestContext, selector: EntitlementSelector): Promise<EntitlementRow | null> {
  const [where, params] =
    'tag' in selector
      ? ['tag = ?', [selector.tag]]
      : 'hsec' in selector
        ? ["category = 'HSEC' and managed and not obsolete", []]
        : ["category = 'DNA' and level = ? and tier = ?", [selector.level, selector.tier]];
  const rows = await inScope(ctx, (em) => sql<EntitlementRow>(em, `select ${COLUMNS} from entitlement where ${where} limit 1`, params));
  return rows[0] ?? null;
}
