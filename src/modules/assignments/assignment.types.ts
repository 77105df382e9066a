import { Field, ID, InputType, Int, ObjectType } from 'type-graphql';
import { GraphQLDateTime } from 'graphql-scalars';
import { toGlobalId } from '../../common/global-id';
import { Node } from '../../common/node';
import type { ColumnMap } from '../../common/projection';
import { Device, DeviceFilter } from '../devices/device.types';
import { LicenseLevel, Tier } from '../entitlements/entitlement.enums';
import { Entitlement } from '../entitlements/entitlement.types';
import { BillingType } from '../licenses/license.enums';
import { License } from '../licenses/license.types';
import { AssignmentCategory, AssignmentStatus } from './assignment.enums';

/** An assignment as stored; timestamps as ISO strings so a payload can be kept for idempotent replays. */
export interface AssignmentRow {
  id: string;
  tenant_id: string;
  device_id: string;
  entitlement_id: string;
  category: AssignmentCategory;
  license_id: string | null;
  billing_type: BillingType | null;
  status: AssignmentStatus;
  assigned_at: string;
  assigned_by: string;
  released_at: string | null;
  released_by: string | null;
}

/** The columns of an assignment, by the LicenseAssignment fields a query selects (common/projection.ts). */
export const ASSIGNMENT_COLUMN_MAP: ColumnMap = (() => {
  const assignedAt = "to_json(a.assigned_at) #>> '{}' as assigned_at";
  const releasedAt = "to_json(a.released_at) #>> '{}' as released_at";
  return {
    // Order (category, id) and joins (device, license line).
    key: ['a.id', 'a.tenant_id', 'a.device_id', 'a.category', 'a.license_id'],
    fields: {
      id: [],
      device: [],
      license: [],
      category: [],
      entitlement: ['a.entitlement_id'],
      status: ['a.status'],
      requestedBillingType: ['a.billing_type'],
      assignedAt: [assignedAt],
      assignedBy: ['a.assigned_by'],
      releasedAt: [releasedAt],
      releasedBy: ['a.released_by'],
    },
    all: ['a.id', 'a.tenant_id', 'a.device_id', 'a.entitlement_id', 'a.category', 'a.license_id', 'a.billing_type', 'a.status', assignedAt, 'a.assigned_by', releasedAt, 'a.released_by'],
  };
})();

export const ASSIGNMENT_COLUMNS = ASSIGNMENT_COLUMN_MAP.all.join(', ');

// simpleResolvers: see Device.
@ObjectType({ implements: Node, description: 'A license (or default entitlement) held by a device.', simpleResolvers: true })
export class LicenseAssignment implements Node {
  @Field(() => ID)
  id!: string;

  @Field(() => Device)
  device!: Device;

  @Field(() => Entitlement)
  entitlement!: Entitlement;

  @Field(() => License, { nullable: true, description: 'The license line; null while pending reconciliation.' })
  license!: License | null;

  @Field(() => AssignmentCategory)
  category!: AssignmentCategory;

  @Field(() => AssignmentStatus)
  status!: AssignmentStatus;

  @Field(() => BillingType, { nullable: true, description: 'Billing type asked for, if any.' })
  requestedBillingType!: BillingType | null;

  @Field(() => GraphQLDateTime)
  assignedAt!: Date;

  @Field(() => String)
  assignedBy!: string;

  @Field(() => GraphQLDateTime, { nullable: true })
  releasedAt!: Date | null;

  @Field(() => String, { nullable: true })
  releasedBy!: string | null;

  dbId!: string;
  tenantId!: string;
  deviceId!: string;
  entitlementId!: string;
  licenseId!: string | null;

  static from(row: AssignmentRow): LicenseAssignment {
    const a = new LicenseAssignment();
    a.id = toGlobalId('LicenseAssignment', row.id);
    a.dbId = row.id;
    a.tenantId = row.tenant_id;
    a.deviceId = row.device_id;
    a.entitlementId = row.entitlement_id;
    a.licenseId = row.license_id;
    a.category = row.category;
    a.status = row.status;
    a.requestedBillingType = row.billing_type;
    a.assignedAt = new Date(row.assigned_at);
    a.assignedBy = row.assigned_by;
    a.releasedAt = row.released_at ? new Date(row.released_at) : null;
    a.releasedBy = row.released_by;
    return a;
  }
}

