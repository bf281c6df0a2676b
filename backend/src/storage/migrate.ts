// Applies the numbered migrations in sql/ in order, each in its own transaction, and records
// them in schema_migrations. Safe when several backends start at once: a session-level
// advisory lock serialises runners, and each one re-reads what is applied after taking it.
import { readdirSync, readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import type pg from 'pg';
import { errorMessage } from '../../../common/errors.ts';
import { withTransaction } from '../db/transaction.ts';

export const SQL_DIR = join(import.meta.dirname, '..', '..', '..', 'sql');
const MIGRATION_LOCK = 7_402_118_001; // arbitrary, constant: pg_advisory_lock key for migrations

/** The storage modes a database can have (storage_settings.mode), fixed when its schema is made. */
export const STORED_MODES = ['timescaledb', 'native', 'citus'] as const;
export type StoredMode = (typeof STORED_MODES)[number];
/** What PGA_STORAGE asks for: a mode, or `auto` to pick one from what the server offers. */
export type StorageMode = 'auto' | StoredMode;
/** citus.shard_count when PGA_CITUS_SHARD_COUNT is not set (DEPLOYMENT.md, "Citus", says why). */
export const DEFAULT_CITUS_SHARD_COUNT = 32;

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
  mode: StoredMode;
  /** Why `auto` did not choose TimescaleDB though it is installed, and how to enable it: one
   *  line for the operator's log, set only by the run that created the metric storage. */
  storageNote?: string;
}

/** What the server offers for metric storage. */
interface TimescaleState {
  /** The citus extension is created in this database (Citus documents TimescaleDB as
   *  incompatible with it: where it is, TimescaleDB is never tried). */
  citus?: boolean;
  /** The package is installed (its control file is in the extension directory). */
  available: boolean;
  /** The extension is already created in this database. */
  created: boolean;
  /** shared_preload_libraries names it: without that, CREATE EXTENSION ends the session (FATAL).
   *  Undefined when this role may not read the setting (it needs pg_read_all_settings). */
  preloaded: boolean | undefined;
}

/** True when a shared_preload_libraries value names TimescaleDB's loader ('timescaledb',
 *  '$libdir/timescaledb', '"timescaledb"', or a versioned 'timescaledb-2.17.0'). */
export function preloadsTimescale(setting: string): boolean {
  return setting
    .split(',')
    .map((l) => l.trim().replace(/^"(.*)"$/, '$1'))
    .some((l) => /(^|\/)timescaledb(-[0-9.]+)?(\.so)?$/.test(l));
}

/**
 * The storage mode the metric-storage migration is to create, decided in one place: `auto`
 * means Citus when the citus extension is created in the database, else TimescaleDB only when it is *usable* (installed and preloaded, or already created);
 * installed but not preloaded (a server right after `apt install timescaledb-…`) falls back to
 * native partitions with a note that says so, because creating the extension there would end
 * the session. An explicit `timescaledb` that cannot work fails here, before anything changes.
 */
export function chooseStorage(wanted: StorageMode, ts: TimescaleState): { mode: StoredMode; note?: string } {
  if (wanted === 'native') return { mode: 'native' };
  if (ts.citus) {
    if (wanted === 'timescaledb')
      throw new Error('storage = timescaledb but this database has the citus extension, which TimescaleDB cannot run beside');
    return { mode: 'citus' };
  }
  if (wanted === 'citus')
    throw new Error(
      'storage = citus but the citus extension is not created in this database (CREATE EXTENSION citus on the coordinator and on every worker, add the workers with citus_add_node, then start the backend)',
    );
  const usable = ts.available && (ts.created || ts.preloaded === true);
  if (usable) return { mode: 'timescaledb' };
  const enable =
    "add shared_preload_libraries = 'timescaledb' to postgresql.conf (keeping any libraries already listed) and restart PostgreSQL";
  const fresh = 'then start the backend on a new database (the storage mode is fixed when the schema is created)';
  if (wanted === 'timescaledb') {
    if (!ts.available)
      throw new Error(
        'storage = timescaledb but the timescaledb extension is not available on this server (install the TimescaleDB package, or use storage auto or native)',
      );
    // Asked for, and whether it is preloaded cannot be read: try (a failure is reported with its cause).
    if (ts.preloaded === undefined) return { mode: 'timescaledb' };
    throw new Error(`storage = timescaledb but TimescaleDB is installed and not preloaded on this server: ${enable}`);
  }
  if (!ts.available) return { mode: 'native' };
  if (ts.preloaded === undefined) {
    return {
      mode: 'native',
      note:
        'storage auto: TimescaleDB is installed on this PostgreSQL, but this role may not read shared_preload_libraries ' +
        '(pg_read_all_settings), so metrics are stored in native partitions. If TimescaleDB is preloaded, set PGA_STORAGE=timescaledb; ' +
        `if not: ${enable}; ${fresh}.`,
    };
  }
  return {
    mode: 'native',
    note:
      'storage auto: TimescaleDB is installed on this PostgreSQL but not preloaded, so metrics are stored in native ' +
      `partitions. To use TimescaleDB instead: ${enable}, ${fresh}.`,
  };
}

