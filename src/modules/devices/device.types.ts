import { Field, ID, InputType, Int, ObjectType } from 'type-graphql';
import { toGlobalId } from '../../common/global-id';
import { Node } from '../../common/node';
import { ConnectionType } from '../../common/relay';
import { Tenant } from '../tenants/tenant.types';
import type { DeviceEntity } from './device.entity';
import { DeviceKind, DeviceMode } from './device.enums';

@ObjectType({ implements: Node, description: 'A router managed by a tenant.' })
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
}
