import { Entity, Enum, PrimaryKey, Property } from '@mikro-orm/core';
import { TenantStatus } from './tenant.enums';

@Entity({ tableName: 'tenant' })
export class TenantEntity {
  @PrimaryKey({ type: 'uuid', defaultRaw: 'gen_random_uuid()' })
  id!: string;

  @Property({ type: 'text' })
  name!: string;

  @Property({ type: 'text' })
  slug!: string;

  @Property({ type: 'datetime', defaultRaw: 'now()' })
  createdAt!: Date;

  @Property({ type: 'datetime', defaultRaw: 'now()', onUpdate: () => new Date() })
  updatedAt!: Date;

  @Enum({ items: () => TenantStatus, type: 'text', default: TenantStatus.ACTIVE })
  status: TenantStatus = TenantStatus.ACTIVE;

  @Property({ type: 'datetime', nullable: true })
  suspendedAt: Date | null = null;

  /** Token subject of the provider who suspended it. */
  @Property({ type: 'text', nullable: true })
  suspendedBy: string | null = null;
}
