// The migration generator (scripts/family-migration.ts) on a real PostgreSQL: what it writes for
// every family's definition creates exactly the definition's table (columns, order, types, keys
// NOT NULL) and an hourly rollup grouped by the keys that the backend's maintenance fills; and it
// writes a family once, into the next free number, never over a migration.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { startPostgres, type PostgresServer } from '../../devkit/postgres-server.ts';
import { migrate } from '../../backend/src/storage/migrate.ts';
import { runMaintenance } from '../../backend/src/storage/maintenance.ts';
import { FAMILIES, FAMILY_BY_NAME } from '../../protocol/index.ts';
import { familyMigration, nextNumber, SQL_DIR, writeFamilyMigration } from '../../scripts/family-migration.ts';

let server: PostgresServer;
let dir: string;

before(async () => {
  server = await startPostgres();
  dir = mkdtempSync(join(tmpdir(), 'pga-family-migration-'));
});
after(async () => {
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const INFO_TYPES: Record<string, string> = {
  text: 'text',
  int: 'integer',
  bigint: 'bigint',
  float: 'double precision',
  bool: 'boolean',
  timestamptz: 'timestamp with time zone',
  jsonb: 'jsonb',
};

test("every family's generated migration creates the definition's table and a rollup by its keys", { timeout: 120_000 }, async () => {
  // Every migration, then every family's table dropped and made again from its generated
  // migration, by today's pga_create_metric_table.
  const admin = new pg.Client({ connectionString: server.url() });
  await admin.connect();
  await admin.query('CREATE DATABASE generated');
  await admin.end();
  const pool = new pg.Pool({ connectionString: server.url('generated'), max: 2 });
  try {
    const c = await pool.connect();
    try {
      await migrate(c);
    } finally {
      c.release();
    }
    for (const f of FAMILIES) await pool.query(`DROP TABLE IF EXISTS ${f.table}, ${f.table}_1h CASCADE`);
    await pool.query('DELETE FROM metric_families');
    for (const f of FAMILIES) await pool.query(familyMigration(f, 'test'));
    // A family written by hand without server_id is refused: it could be neither read per server nor distributed.
    await assert.rejects(
      pool.query(
        "SELECT pga_create_metric_table('no_server', 'metrics_no_server', 'instance_id int NOT NULL, n int', 'instance_id', INTERVAL '7 days', NULL)",
      ),
      /metric table metrics_no_server must have a column server_id int NOT NULL/,
    );

    for (const f of FAMILIES) {
      const owners = f.scope === 'instance' ? ['server_id', 'instance_id'] : ['server_id'];
      const cols = await pool.query(
        `SELECT column_name, data_type, is_nullable FROM information_schema.columns WHERE table_name = $1 ORDER BY ordinal_position`,
        [f.table],
      );
      assert.deepEqual(
        cols.rows.map((r) => [r.column_name, r.data_type, r.is_nullable]),
        [
          ['time', 'timestamp with time zone', 'NO'],
          ...owners.map((o) => [o, 'integer', 'NO']),
          ...f.columns.map((c) => [c.name, INFO_TYPES[c.type], c.key ? 'NO' : 'YES']),
        ],
        `table ${f.table}`,
      );
      const { rollup_table: rollupTable } = (await pool.query('SELECT rollup_table FROM metric_families WHERE family = $1', [f.name]))
        .rows[0];
      const aggregated = f.columns.some((c) => c.kind !== 'key' && c.kind !== 'label');
      assert.equal(rollupTable, aggregated ? `${f.table}_1h` : null, `${f.name} has a rollup when it has values to aggregate`);
      if (!aggregated) continue;
      const rollup = await pool.query(
        `SELECT column_name FROM information_schema.columns WHERE table_name = $1 ORDER BY ordinal_position`,
        [`${f.table}_1h`],
      );
      const keys = f.columns.filter((c) => c.kind === 'key').map((c) => c.name);
      assert.deepEqual(
        rollup.rows.slice(0, 1 + owners.length + keys.length).map((r) => r.column_name),
        ['time', ...owners, ...keys],
        `rollup of ${f.name}`,
      );
      for (const c of f.columns.filter((c) => c.kind === 'counter')) {
        assert.ok(
          rollup.rows.some((r) => r.column_name === c.name),
          `rollup of ${f.name} sums ${c.name}`,
        );
      }
    }

    // The rollup sums counters over an hour: two rows of pg_stats_database in one past hour.
    const server1 = (await pool.query("INSERT INTO servers (hostname) VALUES ('h') RETURNING id")).rows[0].id;
    const inst = (await pool.query("INSERT INTO postgresql_instances (server_id, name) VALUES ($1, 'main') RETURNING id", [server1]))
      .rows[0].id;
    const hour = Math.floor(Date.now() / 3600_000) * 3600_000 - 3600_000;
    for (const [offset, commits, backends] of [
      [60_000, 10, 2],
      [120_000, 5, 4],
    ] as const) {
      await pool.query(
        `INSERT INTO metrics_pg_stats_database (time, server_id, instance_id, datname, interval_s, xact_commit, numbackends)
        VALUES ($1, $2, $3, 'app', 60, $4, $5)`,
        [new Date(hour + offset), server1, inst, commits, backends],
      );
    }
    await runMaintenance(pool);
    const rolled = await pool.query(
      'SELECT interval_s, xact_commit, numbackends, numbackends_max FROM metrics_pg_stats_database_1h WHERE server_id = $1 AND instance_id = $2',
      [server1, inst],
    );
    assert.deepEqual(
      rolled.rows.map((r) => [r.interval_s, Number(r.xact_commit), r.numbackends, r.numbackends_max]),
      [[120, 15, 3, 4]],
    );
  } finally {
    await pool.end();
  }
});

test('a family is written once, into the next free number, never over a migration', () => {
  const sqlDir = join(dir, 'sql');
  mkdirSync(sqlDir);
  copyFileSync(join(SQL_DIR, '050_pg_wal.sql'), join(sqlDir, '050_pg_wal.sql'));
  copyFileSync(join(SQL_DIR, '002_metric_storage.sql'), join(sqlDir, '002_metric_storage.sql'));
  assert.throws(() => writeFamilyMigration('pg_wal', { dir: sqlDir }), /050_pg_wal\.sql already creates pg_wal/);
  assert.throws(() => writeFamilyMigration('no_such_family', { dir: sqlDir }), /no family no_such_family/);
  assert.equal(nextNumber(sqlDir), 51);
  const path = writeFamilyMigration('pg_archiver', { dir: sqlDir });
  assert.equal(path, join(sqlDir, '051_pg_archiver.sql'));
  assert.equal(readFileSync(path, 'utf8'), familyMigration(FAMILY_BY_NAME.get('pg_archiver')!, 'protocol/families/pg-archiver.ts'));
  assert.throws(() => writeFamilyMigration('pg_archiver', { dir: sqlDir }), /already creates pg_archiver/);
  assert.throws(() => writeFamilyMigration('pg_locks', { dir: sqlDir, number: 50 }), /already has a migration 050/);
  assert.deepEqual(readdirSync(sqlDir).sort(), ['002_metric_storage.sql', '050_pg_wal.sql', '051_pg_archiver.sql']);
});
