import { Arg, Authorized, Ctx, ID, Query, Resolver } from 'type-graphql';
import { Roles } from '../../auth/roles';
import type { RequestContext } from '../../common/context';
import { fromGlobalId } from '../../common/global-id';
import { Node } from '../../common/node';
import { findSmartAccount, loadVirtualAccount } from '../accounts/account.service';
import { findAlert } from '../alerts/alert.service';
import { loadAssignment } from '../assignments/assignment.service';
import { findAuditEvent } from '../audit/audit.service';
import { loadDevice } from '../devices/device.service';
import { loadEntitlement } from '../entitlements/entitlement.service';
import { loadLicense } from '../licenses/license.service';
import { findUsageReport } from '../sync/offline.service';
import { findSyncRun } from '../sync/sync.service';
import { loadTenant } from '../tenants/tenant.service';

@Resolver()
export class NodeResolver {
  /** Unknown, malformed and other tenants' ids all answer null: ids cannot be probed. */
  @Authorized(Roles.anyone)
  @Query(() => Node, { nullable: true })
  async node(@Ctx() ctx: RequestContext, @Arg('id', () => ID) id: string): Promise<Node | null> {
    const parsed = fromGlobalId(id);
    if (!parsed) return null;
    switch (parsed.type) {
      case 'Tenant':
        return loadTenant(ctx, parsed.id);
      case 'Device':
        return loadDevice(ctx, parsed.id);
      case 'Entitlement':
        return loadEntitlement(ctx, parsed.id);
      case 'SmartAccount':
        return findSmartAccount(ctx, parsed.id);
      case 'VirtualAccount':
        return loadVirtualAccount(ctx, parsed.id);
      case 'License':
        return loadLicense(ctx, parsed.id);
      case 'LicenseAssignment':
        return loadAssignment(ctx, parsed.id);
      case 'AuditEvent':
        return findAuditEvent(ctx, parsed.id);
      case 'SyncRun':
        return findSyncRun(ctx, parsed.id);
      case 'UsageReport':
        return findUsageReport(ctx, parsed.id);
      case 'Alert':
        return findAlert(ctx, parsed.id);
      default:
        return null;
    }
  }
}
