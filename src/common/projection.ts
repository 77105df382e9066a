/**
 * Which columns a statement reads for the GraphQL fields a query selects. A page of 50 devices with
 * their licenses read with every column cost PostgreSQL about half again as much as the columns the
 * page shows (output and JSON of columns nobody reads), and the server the parsing of them.
 *
 * Each field of the object type names the column expressions its value is made from (a field
 * resolver: the columns it reads from its parent, usually an id kept in `key`). A selected field the
 * map does not name reads every column, so a field added to the type is correct before it is fast.
 * Objects made from a projected row hold only the selected fields' values; they go to the response
 * and nowhere else (no shared loader is primed with them).
 */
export interface ColumnMap {
  /** Read whatever is selected: ids, keys of order and joins. */
  readonly key: readonly string[];
  /** Field name to the column expressions (beyond `key`) its value needs. */
  readonly fields: Readonly<Record<string, readonly string[]>>;
  /** Every column, in the order of the unprojected statement. */
  readonly all: readonly string[];
}

/** A projection: the column list and whether it is every column. */
export interface Columns {
  readonly sql: string;
  readonly complete: boolean;
}

const cache = new WeakMap<ColumnMap, Map<string, Columns>>();

/** The columns of `map` for the selected field names (undefined: every column). */
export function columnsFor(map: ColumnMap, selected: ReadonlySet<string> | undefined): Columns {
  const names = selected ? [...selected].sort() : undefined;
  const cacheKey = names ? names.join(',') : '*';
  let byKey = cache.get(map);
  if (!byKey) cache.set(map, (byKey = new Map()));
  const hit = byKey.get(cacheKey);
  if (hit) return hit;
  let wanted: Set<string> | undefined = new Set(map.key);
  for (const name of names ?? []) {
    if (name === '__typename') continue;
    const columns = Object.hasOwn(map.fields, name) ? map.fields[name] : undefined;
    if (!columns) {
      wanted = undefined;
      break;
    }
    for (const c of columns) wanted.add(c);
  }
  const chosen = names && wanted;
  const complete = !chosen || map.all.every((c) => chosen.has(c));
  // In `all`'s order, so equal selections give the same text (and the same prepared statement).
  const columns = complete ? map.all : map.all.filter((c) => chosen.has(c));
  const result: Columns = { sql: columns.join(', '), complete };
  // Bounded by the distinct selections of the documents clients send; the same as graphql-jit's cache.
  if (byKey.size < 1000) byKey.set(cacheKey, result);
  return result;
}

/**
 * How many distinct projections one statement may take. Each distinct statement text is prepared on
 * every pooled connection it runs on (db/scope.ts), so a client cycling through field combinations
 * must not grow them without bound: past the budget, a combination not seen before reads every column
 * (the same answer, only without the saving).
 */
export class ProjectionBudget {
  private readonly seen = new Set<string>();

  constructor(private readonly max: number) {}

  /** Whether this combination of projections (each a statement part's columns) may be used as it is. */
  admit(...parts: readonly { sql: string }[]): boolean {
    const key = parts.map((p) => p.sql).join('\u0000');
    if (this.seen.has(key)) return true;
    if (this.seen.size >= this.max) return false;
    this.seen.add(key);
    return true;
  }
}
