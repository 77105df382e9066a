import DataLoader from 'dataloader';
import { memoize, type RequestContext } from './context';
import { groupBy } from './group-by';

/**
 * Per-request batching: every `load` of one tick becomes one statement (`fetch` of all ids), and a
 * missing id answers null. One loader per `key` per request, so a list of N rows asking for their
 * related row costs one query, not N.
 */
export function loadById<R, T>(
  ctx: RequestContext,
  key: symbol,
  id: string,
  fetch: (ids: readonly string[]) => Promise<R[]>,
  idOf: (row: R) => string,
  toNode: (row: R) => T,
): Promise<T | null> {
  return byIdLoader(ctx, key, fetch, idOf, toNode).load(id);
}

/** The request's loader behind loadById (to `prime` it with rows another statement already read). */
export function byIdLoader<R, T>(
  ctx: RequestContext,
  key: symbol,
  fetch: (ids: readonly string[]) => Promise<R[]>,
  idOf: (row: R) => string,
  toNode: (row: R) => T,
): DataLoader<string, T | null> {
  return memoize(
    ctx,
    key,
    () =>
      new DataLoader<string, T | null>(async (ids) => {
        const byId = new Map((await fetch(ids)).map((r) => [idOf(r), toNode(r)]));
        return ids.map((i) => byId.get(i) ?? null);
      }),
  );
}

/** Like loadById, for one-to-many: every row whose `groupOf` is the id, in the order fetched. */
export function loadGroup<R, T>(
  ctx: RequestContext,
  key: symbol,
  id: string,
  fetch: (ids: readonly string[]) => Promise<R[]>,
  groupOf: (row: R) => string,
  toNode: (row: R) => T,
): Promise<T[]> {
  return groupLoader(ctx, key, fetch, groupOf, toNode).load(id);
}

/** The request's loader behind loadGroup (to `prime` it with groups another statement already read). */
export function groupLoader<R, T>(
  ctx: RequestContext,
  key: symbol,
  fetch: (ids: readonly string[]) => Promise<R[]>,
  groupOf: (row: R) => string,
  toNode: (row: R) => T,
): DataLoader<string, T[]> {
  return memoize(
    ctx,
    key,
    () =>
      new DataLoader<string, T[]>(async (ids) => {
        const groups = groupBy(await fetch(ids), groupOf, toNode);
        return ids.map((i) => groups.get(i) ?? []);
      }),
  );
}
