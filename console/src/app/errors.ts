import { CombinedGraphQLErrors, CombinedProtocolErrors, ServerError, ServerParseError } from '@apollo/client/errors';

/**
 * The one place where what the server said becomes words a person understands. Every screen shows
 * errors through describeError: by `extensions.code` (and, for files, `extensions.fileError`), with the
 * server's own message kept as the detail, since it names the offending ids and values.
 */
export interface Problem {
  code: string;
  /** A sentence for the person: what happened and what to do. */
  title: string;
  /** The server's message (names ids and values). */
  detail?: string;
  /** Per-device refusals of an assignment (BAD_USER_INPUT with inapplicableDevices). */
  devices?: { deviceId: string; hostname: string; uuid: string; message: string }[];
  /** INSUFFICIENT_LICENSES: how many were asked and how many are free. */
  requested?: number;
  available?: number;
}

const CODE_WORDS: Record<string, string> = {
  UNAUTHENTICATED: 'Your sign-in has expired or is not accepted. Sign in again.',
  FORBIDDEN: 'Your role does not allow this. Ask an administrator.',
  NOT_FOUND: 'It was not found: it may have been removed, or it belongs to another tenant.',
  BAD_USER_INPUT: 'The server refused the input.',
  CONFLICT: 'This conflicts with the current state; reload and try again.',
  INSUFFICIENT_LICENSES: 'There are not enough licenses available for all these devices.',
  LICENSE_NOT_EDITABLE: 'This license line comes from the license server or a file and cannot be edited here.',
  STATEMENT_TIMEOUT: 'The server took too long. Narrow the filter and try again.',
  TENANT_SUSPENDED: 'This tenant is suspended: its users cannot work until a provider resumes it.',
  RATE_LIMITED: 'Too many requests in a short time. Wait a moment and try again.',
  SERVER_BUSY: 'The server is busy. Try again in a moment.',
  INTERNAL_SERVER_ERROR: 'Something went wrong on the server. Try again; if it persists, tell your provider.',
  NETWORK: 'The server cannot be reached. Check your connection and try again.',
};

/** extensions.fileError of a refused upload (src/ssm/files/archive.ts, src/modules/sync/offline.service.ts). */
const FILE_WORDS: Record<string, string> = {
  REPLAYED: 'Replay refused: this file is not newer than the last one accepted. Download a new file from the license server.',
  BAD_SIGNATURE: 'Signature refused: the file was changed after it was signed, or signed with a key this server does not trust.',
  UNSIGNED: 'Signature refused: the file carries no signature.',
  TOO_LARGE: 'The file is larger than 10 MB.',
  EMPTY: 'The file is empty.',
  NOT_GZIP: 'This is not a .tar.gz file from the license server.',
  NOT_TAR: 'This is not a .tar.gz file from the license server.',
  DECOMPRESSION_LIMIT: 'The file unpacks to more than the server accepts.',
  UNSAFE_ENTRY_NAME: 'The file holds an entry with an unsafe name; it was refused unread.',
  DUPLICATE_ENTRY: 'The file holds the same entry twice.',
  UNSUPPORTED_ENTRY_TYPE: 'The file holds links or special entries, which are never accepted.',
  TOO_MANY_ENTRIES: 'The file holds more entries than the server accepts.',
  MISSING_ENTRY: 'The file lacks a part the format requires.',
  UNEXPECTED_ENTRY: 'The file holds a part the format does not define.',
  UNSUPPORTED_FORMAT: 'The file is of a format or version this server does not read.',
  MALFORMED_CONTENT: 'The file is damaged: a part of it cannot be read.',
  INVALID_CONTENT: 'The file holds a value that is not valid.',
};

interface GraphQLErrorLike {
  message: string;
  extensions?: Record<string, unknown>;
}

export function describeError(error: unknown): Problem {
  let first: GraphQLErrorLike | undefined;
  if (CombinedGraphQLErrors.is(error) || CombinedProtocolErrors.is(error)) {
    first = error.errors[0] as GraphQLErrorLike | undefined;
  } else if (ServerError.is(error)) {
    first = parseBodyError(error.bodyText) ?? { message: `HTTP ${error.statusCode}`, extensions: { code: error.statusCode >= 500 ? 'INTERNAL_SERVER_ERROR' : 'BAD_REQUEST' } };
  } else if (ServerParseError.is(error)) {
    first = { message: error.message, extensions: { code: 'INTERNAL_SERVER_ERROR' } };
  } else if (error instanceof TypeError || (error instanceof Error && /fetch|network|socket/i.test(error.message))) {
    first = { message: error.message, extensions: { code: 'NETWORK' } };
  } else if (isGraphQLErrorLike(error)) {
    first = error;
  } else if (error instanceof Error) {
    first = { message: error.message, extensions: { code: 'INTERNAL_SERVER_ERROR' } };
  }
  const ext = first?.extensions ?? {};
  const code = typeof ext.code === 'string' ? ext.code : 'INTERNAL_SERVER_ERROR';
  const fileError = typeof ext.fileError === 'string' ? ext.fileError : undefined;
  const problem: Problem = {
    code,
    title: (fileError && FILE_WORDS[fileError]) ?? CODE_WORDS[code] ?? CODE_WORDS.INTERNAL_SERVER_ERROR,
    detail: code === 'INTERNAL_SERVER_ERROR' && !first?.message ? undefined : first?.message,
  };
  if (Array.isArray(ext.inapplicableDevices)) {
    problem.title = 'Some devices cannot take this license. Nothing was changed.';
    problem.devices = ext.inapplicableDevices as Problem['devices'];
  }
  if (code === 'INSUFFICIENT_LICENSES' && typeof ext.requested === 'number' && typeof ext.available === 'number') {
    problem.requested = ext.requested;
    problem.available = ext.available;
    problem.title = `${ext.requested} devices need this license but only ${ext.available} ${ext.available === 1 ? 'is' : 'are'} available. Nothing was changed.`;
  }
  return problem;
}

/** What a file download or other plain HTTP answer said, in the API's error shape. */
export function parseBodyError(text: string | undefined): GraphQLErrorLike | undefined {
  if (!text) return undefined;
  try {
    const body = JSON.parse(text) as { errors?: GraphQLErrorLike[] };
    return body.errors?.[0];
  } catch {
    return undefined;
  }
}

function isGraphQLErrorLike(value: unknown): value is GraphQLErrorLike {
  return typeof value === 'object' && value !== null && typeof (value as GraphQLErrorLike).message === 'string' && 'extensions' in value;
}
