import { GraphQLError, GraphQLScalarType } from 'graphql';

/** Largest file accepted by an upload (license summary, acknowledgement), decoded. */
export const MAX_FILE_BYTES = 10 * 1024 * 1024;

/**
 * A file that arrived as the file part of a multipart request (server/multipart.ts), read whole
 * and within MAX_FILE_BYTES before the operation runs: the file parsers need its bytes in one
 * Buffer, and the in-flight byte budget has reserved room for it.
 */
export class UploadedFile {
  constructor(
    /** As the client named it; for the audit trail only, never used as a path. */
    readonly fileName: string,
    readonly mimeType: string,
    readonly content: Buffer,
  ) {}

  /** What JSON.stringify sees (logs, cache keys of the variables): never the bytes. */
  toJSON(): { upload: string; bytes: number } {
    return { upload: this.fileName, bytes: this.content.length };
  }
}

const ONLY_MULTIPART = 'an Upload is the file part of a multipart request (GraphQL multipart request spec); it cannot be written as a literal or a JSON value';

/**
 * `scalar Upload`: input only, and only ever an UploadedFile put into the variables by the HTTP layer.
 * A string or object sent in JSON variables is refused, so a client cannot pass anything off as a file.
 */
export const GraphQLUpload = new GraphQLScalarType<UploadedFile, never>({
  name: 'Upload',
  description:
    'A file sent as a part of a multipart/form-data request following the GraphQL multipart request spec ' +
    '(https://github.com/jaydenseric/graphql-multipart-request-spec). Input only.',
  parseValue(value) {
    if (value instanceof UploadedFile) return value;
    throw new GraphQLError(ONLY_MULTIPART);
  },
  parseLiteral() {
    throw new GraphQLError(ONLY_MULTIPART);
  },
  serialize() {
    throw new GraphQLError('Upload is an input-only scalar');
  },
});
