// Applies the numbered migrations in sql/ in order, each in its own transaction, and records
// them in schema_migrations. Safe when several backends start at once: a session-level
// advisory lock serialises runners, and each one re-reads what is applied after taking it.
import { readdirSync, readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import type pg from 'pg';

export const SQL_DIR = join(import.meta.dirname, '..', '..', '..', 'sql');
const MIGRATION_LOCK = 7_402_118_001; // arbitrary, constant: pg_advisory_lock key for migrations

export type StorageMode = 'auto' | 'timescaledb' | 'native';

export interface Migration {
  version: number;
  name: string;
  sql: string;
  checksum: string;
}

export function loadMigrations(dir = SQL_DIR): Migration[] {
  return readdirSync(dir)
    .filter((f) => /^\d{3}_[a-z0-9_]+\.sql$/.test(f))
    .sort()
    .map((f) => {
      const sql = readFileSync(join(dir, f), 'utf8');
      return { version: Number(f.slice(0, 3)), name: f, sql, checksum: createHash('sha256').update(sql).digest('hex') };
    });
}

export interface MigrateResult {
  applied: string[];
  mode: 'timescaledb' | 'native';
}

/** Runs pending migrations on a dedicated client (it holds the advisory lock for the duration). */
export async function migrate(client: pg.Client | pg.PoolClient, opts: { storage?: StorageMode; dir?: string } = {}): Promise<MigrateResult> {
  const migrations = loadMigrations(opts.dir);
  await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
  try {
    await client.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version int PRIMARY KEY, name text NOT NULL, checksum text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`);
    const done = new Map<number, string>(
      (await client.query('SELECT version, checksum FROM schema_migrations')).rows.map((r) => [r.version as number, r.checksum as string]));
    const applied: string[] = [];
    for (const m of migrations) {
      const seen = done.get(m.version);
      if (seen !== undefined) {
        // An applied migration must never change: a new one must be added instead.
        if (seen !== m.checksum) throw new Error(`migration ${m.name} was changed after it was applied`);
        continue;
      }
      await client.query('BEGIN');
      try {
        await client.query("SELECT set_config('pga.storage', $1, true)", [opts.storage ?? 'auto']);
        await client.query(m.sql);
        await client.query('INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)', [m.version, m.name, m.checksum]);
        await client.query('COMMIT');
      } catch (err) {
        await client.query('ROLLBACK');
        throw new Error(`migration ${m.name} failed: ${(err as Error).message}`);
      }
      applied.push(m.name);
    }
    const mode = (await client.query('SELECT mode FROM storage_settings')).rows[0].mode as MigrateResult['mode'];
    return { applied, mode };
  } finally {
    await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]);
  }
}
