import { Field, Int, ObjectType, type ClassType } from 'type-graphql';
import { badInput } from './errors';

export const DEFAULT_PAGE_SIZE = 20;
export const MAX_PAGE_SIZE = 100;

// simpleResolvers (here and on edges and connections): plain properties, read without a per-field wrapper.
@ObjectType({ description: 'Relay page information.', simpleResolvers: true })
export class PageInfo {
  @Field(() => Boolean)
  hasNextPage!: boolean;

  @Field(() => Boolean, { description: 'Always false: pagination is forward-only (first/after).' })
  hasPreviousPage!: boolean;

  @Field(() => String, { nullable: true })
  startCursor!: string | null;

  @Field(() => String, { nullable: true })
  endCursor!: string | null;
}

export interface Edge<T> {
  cursor: string;
  node: T;
}

export interface Connection<T> {
  edges: Edge<T>[];
  pageInfo: PageInfo;
  totalCount: number;
}

/** Builds the `<Name>Edge` and `<Name>Connection` GraphQL types for a node type. */
export function ConnectionType<T extends object>(name: string, nodeType: ClassType<T>) {
  @ObjectType(`${name}Edge`, { simpleResolvers: true })
  class EdgeType {
    @Field(() => String)
    cursor!: string;

    @Field(() => nodeType)
    node!: T;
  }

  @ObjectType(`${name}Connection`, { description: `A page of ${name} nodes.`, simpleResolvers: true })
  class ConnectionTypeClass implements Connection<T> {
    @Field(() => [EdgeType])
    edges!: Edge<T>[];

    @Field(() => PageInfo)
    pageInfo!: PageInfo;

    @Field(() => Int, { description: 'Number of nodes matching the filter, across all pages.' })
    totalCount!: number;
  }
  return ConnectionTypeClass;
}

/** Validates `first`: 1..100, default 20. */
export function pageSize(first: number | null | undefined): number {
  if (first === undefined || first === null) return DEFAULT_PAGE_SIZE;
  if (!Number.isInteger(first) || first < 1 || first > MAX_PAGE_SIZE) {
    throw badInput(`first must be between 1 and ${MAX_PAGE_SIZE}, got ${first}`, { argumentName: 'first' });
  }
  return first;
}

/** Which list a cursor belongs to and the shape of its sort key; a cursor of another list is refused. */
export interface CursorSpec {
  list: string;
  shape: readonly CursorPart[];
}

/** Cursors are opaque: base64url of JSON [list, ...sort key of the last row]. */
export function encodeCursor(list: string, key: readonly (string | number)[]): string {
  return Buffer.from(JSON.stringify([list, ...key]), 'utf8').toString('base64url');
}

export type CursorPart = 'string' | 'uuid' | 'number' | 'timestamp' | 'date';
const TIMESTAMP_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?(Z|[+-]\d{2}:\d{2})$/;
const DATE_RE = /^\d{4}-\d{2}-\d{2}$/;
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

const partMatches = (value: unknown, part: CursorPart): boolean =>
  part === 'timestamp' || part === 'date'
    ? typeof value === 'string' && (part === 'timestamp' ? TIMESTAMP_RE : DATE_RE).test(value) && Number.isFinite(Date.parse(value))
  : part === 'number' ? typeof value === 'number' && Number.isFinite(value)
  : part === 'uuid' ? typeof value === 'string' && UUID_RE.test(value)
  : typeof value === 'string' && value.length <= 1000 && !value.includes('\u0000');

/**
 * Decodes a cursor whose sort key has the given shape. Anything else (forged, truncated, from
 * another list) is BAD_USER_INPUT, so no unchecked value ever reaches a query.
 */
export function decodeCursor(cursor: string | null | undefined, spec: CursorSpec): (string | number)[] | null {
  if (cursor === undefined || cursor === null) return null;
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    value = undefined;
  }
  if (
    !Array.isArray(value) ||
    value.length !== spec.shape.length + 1 ||
    value[0] !== spec.list ||
    !value.slice(1).every((v, i) => partMatches(v, spec.shape[i]))
  ) {
    throw badInput(`after ${JSON.stringify(cursor.slice(0, 200))} is not a cursor returned by this list`, { argumentName: 'after' });
  }
  return value.slice(1) as (string | number)[];
}

/** Turns `limit + 1` fetched rows into a connection page. */
export function toConnection<R, T>(
  rows: R[],
  limit: number,
  totalCount: number,
  spec: CursorSpec,
  keyOf: (row: R) => (string | number)[],
  toNode: (row: R) => T,
): Connection<T> {
  const page = rows.slice(0, limit);
  const edges = page.map((row) => new LazyEdge(spec.list, keyOf(row), toNode(row)));
  return {
    edges,
    totalCount,
    pageInfo: {
      hasNextPage: rows.length > limit,
      hasPreviousPage: false,
      get startCursor() {
        return edges[0]?.cursor ?? null;
      },
      get endCursor() {
        return edges.at(-1)?.cursor ?? null;
      },
    },
  };
}

/** An edge whose cursor is encoded only if it is asked for (most pages ask for endCursor alone). */
class LazyEdge<T> {
  private encoded?: string;

  constructor(
    private readonly list: string,
    private readonly key: (string | number)[],
    readonly node: T,
  ) {}

  get cursor(): string {
    return (this.encoded ??= encodeCursor(this.list, this.key));
  }
}
