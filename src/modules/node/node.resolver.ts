import { Arg, Authorized, Ctx, ID, Query, Resolver } from 'type-graphql';
import { Roles } from '../../auth/roles';
import type { RequestContext } from '../../common/context';
import { fromGlobalId } from '../../common/global-id';
import { Node } from '../../common/node';
import { findDevice } from '../devices/device.service';
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
        return findDevice(ctx, id);
      default:
        return null;
    }
  }
}
