// The one reader of metric_families: what our migrations registered about each family's
// storage (sql/002_metric_storage.sql), for the ingest cache, the query API and maintenance.
import type pg from 'pg';

export interface FamilyStorage {
  family: string;
  rawTable: string;
  /** The hourly rollup table, or null for a family without one. */
  rollupTable: string | null;
  /** The rollup's SELECT as a template (rollup-sql.ts fills it), null without a rollup. */
  rollupSql: string | null;
  retentionMs: number;
  /** Native path: the hour up to which maintenance has rolled the raw rows up. */
  rolledUpTo: Date | null;
}

interface Row {
  family: string;
  raw_table: string;
  rollup_table: string | null;
  rollup_sql: string | null;
  retention_ms: number;
  rolled_up_to: Date | null;
}

/** Every registered family, by name. `db` is a pool or a client (maintenance reads in its transaction). */
export async function readMetricFamilies(db: pg.Pool | pg.ClientBase): Promise<FamilyStorage[]> {
  const { rows } = await db.query<Row>(
    `SELECT family, raw_table, rollup_table, rollup_sql, rolled_up_to,
            (extract(epoch FROM retention) * 1000)::float8 AS retention_ms
       FROM metric_families ORDER BY family`,
  );
  return rows.map((r) => ({
    family: r.family,
    rawTable: r.raw_table,
    rollupTable: r.rollup_table,
    rollupSql: r.rollup_sql,
    retentionMs: Number(r.retention_ms),
    rolledUpTo: r.rolled_up_to,
  }));
}
