import { Arg, Authorized, Ctx, Query, Resolver } from 'type-graphql';
import { Roles } from '../../auth/roles';
import type { RequestContext } from '../../common/context';
import * as entitlements from './entitlement.service';
import { Entitlement } from './entitlement.types';

@Resolver(() => Entitlement)
export class EntitlementResolver {
  @Authorized(Roles.anyone)
  @Query(() => [Entitlement], { description: 'The catalog. Unmanaged and obsolete lines only with includeUnmanaged.' })
  entitlements(
    @Ctx() ctx: RequestContext,
    @Arg('includeUnmanaged', () => Boolean, { defaultValue: false }) includeUnmanaged: boolean,
  ): Promise<Entitlement[]> {
    return entitlements.listEntitlements(ctx, includeUnmanaged);
  }
}
