// Collection SQL as data: one entry per metric family (catalog/), SQL keyed by the lowest server
// version it works on. `sqlFor` picks the entry for a server; a family with no SQL for a version
// is skipped with a warning, never an exception. Every query's columns are the family's columns
// (protocol/families/) under the same names; `counters` are cumulative and become deltas.
import { pgStatsDatabase } from './catalog/pg-stats-database.ts';
import { pgStatsTable } from './catalog/pg-stats-table.ts';
import { pgStatsIndex } from './catalog/pg-stats-index.ts';
import { pgStatements, pgStatementTexts } from './catalog/pg-statements.ts';
import { pgActivity, pgBlocking, pgLocks } from './catalog/pg-activity.ts';
import { replication, replicationSlots } from './catalog/replication.ts';
import { pgArchiver, pgBgwriter, pgVacuumProgress, pgWal } from './catalog/server-activity.ts';
import { pgInstance, pgSettings } from './catalog/instance.ts';
import type { CatalogEntry, VersionedSql } from './catalog/types.ts';

export * from './catalog/types.ts';

/** Marks every collector query so a DBA can find it in pg_stat_statements and in the logs. */
export const QUERY_MARKER = '/* pganalytics-collector */';

/** In run order: pg_instance first (it says whether the rest makes sense), texts after statements. */
export const CATALOG: readonly CatalogEntry[] = [
  pgInstance,
  pgStatsDatabase,
  pgStatements,
  pgStatementTexts,
  pgActivity,
  pgBlocking,
  pgLocks,
  replication,
  replicationSlots,
  pgBgwriter,
  pgWal,
  pgArchiver,
  pgSettings,
  pgStatsTable,
  pgStatsIndex,
  pgVacuumProgress,
];

export const CATALOG_BY_FAMILY: ReadonlyMap<string, CatalogEntry> = new Map(CATALOG.map((e) => [e.family, e]));

/** The SQL of the highest minimum version not above the server's, tagged, or undefined. */
export function pickSql(sql: VersionedSql, serverVersionNum: number): string | undefined {
  let best: number | undefined;
  for (const v of Object.keys(sql).map(Number)) {
    if (v <= serverVersionNum && (best === undefined || v > best)) best = v;
  }
  return best === undefined ? undefined : `${QUERY_MARKER} ${sql[best].trim()}`;
}

/** The entry's main SQL for a server version, tagged, or undefined. */
export function sqlFor(entry: CatalogEntry, serverVersionNum: number): string | undefined {
  return pickSql(entry.sql, serverVersionNum);
}
