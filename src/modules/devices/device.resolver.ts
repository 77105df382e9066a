import type { GraphQLResolveInfo } from 'graphql';
import { Arg, Authorized, Ctx, FieldResolver, ID, Info, Int, Mutation, Query, Resolver, Root } from 'type-graphql';
import { Roles } from '../../auth/roles';
import type { RequestContext } from '../../common/context';
import { requireTenant } from '../tenants/tenant.service';
import { Tenant } from '../tenants/tenant.types';
import * as devices from './device.service';
import {
  DecommissionDevicesInput,
  DecommissionDevicesPayload,
  Device,
  DeviceConnection,
  DeviceFilter,
  RegisterDevicesInput,
  RegisterDevicesPayload,
} from './device.types';
import { COST, perDevice, perItem } from '../../common/cost';
import { selectedFields } from '../../common/selection';

@Resolver(() => Device)
export class DeviceResolver {
  @Authorized(Roles.anyone)
  @Query(() => DeviceConnection, {
    description: 'Devices ordered by hostname; decommissioned ones only when filter.decommissioned is true. Providers without tenantId see all tenants.',
  })
  devices(
    @Ctx() ctx: RequestContext,
    @Arg('tenantId', () => ID, { nullable: true }) tenantId?: string,
    @Arg('filter', () => DeviceFilter, { nullable: true }) filter?: DeviceFilter,
    @Arg('first', () => Int, { nullable: true }) first?: number,
    @Arg('after', () => String, { nullable: true }) after?: string,
    @Info() info?: GraphQLResolveInfo,
  ): Promise<DeviceConnection> {
    return devices.listDevices(ctx, { tenantId, filter, first, after, select: info && pageSelection(info) });
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

  @Authorized(Roles.admins)
  @Mutation(() => DecommissionDevicesPayload, {
    description:
      'Retires up to 10,000 devices (by ids or a filter), all or nothing: releases their licenses and marks them DECOMMISSIONED. ' +
      'Their history stays readable; registering the uuid again creates a new device.',
    complexity: perDevice(COST.deviceChange),
  })
  decommissionDevices(
    @Ctx() ctx: RequestContext,
    @Arg('input', () => DecommissionDevicesInput) input: DecommissionDevicesInput,
  ): Promise<DecommissionDevicesPayload> {
    return devices.decommissionDevices(ctx, input);
  }

  @FieldResolver(() => Tenant)
  tenant(@Root() device: Device, @Ctx() ctx: RequestContext): Promise<Tenant> {
    return requireTenant(ctx, device.tenantId);
  }
}

/** The fields a `devices` query asks for of each device, and of its current assignments and their license lines. */
function pageSelection(info: GraphQLResolveInfo): devices.DeviceSelection {
  const node = ['edges', 'node'];
  const device = selectedFields(info, node);
  if (!device?.has('assignments')) return { device };
  const assignment = selectedFields(info, [...node, 'assignments']);
  // Lines are joined for their ids either way; their columns only when `license` is asked for.
  const license = assignment?.has('license') ? selectedFields(info, [...node, 'assignments', 'license']) : new Set<string>();
  return { device, assignments: { assignment, license } };
}
