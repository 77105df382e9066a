import { Field, ID, Int, ObjectType } from 'type-graphql';
import { toGlobalId } from '../../common/global-id';
import { Node } from '../../common/node';
import { DeviceKind, DeviceMode } from '../devices/device.enums';
import { EntitlementCategory, LicenseLevel, Tier } from './entitlement.enums';

export interface EntitlementRow {
  id: string;
  tag: string;
  display_name: string;
  category: EntitlementCategory;
  level: LicenseLevel | null;
  tier: Tier | null;
  throughput_mbps: number | null;
  managed: boolean;
  obsolete: boolean;
  device_kinds: DeviceKind[];
  device_modes: DeviceMode[];
  min_release_ios_xe: number[] | null;
  min_release_vedge: number[] | null;
  requires_hsec_compatible: boolean;
}

@ObjectType({ implements: Node, description: 'A line of the entitlement catalog, and where it applies.' })
export class Entitlement implements Node {
  @Field(() => ID)
  id!: string;

  @Field(() => String, { description: 'e.g. regid.2020-10.com.cisco.DSTACK_T1_A' })
  tag!: string;

  @Field(() => String, { description: 'e.g. "Routing DNA Advantage: Tier 1"' })
  displayName!: string;

  @Field(() => EntitlementCategory)
  category!: EntitlementCategory;

  @Field(() => LicenseLevel, { nullable: true })
  level!: LicenseLevel | null;

  @Field(() => Tier, { nullable: true })
  tier!: Tier | null;

  @Field(() => Int, { nullable: true, description: 'Tier throughput in Mbps (DNA only).' })
  throughputMbps!: number | null;

  @Field(() => Boolean, { description: 'Managed here (DNA, HSEC); unmanaged ones are shown but never assignable.' })
  managed!: boolean;

  @Field(() => Boolean, { description: 'Obsolete entitlements are shown but never assignable.' })
  obsolete!: boolean;

  @Field(() => Boolean)
  assignable!: boolean;

  @Field(() => [DeviceKind])
  deviceKinds!: DeviceKind[];

  @Field(() => [DeviceMode])
  deviceModes!: DeviceMode[];

  @Field(() => String, { nullable: true, description: 'Lowest IOS XE release it applies to.' })
  minReleaseIosXe!: string | null;

  @Field(() => String, { nullable: true, description: 'Lowest vEdge release it applies to.' })
  minReleaseVedge!: string | null;

  @Field(() => Boolean, { description: 'Only for HSEC-compatible devices.' })
  requiresHsecCompatible!: boolean;

  dbId!: string;

  static from(row: EntitlementRow): Entitlement {
    const e = new Entitlement();
    e.id = toGlobalId('Entitlement', row.id);
    e.dbId = row.id;
    e.tag = row.tag;
    e.displayName = row.display_name;
    e.category = row.category;
    e.level = row.level;
    e.tier = row.tier;
    e.throughputMbps = row.throughput_mbps;
    e.managed = row.managed;
    e.obsolete = row.obsolete;
    e.assignable = row.managed && !row.obsolete;
    e.deviceKinds = row.device_kinds;
    e.deviceModes = row.device_modes;
    e.minReleaseIosXe = row.min_release_ios_xe?.join('.') ?? null;
    e.minReleaseVedge = row.min_release_vedge?.join('.') ?? null;
    e.requiresHsecCompatible = row.requires_hsec_compatible;
    return e;
  }
}
