import type { GraphQLResolveInfo } from 'graphql';
import { Arg, Authorized, Ctx, FieldResolver, Info, Mutation, Resolver, Root } from 'type-graphql';
import { Role, Roles } from '../../auth/roles';
import type { RequestContext } from '../../common/context';
import { InvariantError } from '../../common/errors';
import { selectsField } from '../../common/selection';
import { findDevice } from '../devices/device.service';
import { DeviceState } from '../devices/device.enums';
import { Device } from '../devices/device.types';
import { loadEntitlement } from '../entitlements/entitlement.service';
import { Entitlement } from '../entitlements/entitlement.types';
import { loadLicense } from '../licenses/license.service';
import { License } from '../licenses/license.types';
import { ComplianceReason, ComplianceStatus } from './assignment.enums';
import * as assignments from './assignment.service';
import {
  AssignLicensesInput,
  AssignLicensesPayload,
  LicenseAssignment,
  ReconcileAssignmentsInput,
  ReconcileAssignmentsPayload,
  ReleaseLicensesInput,
  ReleaseLicensesPayload,
} from './assignment.types';
import { COST, fixed, perDevice } from '../../common/cost';

@Resolver(() => LicenseAssignment)
export class AssignmentResolver {
  @Authorized(Roles.anyone)
  @Mutation(() => AssignLicensesPayload, {
    description: 'Assigns one license to up to 10,000 devices (by ids or a filter); all or nothing.',
    complexity: perDevice(COST.deviceChange),
  })
  assignLicenses(
    @Ctx() ctx: RequestContext,
    @Arg('input', () => AssignLicensesInput) input: AssignLicensesInput,
    @Info() info: GraphQLResolveInfo,
  ): Promise<AssignLicensesPayload> {
    return assignments.assignLicenses(ctx, input, { withAssignments: selectsField(info, 'assignments') });
  }

  @Authorized(Roles.anyone)
  @Mutation(() => ReleaseLicensesPayload, {
    description: 'Releases what up to 10,000 devices (by ids or a filter) hold; all or nothing.',
    complexity: perDevice(COST.deviceChange),
  })
  releaseLicenses(@Ctx() ctx: RequestContext, @Arg('input', () => ReleaseLicensesInput) input: ReleaseLicensesInput): Promise<ReleaseLicensesPayload> {
    return assignments.releaseLicenses(ctx, input);
  }

  @Authorized([Role.PROVIDER_ADMIN, Role.PROVIDER_OPERATOR, Role.TENANT_ADMIN])
  @Mutation(() => ReconcileAssignmentsPayload, { description: 'Binds pending default entitlements to license lines.', complexity: fixed(COST.reconcile) })
  reconcileAssignments(
    @Ctx() ctx: RequestContext,
    @Arg('input', () => ReconcileAssignmentsInput, { nullable: true }) input?: ReconcileAssignmentsInput,
  ): Promise<ReconcileAssignmentsPayload> {
    return assignments.reconcileAssignments(ctx, input ?? {});
  }

  @FieldResolver(() => Device)
  async device(@Root() a: LicenseAssignment, @Ctx() ctx: RequestContext): Promise<Device> {
    const device = await findDevice(ctx, a.deviceId);
    if (!device) throw new InvariantError(`device ${a.deviceId} of assignment ${a.dbId} is not visible`);
    return device;
  }

  @FieldResolver(() => Entitlement)
  async entitlement(@Root() a: LicenseAssignment, @Ctx() ctx: RequestContext): Promise<Entitlement> {
    const e = await loadEntitlement(ctx, a.entitlementId);
    if (!e) throw new InvariantError(`entitlement ${a.entitlementId} of assignment ${a.dbId} is missing`);
    return e;
  }

  @FieldResolver(() => License, { nullable: true })
  license(@Root() a: LicenseAssignment, @Ctx() ctx: RequestContext): Promise<License | null> {
    return a.licenseId ? loadLicense(ctx, a.licenseId) : Promise.resolve(null);
  }
}

/** License fields of Device, batched per request (no N+1 on device lists). */
@Resolver(() => Device)
export class DeviceLicensingResolver {
  @FieldResolver(() => [LicenseAssignment], { description: 'What the device holds now: at most one DNA and one HSEC license.' })
  assignments(@Root() device: Device, @Ctx() ctx: RequestContext): Promise<LicenseAssignment[]> {
    return assignments.loadCurrentAssignments(ctx, device.dbId);
  }

  @FieldResolver(() => [LicenseAssignment], {
    description: 'Every license the device has held and holds, newest first (released ones with releasedAt); readable after decommissioning.',
  })
  licenseHistory(@Root() device: Device, @Ctx() ctx: RequestContext): Promise<LicenseAssignment[]> {
    return assignments.loadAssignmentHistory(ctx, device.dbId);
  }

  @FieldResolver(() => ComplianceStatus, { description: 'A decommissioned device needs no license: COMPLIANT, and counted nowhere.' })
  async complianceStatus(@Root() device: Device, @Ctx() ctx: RequestContext): Promise<ComplianceStatus> {
    if (device.state === DeviceState.DECOMMISSIONED) return ComplianceStatus.COMPLIANT;
    return (await assignments.loadCompliance(ctx, device.dbId)).status;
  }

  @FieldResolver(() => [ComplianceReason], { description: 'Empty when compliant (and for a decommissioned device).' })
  async complianceReasons(@Root() device: Device, @Ctx() ctx: RequestContext): Promise<ComplianceReason[]> {
    if (device.state === DeviceState.DECOMMISSIONED) return [];
    return (await assignments.loadCompliance(ctx, device.dbId)).reasons;
  }
}
