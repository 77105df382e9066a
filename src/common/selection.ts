import type { GraphQLResolveInfo, SelectionSetNode } from 'graphql';

/**
 * Whether the query selects `field` directly on the resolved value (through fragments too), so a
 * service can skip building what nobody asked for (10,000 assignment objects for a payload whose
 * caller reads one count). Conservative: a field under @skip/@include counts as selected.
 */
export function selectsField(info: GraphQLResolveInfo, field: string): boolean {
  return selectedFields(info, [])?.has(field) ?? false;
}

/**
 * Whether the query selects the field at `path` below the resolved value (`['tenants', 'entitlements']`:
 * `tenants { entitlements }`), through fragments too; as conservative as selectsField.
 */
export function selectsPath(info: GraphQLResolveInfo, path: readonly string[]): boolean {
  return selectedFields(info, path.slice(0, -1))?.has(path[path.length - 1]) ?? false;
}

/**
 * The names of the fields the query selects at `path` below the resolved value (`['edges', 'node']`),
 * over every alias and fragment; undefined when nothing is selected there. Conservative like
 * selectsField: fields under @skip/@include count as selected, so the set is never too small.
 */
export function selectedFields(info: GraphQLResolveInfo, path: readonly string[]): Set<string> | undefined {
  let found: Set<string> | undefined;
  const visit = (set: SelectionSetNode | undefined, depth: number, seen: Set<string>): void => {
    for (const s of set?.selections ?? []) {
      if (s.kind === 'Field') {
        if (depth === path.length) (found ??= new Set()).add(s.name.value);
        else if (s.name.value === path[depth]) visit(s.selectionSet, depth + 1, seen);
      } else if (s.kind === 'InlineFragment') {
        visit(s.selectionSet, depth, seen);
      } else {
        const key = `${depth}:${s.name.value}`;
        if (seen.has(key)) continue;
        seen.add(key);
        visit(info.fragments[s.name.value]?.selectionSet, depth, seen);
      }
    }
  };
  for (const node of info.fieldNodes) visit(node.selectionSet, 0, new Set());
  return found;
}
