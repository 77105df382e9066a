import { GraphQLDateTime } from 'graphql-scalars';
import { Field, ID, InputType, Int, ObjectType } from 'type-graphql';
import { toGlobalId } from '../../common/global-id';
import { Node } from '../../common/node';
import { ConnectionType } from '../../common/relay';
import { Tenant } from '../tenants/tenant.types';
import type { DeviceEntity } from './device.entity';
import { ComplianceReason, ComplianceStatus } from '../assignments/assignment.enums';
import { BillingType } from '../licenses/license.enums';
import { DeviceKind, DeviceMode, DeviceState } from './device.enums';

// simpleResolvers: the plain fields are read as properties, without a per-field wrapper (no field here has
// middleware or @Authorized; access is decided by the queries and field resolvers that return these objects).
@ObjectType({ implements: Node, description: 'A router managed by a tenant.', simpleResolvers: true })
export class Device implements Node {
  @Field(() => ID)
  id!: string;

  @Field(() => Tenant)
  tenant!: Tenant;

  @Field(() => String, { description: 'Chassis number / UUID; unique within the tenant.' })
  uuid!: string;

  @Field(() => String)
  hostname!: string;

  @Field(() => String, { nullable: true })
  systemIp!: string | null;

  @Field(() => String, { description: 'Platform class, e.g. C8000V.' })
  model!: string;

  @Field(() => DeviceKind)
  kind!: DeviceKind;

  @Field(() => DeviceMode)
  mode!: DeviceMode;

  @Field(() => String, { description: 'Software release, e.g. 17.9.3a.' })
  softwareVersion!: string;

  @Field(() => String, { nullable: true })
  siteId!: string | null;

  @Field(() => Boolean)
  hsecCompatible!: boolean;

  @Field(() => DeviceState)
  state!: DeviceState;

  @Field(() => GraphQLDateTime, { nullable: true, description: 'When the device was decommissioned; null while in service.' })
  decommissionedAt!: Date | null;

  @Field(() => String, { nullable: true, description: 'Who decommissioned it (the token subject).' })
  decommissionedBy!: string | null;

  @Field(() => GraphQLDateTime, { description: 'When this device (this life of its uuid) was first registered.' })
  createdAt!: Date;

  /** Database ids, for services and field resolvers; not part of the schema. */
  dbId!: string;
  tenantId!: string;

  static from(row: DeviceEntity): Device {
    const d = new Device();
    d.id = toGlobalId('Device', row.id);
    d.dbId = row.id;
    d.tenantId = row.tenantId;
    d.uuid = row.uuid;
    d.hostname = row.hostname;
    d.systemIp = row.systemIp;
    d.model = row.model;
    d.kind = row.kind;
    d.mode = row.mode;
    d.softwareVersion = row.softwareVersion;
    d.siteId = row.siteId;
    d.hsecCompatible = row.hsecCompatible;
    d.state = row.decommissionedAt ? DeviceState.DECOMMISSIONED : DeviceState.ACTIVE;
    d.decommissionedAt = row.decommissionedAt;
    d.decommissionedBy = row.decommissionedBy;
    d.createdAt = row.createdAt;
    return d;
  }
}

export const DeviceConnection = ConnectionType('Device', Device);
export type DeviceConnection = InstanceType<typeof DeviceConnection>;

@InputType()
export class DeviceInput {
  @Field(() => String, { description: 'Chassis number / UUID; 1-128 of A-Z a-z 0-9 . _ : / -' })
  uuid!: string;

  @Field(() => String, { description: 'DNS-style host name: labels of letters, digits and hyphens.' })
  hostname!: string;

  @Field(() => String, { nullable: true, description: 'IPv4 system IP.' })
  systemIp?: string | null;

  @Field(() => String)
  model!: string;

  @Field(() => DeviceKind)
  kind!: DeviceKind;

  @Field(() => DeviceMode)
  mode!: DeviceMode;

  @Field(() => String, { description: 'Release such as 17.9.3a or 20.9.1.' })
  softwareVersion!: string;

