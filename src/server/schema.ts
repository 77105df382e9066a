import 'reflect-metadata';
import type { GraphQLSchema } from 'graphql';
import { buildSchemaSync } from 'type-graphql';
import { authChecker } from '../auth/auth-checker';
import { DeviceResolver } from '../modules/devices/device.resolver';
import { NodeResolver } from '../modules/node/node.resolver';
import { TenantResolver } from '../modules/tenants/tenant.resolver';
import { ViewerResolver } from '../modules/viewer/viewer.resolver';

export const resolvers = [ViewerResolver, NodeResolver, TenantResolver, DeviceResolver] as const;

let cached: GraphQLSchema | undefined;

/** The executable schema, built once per process from the decorated resolvers. */
export function getSchema(): GraphQLSchema {
  cached ??= buildSchemaSync({
    resolvers: [...resolvers],
    authChecker,
    validate: true,
    emitSchemaFile: false,
  });
  return cached;
}
