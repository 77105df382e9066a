import type { AuthCheckerFn } from 'type-graphql';
import type { RequestContext } from '../common/context';
import { forbidden } from '../common/errors';
import type { Role } from './roles';

/**
 * Enforces the role list every Query, Mutation and Subscription field declares with
 * `@Authorized(...)`. A field without a list is caught by test/authorization.test.ts.
 */
export const authChecker: AuthCheckerFn<RequestContext, Role> = ({ context, info }, roles) => {
  if (roles.includes(context.viewer.role)) return true;
  throw forbidden(`role ${context.viewer.role} may not use ${info.parentType.name}.${info.fieldName}`);
};
