// Collection SQL as data: one entry per metric family (catalog/), SQL keyed by the lowest server
// version it works on. `sqlFor` picks the entry for a server; a family with no SQL for a version
// is skipped with a warning, never an exception. Every query's columns are the family's columns
// (protocol/families/) under the same names; `counters` are cumulative and become deltas.
import { pgStatsDatabase } from './catalog/pg-stats-database.ts';
import { pgStatsTable } from './catalog/pg-stats-table.ts';
import { pgStatsIndex } from './catalog/pg-stats-index.ts';
import { pgStatements } from './catalog/pg-statements.ts';
import { pgStatementTexts } from './catalog/pg-statement-texts.ts';
import { pgActivity } from './catalog/pg-activity.ts';
import { pgBlocking } from './catalog/pg-blocking.ts';
import { pgLocks } from './catalog/pg-locks.ts';
import { replication } from './catalog/replication.ts';
import { replicationSlots } from './catalog/replication-slots.ts';
import { pgBgwriter } from './catalog/pg-bgwriter.ts';
import { pgWal } from './catalog/pg-wal.ts';
import { pgArchiver } from './catalog/pg-archiver.ts';
import { pgVacuumProgress } from './catalog/pg-vacuum-progress.ts';
import { pgInstance } from './catalog/pg-instance.ts';
import { pgSettings } from './catalog/pg-settings.ts';
import { pgStatIo } from './catalog/pg-stat-io.ts';
import { pgTableBloat } from './catalog/pg-table-bloat.ts';
import { pgIndexBloat } from './catalog/pg-index-bloat.ts';
import type { CatalogEntry, VersionedSql } from './catalog/types.ts';
import type { Reading } from '../../state/sample.ts';

export * from './catalog/types.ts';

/** Marks every collector query so a DBA can find it in pg_stat_statements and in the logs. */
export const QUERY_MARKER = '/* pganalytics-collector */';

/** The statement with the marker after its first word: PostgreSQL 18's pg_stat_statements keeps
 *  the comments inside a statement but drops those before it. */
export function tagged(sql: string): string {
  const s = sql.trimStart();
  const word = s.search(/\s/);
  return word < 0 ? `${s} ${QUERY_MARKER}` : `${s.slice(0, word)} ${QUERY_MARKER}${s.slice(word)}`;
}

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
  pgStatIo,
  pgArchiver,
  pgSettings,
  pgStatsTable,
  pgStatsIndex,
  pgTableBloat,
  pgIndexBloat,
  pgVacuumProgress,
];

export const CATALOG_BY_FAMILY: ReadonlyMap<string, CatalogEntry> = new Map(CATALOG.map((e) => [e.family, e]));

/** The SQL of the highest minimum version not above the server's, untagged, or undefined. */
function versionOf(sql: VersionedSql, serverVersionNum: number): string | undefined {
  let best: number | undefined;
  for (const v of Object.keys(sql).map(Number)) {
    if (v <= serverVersionNum && (best === undefined || v > best)) best = v;
  }
  return best === undefined ? undefined : sql[best].trim();
}

/** The lowest server version an entry has SQL for: older servers do not collect it. */
export function firstVersion(entry: CatalogEntry): number {
  return Math.min(...Object.keys(entry.sql).map(Number));
}

/** The SQL of the highest minimum version not above the server's, tagged, or undefined. */
export function pickSql(sql: VersionedSql, serverVersionNum: number): string | undefined {
  const picked = versionOf(sql, serverVersionNum);
  return picked && tagged(picked);
}

/** The entry's main SQL for a server version, tagged, or undefined. Unless the entry asks for
 *  text rows, the server sends its rows as one JSON array in the single row and column `rows`
 *  (pg parses it with JSON.parse): for 2,000 tables and indexes a cycle, pg turning ~40 text
 *  fields a row into a string each, and each string into a number, cost more CPU and garbage
 *  than the rest of the cycle. An entry read by column gets one JSON array per column instead,
 *  and the count of rows as `pga_rows`: a 2,000-table result was one 2-3 MB string, which V8 put in
 *  its old generation at once, and 2,000 objects of ~40 properties; as columns each string is
 *  small enough to die young, and each column is one array. */
export function sqlFor(entry: CatalogEntry, serverVersionNum: number): string | undefined {
  if (entry.textRows) return pickSql(entry.sql, serverVersionNum);
  const picked = versionOf(entry.sql, serverVersionNum);
  if (!picked) return undefined;
  if (!entry.byColumn) return tagged(`SELECT json_agg(q) AS rows FROM (${picked}) q`);
  // One aggregate node: every json_agg sees the rows in the same order.
  const columns = entry.byColumn.columns.map((c) => `json_agg(q.${c}) AS ${c}`).join(', ');
  return tagged(`SELECT count(*)::int AS pga_rows, ${columns} FROM (${picked}) q`);
}

/** What an entry's query made by sqlFor returned: rows, or columns for an entry read by column. */
export function readingOf(entry: CatalogEntry, result: { rows: Array<Record<string, unknown>> }): Reading {
  if (entry.textRows) return result.rows;
  const row = result.rows[0];
  if (!entry.byColumn) return (row?.rows as Array<Record<string, unknown>> | null | undefined) ?? [];
  const length = Number(row?.pga_rows ?? 0);
  const columns: Record<string, unknown[]> = {};
  if (length > 0) for (const c of entry.byColumn.columns) columns[c] = row[c] as unknown[];
  return { length, columns };
}
