// What a catalogue entry is: the collection SQL of one family as data, keyed by the lowest
// server_version_num it works on, and how its rows are turned into a family's rows.
//
// Glossary
//   scope     instance: run once on the instance connection; database: run in every database
//             the role may connect to, on the connection that hops between databases
//   kind      snapshot: one query per cycle, counters diffed; sampled: run by the source's
//             sampler several times per interval and aggregated; on-change: sent only when the
//             result differs from the last one sent; top-statements / statement-texts:
//             pg_stat_statements, top N by time and texts for queryids not sent before
//   selection a cheap query that picks which objects to collect (the biggest N, or all of
//             them where only slow columns need the ids); its array result is $1 of the main query
//   whole     the main query reads every object the selection picks from when $1 is NULL, at
//             most $3 rows: while a database has fewer than the limit, no selection is run
//   slow      columns costly to read that change slowly (sizes): measured for a share of the
//             objects per cycle, the ids not to measure again passed as $2, repeated in between
//             (state/slow-columns.ts)

import type { ChangeColumns } from '../../../state/slow-columns.ts';

export const ENTRY_KINDS = ['snapshot', 'sampled', 'on-change', 'top-statements', 'statement-texts'] as const;
export type EntryKind = (typeof ENTRY_KINDS)[number];

/** Limits the source applies; each is configurable per instance. */
export interface CollectLimits {
  /** Tables per database per cycle (the biggest by relpages). */
  maxTables: number;
  /** Indexes per database per cycle (the biggest by relpages). */
  maxIndexes: number;
  /** Statements per cycle (the top by execution time in the interval). */
  maxStatements: number;
}
export type LimitName = keyof CollectLimits;

export const DEFAULT_LIMITS: CollectLimits = { maxTables: 1000, maxIndexes: 1000, maxStatements: 100 };

/** SQL by minimum server_version_num (PG13, PG14, …). */
export type VersionedSql = Readonly<Record<number, string>>;

export interface CatalogEntry {
  /** Protocol family the rows belong to (protocol/families/). */
  readonly family: string;
  readonly description: string;
  readonly kind: EntryKind;
  readonly scope: 'instance' | 'database';
  /** Default collection interval; the served config may override it. */
  readonly intervalSeconds: number;
  /** Unless the served config sets the family's interval, it runs at most this often whatever
   *  the cycle: for a query too costly to run every minute on a server with thousands of tables. */
  readonly minIntervalSeconds?: number;
  /** Columns that identify a series (for diffing counters); may name columns not sent. */
  readonly keys: readonly string[];
  /** Cumulative counters: sent as deltas over interval_s. */
  readonly counters: readonly string[];
  /** A series first seen after a baseline started at zero (statements created in the interval). */
  readonly newSeriesFromZero?: boolean;
  /** An extension that must exist in the connected database. */
  readonly requiresExtension?: string;
  /** Picks the objects to collect; its single array column is passed as $1. With a limit, the
   *  limit is the selection's $1. `whole` (with a limit and slow columns): given $1 NULL, the
   *  main query reads every object the selection chooses from, at most $3 rows; while a
   *  database holds fewer than the limit, that one query replaces the two
   *  (PostgresSource.select). */
  readonly selection?: { readonly limit?: LimitName; readonly sql: VersionedSql; readonly whole?: boolean };
  /** Needs a selection. The main query returns `idColumn` (the object's oid, not sent) and reads
   *  `columns` for the ids not in $2 (objects new to the collector included); each is at most `refreshCycles` cycles old, or with
   *  `change` columns (read every cycle) at most `refreshCycles` cycles behind a change they
   *  show and `change.idleRefreshCycles` old without one (state/slow-columns.ts). */
  readonly slow?: {
    readonly columns: readonly string[];
    readonly idColumn: string;
    readonly refreshCycles: number;
    readonly change?: ChangeColumns;
  };
  readonly sql: VersionedSql;
  /** The server sends the rows as rows, not as one JSON array (catalog.ts sqlFor): for
   *  pg_stat_statements' thousands of narrow rows, building the JSON cost the server more
   *  (~7 µs a row, ~27 ms a cycle) than it saved us. A 'top-statements' entry needs it: its
   *  rows are read from a cursor a chunk at a time (PostgresSource.topStatements). */
  readonly textRows?: boolean;
  /** The server sends the result as one JSON array per column, `columns` (catalog.ts sqlFor):
   *  for the families with a row per table or index, no object per row is made at any stage. */
  readonly byColumn?: { readonly columns: readonly string[] };
  /** A 'sampled' entry: how the interval's samples become its rows, per series of `keys`
   *  (state/activity-window.ts): `groups` averages and peaks counts, `latest` keeps the last. */
  readonly aggregate?: 'groups' | 'latest';
}