  @Field(() => String, { nullable: true, description: 'Numeric site id, 1 to 4294967295.' })
  siteId?: string | null;

  @Field(() => Boolean, { defaultValue: false })
  hsecCompatible!: boolean;
}

@InputType()
export class RegisterDevicesInput {
  @Field(() => ID, { nullable: true, description: 'Defaults to the viewer\'s tenant; required for provider roles.' })
  tenantId?: string | null;

  @Field(() => [DeviceInput], { description: 'Up to 10,000 devices; upserted by (tenant, uuid).' })
  devices!: DeviceInput[];
}

@ObjectType()
export class RegisterDevicesPayload {
  @Field(() => [Device], { description: 'The registered devices, in input order.' })
  devices!: Device[];

  @Field(() => Int)
  created!: number;

  @Field(() => Int)
  updated!: number;
}

@InputType()
export class DeviceFilter {
  @Field(() => DeviceKind, { nullable: true })
  kind?: DeviceKind | null;

  @Field(() => DeviceMode, { nullable: true })
  mode?: DeviceMode | null;

  @Field(() => String, { nullable: true, description: 'Exact model.' })
  model?: string | null;

  @Field(() => String, { nullable: true, description: 'Case-insensitive substring of the hostname.' })
  search?: string | null;

  @Field(() => ComplianceStatus, { nullable: true })
  complianceStatus?: ComplianceStatus | null;

  @Field(() => ComplianceReason, { nullable: true, description: 'Devices out of compliance for this reason (among others).' })
  complianceReason?: ComplianceReason | null;

  @Field(() => Boolean, { nullable: true, description: 'As the dashboard counts: true holds an ACTIVE DNA license; false holds none or one pending reconciliation.' })
  licensed?: boolean | null;

  @Field(() => String, { nullable: true, description: 'Holds a license of this entitlement tag (DNA or HSEC).' })
  entitlementTag?: string | null;

  @Field(() => BillingType, { nullable: true, description: 'Holds a license of this billing type (of its line; as asked while pending).' })
  billingType?: BillingType | null;

  @Field(() => ID, { nullable: true, description: 'Holds a license from a line of this virtual account.' })
  virtualAccountId?: string | null;

  @Field(() => String, { nullable: true, description: 'Exact site id.' })
  siteId?: string | null;

  @Field(() => String, { nullable: true, description: 'Exact software release, e.g. 17.9.3a.' })
  softwareVersion?: string | null;

  @Field(() => Boolean, { nullable: true })
  hsecCompatible?: boolean | null;

  @Field(() => Boolean, {
    nullable: true,
    description: 'Decommissioned devices are left out unless asked: true lists only them, false (the default) only devices in service.',
  })
  decommissioned?: boolean | null;
}

@InputType()
export class DecommissionDevicesInput {
  @Field(() => ID, { nullable: true, description: "Defaults to the viewer's tenant; required for provider roles." })
  tenantId?: string | null;

  @Field(() => [ID], { nullable: true, description: 'Up to 10,000 devices; give deviceIds or filter, not both.' })
  deviceIds?: string[] | null;

  @Field(() => DeviceFilter, { nullable: true, description: 'Every device in service matching it (at most 10,000).' })
  filter?: DeviceFilter | null;

  @Field(() => String, { nullable: true, description: 'A retry with the same key returns the first result and changes nothing.' })
  idempotencyKey?: string | null;
}

@ObjectType()
export class DecommissionDevicesPayload {
  @Field(() => [Device], { description: 'The devices, decommissioned, in input order (filter: by hostname).' })
  devices!: Device[];

  @Field(() => Int, { description: 'Devices decommissioned by this call.' })
  decommissioned!: number;

  @Field(() => Int, { description: 'Devices that were already decommissioned (unchanged).' })
  alreadyDecommissioned!: number;

  @Field(() => Int, { description: 'License assignments released with them.' })
  releasedAssignments!: number;

  @Field(() => Boolean, { description: 'True when this is the stored result of an earlier call with the same idempotencyKey.' })
  replayed!: boolean;
}
