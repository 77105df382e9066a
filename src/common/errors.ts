import { GraphQLError } from 'graphql';

/**
 * The error codes of the public contract (DESIGN.md). Every error a client sees carries one of
 * these in `extensions.code`, and a message naming the offending input.
 */
export type ErrorCode =
  | 'UNAUTHENTICATED'
  | 'FORBIDDEN'
  | 'NOT_FOUND'
  | 'BAD_USER_INPUT'
  | 'CONFLICT'
  | 'INSUFFICIENT_LICENSES'
  | 'LICENSE_NOT_EDITABLE'
  | 'STATEMENT_TIMEOUT'
  | 'TENANT_SUSPENDED'
  | 'INTERNAL_SERVER_ERROR';

export class AppError extends GraphQLError {
  constructor(code: ErrorCode, message: string, details?: Record<string, unknown>, httpStatus?: number) {
    super(message, {
      extensions: { code, ...(details ?? {}), ...(httpStatus ? { http: { status: httpStatus } } : {}) },
    });
    Object.setPrototypeOf(this, new.target.prototype);
  }
}

export const unauthenticated = (message: string): AppError =>
  new AppError('UNAUTHENTICATED', message, undefined, 401);
export const forbidden = (message: string): AppError => new AppError('FORBIDDEN', message);
export const notFound = (message: string): AppError => new AppError('NOT_FOUND', message);
export const badInput = (message: string, details?: Record<string, unknown>): AppError =>
  new AppError('BAD_USER_INPUT', message, details);
export const conflict = (message: string, details?: Record<string, unknown>): AppError =>
  new AppError('CONFLICT', message, details);

/**
 * A tenant user's token while a provider has suspended the tenant (HTTP 403): nothing runs for it
 * until the tenant is resumed. Worded for the person who sees it.
 */
export const tenantSuspended = (): AppError =>
  new AppError(
    'TENANT_SUSPENDED',
    'this tenant is suspended by the service provider: its users cannot sign in or make requests until the provider resumes it',
    undefined,
    403,
  );

/** "Should never happen" guard: a programming error, logged in full and masked for the client. */
export class InvariantError extends Error {
  override name = 'InvariantError';
}
