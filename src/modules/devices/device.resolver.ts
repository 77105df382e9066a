import { Arg, Authorized, Ctx, FieldResolver, ID, Int, Mutation, Query, Resolver, Root } from 'type-graphql';
import { Roles } from '../../auth/roles';
import type { RequestContext } from '../../common/context';
import { requireTenant } from '../tenants/tenant.service';
import { Tenant } from '../tenants/tenant.types';
import * as devices from './device.service';
import { Device, DeviceConnection, DeviceFilter, RegisterDevicesInput, RegisterDevicesPayload } from './device.types';
import { COST, perItem } from '../../common/cost';

@Resolver(() => Device)
export class DeviceResolver {
  @Authorized(Roles.anyone)
  @Query(() => DeviceConnection, { description: 'Devices ordered by hostname. Providers without tenantId see all tenants.' })
  devices(
    @Ctx() ctx: RequestContext,
    @Arg('tenantId', () => ID, { nullable: true }) tenantId?: string,
    @Arg('filter', () => DeviceFilter, { nullable: true }) filter?: DeviceFilter,
    @Arg('first', () => Int, { nullable: true }) first?: number,
    @Arg('after', () => String, { nullable: true }) after?: string,
  ): Promise<DeviceConnection> {
    return devices.listDevices(ctx, { tenantId, filter, first, after });
  }

  @Authorized(Roles.admins)
  @Mutation(() => RegisterDevicesPayload, {
    description: 'Bulk upsert by (tenant, uuid); all or nothing.',
    complexity: perItem(['input', 'devices'], COST.deviceRegistration),
  })
  registerDevices(
    @Ctx() ctx: RequestContext,
    @Arg('input', () => RegisterDevicesInput) input: RegisterDevicesInput,
  ): Promise<RegisterDevicesPayload> {
    return devices.registerDevices(ctx, input);
  }

  @FieldResolver(() => Tenant)
  tenant(@Root() device: Device, @Ctx() ctx: RequestContext): Promise<Tenant> {
    return requireTenant(ctx, device.tenantId);
  }
}
