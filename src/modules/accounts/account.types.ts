import { Field, ID, InputType, ObjectType } from 'type-graphql';
import { GraphQLDateTime } from 'graphql-scalars';
import { toGlobalId } from '../../common/global-id';
import { Node } from '../../common/node';
import { Tenant } from '../tenants/tenant.types';

export interface SmartAccountRow {
  id: string;
  tenant_id: string;
  domain: string;
  name: string;
  external_id: string;
  created_at: string;
  updated_at: string;
}

export interface VirtualAccountRow {
  id: string;
  tenant_id: string;
  smart_account_id: string;
  external_id: string;
  name: string;
  managed: boolean;
}

@ObjectType({ implements: Node, description: 'Everything an organisation purchased, as known to the license server.' })
export class SmartAccount implements Node {
  @Field(() => ID)
  id!: string;

  @Field(() => Tenant)
  tenant!: Tenant;

  @Field(() => String, { description: 'e.g. acme.example' })
  domain!: string;

  @Field(() => String)
  name!: string;

  @Field(() => String, { description: 'The license server\'s account id.' })
  accountId!: string;

  @Field(() => [VirtualAccount])
  virtualAccounts!: VirtualAccount[];

  @Field(() => GraphQLDateTime)
  createdAt!: Date;

  @Field(() => GraphQLDateTime)
  updatedAt!: Date;

  dbId!: string;
  tenantId!: string;

  static from(row: SmartAccountRow): SmartAccount {
    const a = new SmartAccount();
    a.id = toGlobalId('SmartAccount', row.id);
    a.dbId = row.id;
    a.tenantId = row.tenant_id;
    a.domain = row.domain;
    a.name = row.name;
    a.accountId = row.external_id;
    a.createdAt = new Date(row.created_at);
    a.updatedAt = new Date(row.updated_at);
    return a;
  }
}

@ObjectType({ implements: Node, description: 'A virtual account: a pool of licenses inside a smart account.' })
export class VirtualAccount implements Node {
  @Field(() => ID)
  id!: string;

  @Field(() => String, { description: 'The license server\'s id of the virtual account.' })
  externalId!: string;

  @Field(() => String)
  name!: string;

  @Field(() => Boolean, { description: 'Managed here: its licenses are offered for assignment.' })
  managed!: boolean;

  @Field(() => SmartAccount)
  smartAccount!: SmartAccount;

  dbId!: string;
  tenantId!: string;
  smartAccountId!: string;

  static from(row: VirtualAccountRow): VirtualAccount {
    const v = new VirtualAccount();
    v.id = toGlobalId('VirtualAccount', row.id);
    v.dbId = row.id;
    v.tenantId = row.tenant_id;
    v.smartAccountId = row.smart_account_id;
    v.externalId = row.external_id;
    v.name = row.name;
    v.managed = row.managed;
    return v;
  }
}

@InputType()
export class VirtualAccountInput {
  @Field(() => String)
  externalId!: string;

  @Field(() => String)
  name!: string;
}

@InputType()
export class ConfigureSmartAccountInput {
  @Field(() => ID, { nullable: true, description: 'Defaults to the viewer\'s tenant; required for provider roles.' })
  tenantId?: string | null;

  @Field(() => String, { nullable: true, description: 'Smart account domain, e.g. acme.example. Required unless fetchFromServer.' })
  domain?: string | null;

  @Field(() => String, { nullable: true, description: 'Required unless fetchFromServer.' })
  name?: string | null;

  @Field(() => String, { description: 'The license server\'s account id.' })
  accountId!: string;

  @Field(() => Boolean, {
    nullable: true,
    description: 'ONLINE / ON_PREM: take the domain, name and virtual accounts from the license server (domain and name may then be omitted).',
  })
  fetchFromServer?: boolean | null;

  @Field(() => [VirtualAccountInput], {
    nullable: true,
    description: 'Virtual accounts to record (added or renamed by externalId; others are kept). New ones start unmanaged.',
  })
  virtualAccounts?: VirtualAccountInput[] | null;
}

@InputType()
export class SetManagedVirtualAccountsInput {
  @Field(() => ID, { nullable: true })
  tenantId?: string | null;

  @Field(() => [ID], { description: 'Exactly the virtual accounts to manage; every other one becomes unmanaged.' })
  virtualAccountIds!: string[];
}
