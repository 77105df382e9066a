import { Entity, PrimaryKey, Property } from '@mikro-orm/core';
import type { DeviceKind, DeviceMode } from './device.enums';

/**
 * A router. The database key is (tenant_id, id) so the table can be distributed by tenant; `id`
 * alone is also unique and is what the ORM tracks.
 */
@Entity({ tableName: 'device' })
export class DeviceEntity {
  @PrimaryKey({ type: 'uuid', defaultRaw: 'gen_random_uuid()' })
  id!: string;

  @Property({ type: 'uuid' })
  tenantId!: string;

  @Property({ type: 'text' })
  uuid!: string;

  @Property({ type: 'text' })
  hostname!: string;

  @Property({ type: 'text', nullable: true })
  systemIp!: string | null;

  @Property({ type: 'text' })
  model!: string;

  @Property({ type: 'text' })
  kind!: DeviceKind;

  @Property({ type: 'text' })
  mode!: DeviceMode;

  @Property({ type: 'text' })
  softwareVersion!: string;

  @Property({ type: 'text', nullable: true })
  siteId!: string | null;

  @Property({ type: 'boolean' })
  hsecCompatible!: boolean;

  @Property({ type: 'datetime', defaultRaw: 'now()' })
  createdAt!: Date;

  @Property({ type: 'datetime', defaultRaw: 'now()' })
  updatedAt!: Date;

  @Property({ type: 'datetime', nullable: true })
  decommissionedAt!: Date | null;

  @Property({ type: 'text', nullable: true })
  decommissionedBy!: string | null;
}
