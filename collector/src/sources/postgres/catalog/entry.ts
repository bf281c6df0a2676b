// A catalogue entry made from its family's definition (protocol/families/): the family name, the
// series keys and the counters come from the definition's column kinds, so they are never
// restated here. The entry adds how the rows are collected.
import type { FamilySpec } from '../../../../../protocol/families/types.ts';
import type { CatalogEntry } from './types.ts';

/** The definition's key columns, in table order. */
export const keysOf = (f: FamilySpec): string[] => f.columns.filter((c) => c.kind === 'key').map((c) => c.name);
/** The definition's counter columns, in table order: the collector sends them as deltas. */
export const countersOf = (f: FamilySpec): string[] => f.columns.filter((c) => c.kind === 'counter').map((c) => c.name);

/** `keys` may be given where the collector diffs by columns it reads but does not send.
 *  `byColumn` reads the definition's columns (but interval_s, which the diff adds, and the
 *  `derived` ones the state computes) and the `unsent` ones, which the query returns for the
 *  collector alone (an id, a stats_reset). */
export function catalogEntry(
  definition: FamilySpec,
  entry: Omit<CatalogEntry, 'family' | 'keys' | 'counters' | 'byColumn'> & {
    readonly keys?: readonly string[];
    readonly byColumn?: { readonly unsent: readonly string[]; readonly derived?: readonly string[] };
  },
): CatalogEntry {
  const { byColumn, ...rest } = entry;
  const read = definition.columns.filter((c) => c.kind !== 'interval' && !byColumn?.derived?.includes(c.name)).map((c) => c.name);
  return {
    family: definition.name,
    keys: keysOf(definition),
    counters: countersOf(definition),
    ...rest,
    ...(byColumn ? { byColumn: { columns: [...read, ...byColumn.unsent] } } : {}),
  };
}
