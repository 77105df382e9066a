/** Rows by a key, in their order within each group, mapped on the way in when `map` is given. */
export function groupBy<R, K, T = R>(rows: Iterable<R>, key: (row: R) => K, map: (row: R) => T = (row) => row as unknown as T): Map<K, T[]> {
  const groups = new Map<K, T[]>();
  for (const row of rows) {
    const k = key(row);
    const group = groups.get(k);
    if (group) group.push(map(row));
    else groups.set(k, [map(row)]);
  }
  return groups;
}