@InputType({ description: 'Name the wanted license one way: level and tier, an entitlement tag, or hsec.' })
export class AssignLicensesInput {
  @Field(() => ID, { nullable: true })
  tenantId?: string | null;

  @Field(() => [ID], { nullable: true, description: 'Up to 10,000 devices; give deviceIds or filter, not both.' })
  deviceIds?: string[] | null;

  @Field(() => DeviceFilter, { nullable: true, description: 'Every device in service matching it; refused when it matches more than 10,000.' })
  filter?: DeviceFilter | null;

  @Field(() => LicenseLevel, { nullable: true })
  level?: LicenseLevel | null;

  @Field(() => Tier, { nullable: true })
  tier?: Tier | null;

  @Field(() => String, { nullable: true })
  entitlementTag?: string | null;

  @Field(() => Boolean, { nullable: true, description: 'Assign the HSEC (HSECK9) license.' })
  hsec?: boolean | null;

  @Field(() => BillingType, { nullable: true, description: 'Only lines of this billing type; default: prepaid first, then postpaid.' })
  billingType?: BillingType | null;

  @Field(() => ID, { nullable: true, description: 'Only lines of this virtual account.' })
  virtualAccountId?: string | null;

  @Field(() => String, { nullable: true, description: 'Only lines of this subscription.' })
  subscriptionId?: string | null;

  @Field(() => String, { nullable: true, description: 'A retry with the same key returns the first result and changes nothing.' })
  idempotencyKey?: string | null;
}

@ObjectType()
export class AssignLicensesPayload {
  @Field(() => [LicenseAssignment], { description: 'The assignment each device holds after the call, in input order.' })
  assignments!: LicenseAssignment[];

  @Field(() => Int, { description: 'Devices that got a new assignment (including replacements and pending ones).' })
  assigned!: number;

  @Field(() => Int, { description: 'Previous assignments released because a different license replaced them.' })
  replaced!: number;

  @Field(() => Int, { description: 'Devices that already held a matching license.' })
  unchanged!: number;

  @Field(() => Int, { description: 'New assignments pending reconciliation (no smart account yet).' })
  pending!: number;

  @Field(() => Boolean, { description: 'True when this is the stored result of an earlier call with the same idempotencyKey.' })
  replayed!: boolean;
}

@InputType()
export class ReleaseLicensesInput {
  @Field(() => ID, { nullable: true })
  tenantId?: string | null;

  @Field(() => [ID], { nullable: true, description: 'Up to 10,000 devices; give deviceIds or filter, not both.' })
  deviceIds?: string[] | null;

  @Field(() => DeviceFilter, { nullable: true, description: 'Every device in service matching it; refused when it matches more than 10,000.' })
  filter?: DeviceFilter | null;

  @Field(() => AssignmentCategory, { nullable: true, description: 'Release only this category; default: every license.' })
  category?: AssignmentCategory | null;

  @Field(() => String, { nullable: true })
  idempotencyKey?: string | null;
}

@ObjectType()
export class ReleaseLicensesPayload {
  @Field(() => [LicenseAssignment])
  releasedAssignments!: LicenseAssignment[];

  @Field(() => Int)
  released!: number;

  @Field(() => Int, { description: 'Devices that held nothing to release.' })
  unchanged!: number;

  @Field(() => Boolean)
  replayed!: boolean;
}

@InputType()
export class ReconcileAssignmentsInput {
  @Field(() => ID, { nullable: true })
  tenantId?: string | null;
}

@ObjectType()
export class ReconcileAssignmentsPayload {
  @Field(() => [LicenseAssignment], { description: 'Assignments bound to a license line by this call.' })
  reconciledAssignments!: LicenseAssignment[];

  @Field(() => Int)
  reconciled!: number;

  @Field(() => Int, { description: 'Assignments left pending: no matching line with room.' })
  stillPending!: number;
}