/** The mode already fixed in storage_settings, or the one to create. */
async function storageFor(client: pg.Client | pg.PoolClient, wanted: StorageMode): Promise<{ mode: StoredMode; note?: string }> {
  if ((await client.query("SELECT to_regclass('storage_settings') IS NOT NULL AS made")).rows[0].made) {
    return { mode: (await client.query('SELECT mode FROM storage_settings')).rows[0].mode };
  }
  return chooseStorage(wanted, await timescaleState(client));
}

async function timescaleState(client: pg.Client | pg.PoolClient): Promise<TimescaleState> {
  const r = (
    await client.query(`SELECT EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'timescaledb') AS available,
      EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'timescaledb') AS created,
      EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'citus') AS citus,
      (SELECT setting FROM pg_settings WHERE name = 'shared_preload_libraries') AS preload`)
  ).rows[0];
  // pg_settings hides the row from a role that may not read it (current_setting would raise).
  return {
    citus: r.citus,
    available: r.available,
    created: r.created,
    preloaded: r.preload === null ? undefined : preloadsTimescale(r.preload),
  };
}

/** Runs pending migrations on a dedicated client (it holds the advisory lock for the duration). */
export async function migrate(
  client: pg.Client | pg.PoolClient,
  opts: { storage?: StorageMode; dir?: string; citusShardCount?: number } = {},
): Promise<MigrateResult> {
  const migrations = loadMigrations(opts.dir);
  // A session that dies mid-migration (a FATAL, a restart) also emits 'error' on its client, and
  // an unheard 'error' would end the process: the failing query already carries the cause.
  const onError = (): void => undefined;
  client.on('error', onError);
  await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
  try {
    await client.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version int PRIMARY KEY, name text NOT NULL, checksum text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`);
    const done = new Map<number, string>(
      (await client.query('SELECT version, checksum FROM schema_migrations')).rows.map((r) => [r.version as number, r.checksum as string]),
    );
    const applied: string[] = [];
    let storage: { mode: StoredMode; note?: string } | undefined;
    for (const m of migrations) {
      const seen = done.get(m.version);
      if (seen !== undefined) {
        // An applied migration must never change: a new one must be added instead.
        if (seen !== m.checksum) throw new Error(`migration ${m.name} was changed after it was applied`);
        continue;
      }
      // Decided once, before the first pending migration, and only while the metric storage is
      // not yet created: the migration that creates it reads pga.storage, never 'auto' now.
      storage ??= await storageFor(client, opts.storage ?? 'auto');
      const { mode } = storage;
      try {
        await withTransaction(client, async () => {
          await client.query("SELECT set_config('pga.storage', $1, true)", [mode]);
          // The shards of the colocation group the first distributed table makes (sql/130 pga_distribute).
          if (mode === 'citus')
            await client.query("SELECT set_config('citus.shard_count', $1, true)", [
              String(opts.citusShardCount ?? DEFAULT_CITUS_SHARD_COUNT),
            ]);
          await client.query(m.sql);
          await client.query('INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)', [
            m.version,
            m.name,
            m.checksum,
          ]);
        });
      } catch (err) {
        // What reaches the user is the cause, named by its migration.
        throw new Error(`migration ${m.name} failed: ${errorMessage(err)}`, { cause: err });
      }
      applied.push(m.name);
    }
    const mode = (await client.query('SELECT mode FROM storage_settings')).rows[0].mode as MigrateResult['mode'];
    return { applied, mode, ...(storage?.note ? { storageNote: storage.note } : {}) };
  } finally {
    // A session that died has released its advisory lock with it; failing here would hide the cause.
    await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]).catch(() => undefined);
    client.removeListener('error', onError);
  }
}
