import 'reflect-metadata';
import { assertInterfaceType, type GraphQLSchema } from 'graphql';
import { createPubSub } from '@graphql-yoga/subscription';
import { buildSchemaSync } from 'type-graphql';
import { authChecker } from '../auth/auth-checker';
import { resolveNodeType } from '../common/node';
import { servePreloaded } from '../common/preload';
import { SmartAccountResolver, VirtualAccountResolver } from '../modules/accounts/account.resolver';
import { AlertResolver } from '../modules/alerts/alert.resolver';
import { AssignmentResolver, DeviceLicensingResolver } from '../modules/assignments/assignment.resolver';
import { AuditResolver } from '../modules/audit/audit.resolver';
import { DashboardResolver } from '../modules/dashboard/dashboard.resolver';
import { DeviceResolver } from '../modules/devices/device.resolver';
import { EntitlementResolver } from '../modules/entitlements/entitlement.resolver';
import { LicenseResolver } from '../modules/licenses/license.resolver';
import { SyncResolver, UsageReportResolver } from '../modules/sync/sync.resolver';
import { NodeResolver } from '../modules/node/node.resolver';
import { TenantResolver } from '../modules/tenants/tenant.resolver';
import { UsageResolver } from '../modules/usage/usage.resolver';
import { ViewerResolver } from '../modules/viewer/viewer.resolver';

export const resolvers = [
  ViewerResolver,
  NodeResolver,
  TenantResolver,
  DeviceResolver,
  EntitlementResolver,
  SmartAccountResolver,
  VirtualAccountResolver,
  LicenseResolver,
  AssignmentResolver,
  DeviceLicensingResolver,
  DashboardResolver,
  AuditResolver,
  SyncResolver,
  UsageReportResolver,
  AlertResolver,
  UsageResolver,
] as const;

let cached: GraphQLSchema | undefined;

/** The executable schema, built once per process from the decorated resolvers. */
export function getSchema(): GraphQLSchema {
  if (cached) return cached;
  cached = buildSchemaSync({
    resolvers: [...resolvers],
    authChecker,
    // Subscriptions stream from the alert bus through their own `subscribe`; type-graphql still
    // insists on a pub/sub instance being present.
    pubSub: createPubSub(),
    validate: true,
    emitSchemaFile: false,
  });
  // type-graphql wraps every resolveType in an async function; graphql-jit (server/executor.ts)
  // calls it synchronously and cannot wait for a promise. Node's resolver needs no waiting.
  assertInterfaceType(cached.getType('Node')).resolveType = resolveNodeType;
  // A page of devices reads their current assignments and license lines with it (devices/device.service.ts).
  servePreloaded(cached, 'Device', 'assignments');
  servePreloaded(cached, 'LicenseAssignment', 'license');
  return cached;
}
