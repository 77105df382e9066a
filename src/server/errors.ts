import type { GraphQLFormattedError } from 'graphql';
import { unwrapResolverError } from '@apollo/server/errors';

/** Codes whose message is written for clients and passes through unchanged. */
const CLIENT_CODES = new Set([
  'UNAUTHENTICATED',
  'FORBIDDEN',
  'NOT_FOUND',
  'BAD_USER_INPUT',
  'CONFLICT',
  'INSUFFICIENT_LICENSES',
  'LICENSE_NOT_EDITABLE',
  'STATEMENT_TIMEOUT',
  'TENANT_SUSPENDED',
  'QUERY_TOO_COMPLEX',
  'RATE_LIMITED',
  'BAD_REQUEST',
  'GRAPHQL_PARSE_FAILED',
  'GRAPHQL_VALIDATION_FAILED',
  'OPERATION_RESOLUTION_FAILURE',
  'PERSISTED_QUERY_NOT_FOUND',
  'PERSISTED_QUERY_NOT_SUPPORTED',
]);

interface ValidationErrorLike {
  property: string;
  constraints?: Record<string, string>;
  children?: ValidationErrorLike[];
}

/**
 * Shapes every error a client sees: known codes pass with their message; anything else is an
 * internal failure, already logged with detail by the logging plugin, returned masked (no stack,
 * no SQL, no driver message).
 */
export function formatError(formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError {
  const code = formatted.extensions?.code;
  if (typeof code === 'string' && CLIENT_CODES.has(code)) {
    const extensions: Record<string, unknown> = { ...formatted.extensions };
    delete extensions.stacktrace;
    delete extensions.http; // status and headers were applied to the HTTP response already
    const original = unwrapResolverError(error) as { extensions?: { validationErrors?: ValidationErrorLike[] } };
    // class-validator errors carry the whole input object; keep only what the client needs.
    if (Array.isArray(original?.extensions?.validationErrors)) {
      extensions.validationErrors = flattenValidation(original.extensions.validationErrors);
      return {
        ...formatted,
        message: `invalid input: ${(extensions.validationErrors as { message: string }[]).map((e) => e.message).join('; ')}`,
        extensions,
      };
    }
    return { ...formatted, extensions };
  }
  return {
    message: 'Internal server error',
    ...(formatted.locations ? { locations: formatted.locations } : {}),
    ...(formatted.path ? { path: formatted.path } : {}),
    extensions: { code: 'INTERNAL_SERVER_ERROR' },
  };
}

function flattenValidation(errors: ValidationErrorLike[], prefix = ''): { path: string; message: string }[] {
  return errors.flatMap((e) => {
    const path = prefix ? `${prefix}.${e.property}` : e.property;
    const own = Object.values(e.constraints ?? {}).map((message) => ({ path, message }));
    return [...own, ...flattenValidation(e.children ?? [], path)];
  });
}
