// Realistic batches for the ingest benchmark: one database server with 300 tables, 500
// indexes, 100 statements, host rows and log records, in whatever families protocol/families
// holds today. Values are filled by column type and name so they look like real samples.
import { randomUUID } from 'node:crypto';
import { FAMILIES, type Batch, type ColumnSpec, type FamilySpec, type Row } from '../protocol/index.ts';

/** Rows per family for one push; families not named get a handful. */
export const ROWS_PER_FAMILY: Readonly<Record<string, number>> = {
  pg_stats_table: 300,
  pg_stats_index: 500,
  pg_statements: 100,
  pg_statement_texts: 10,
  pg_stats_database: 5,
  pg_log: 20,
  pg_settings: 20,
  pg_activity: 20,
  pg_locks: 10,
  cpu: 2,
  disk_io: 2,
  network: 2,
  disk_usage: 3,
  pg_processes: 10,
};
const DEFAULT_ROWS = 1;

function value(c: ColumnSpec, i: number, now: string): unknown {
  switch (c.type) {
    case 'text': {
      const s =
        c.name === 'query'
          ? `SELECT * FROM orders_${i % 300} WHERE customer_id = $1 AND status = $2 ORDER BY created_at DESC LIMIT $3`
          : c.name === 'message'
            ? `duration: ${(i * 1.7).toFixed(3)} ms  statement: SELECT 1`
            : c.key
              ? `${c.name}_${i}`
              : `v${i}`;
      return s.slice(0, c.maxLength ?? 256);
    }
    case 'int':
      return (i * 7) % 1000;
    case 'bigint':
      return i * 1_234_567 + 42;
    case 'float':
      return Math.round(i * 13.37 * 100) / 100;
    case 'bool':
      return i % 2 === 0;
    case 'timestamptz':
      return now;
    case 'jsonb':
      return { source: 'bench', n: i };
  }
}

export function rowsFor(f: FamilySpec, n: number, time: string, instance = 'main'): Row[] {
  const rows: Row[] = [];
  for (let i = 0; i < n; i++) {
    const row: Row = { time };
    if (f.scope === 'instance') row.instance = instance;
    for (const c of f.columns) row[c.name] = value(c, i, time);
    rows.push(row);
  }
  return rows;
}

export function benchBatch(collectorId: string, time = new Date()): Batch {
  const t = time.toISOString();
  const families: Record<string, Row[]> = {};
  for (const f of FAMILIES) families[f.name] = rowsFor(f, ROWS_PER_FAMILY[f.name] ?? DEFAULT_ROWS, t);
  return {
    batch_id: randomUUID(),
    collector_id: collectorId,
    collector_version: 'bench',
    config_version: 1,
    created_at: t,
    hostname: `bench-${collectorId.slice(0, 8)}`,
    instances: [{ name: 'main', up: true, version_num: 160000 }],
    families,
  };
}
