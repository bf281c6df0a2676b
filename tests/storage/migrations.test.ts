// Migrations and the native storage path: idempotent and race-safe migrations, every family's
// table matching its protocol spec, partitions made ahead and dropped past retention, and
// hourly rollups maintained by the backend's job.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { startPostgres, type PostgresServer } from '../../devkit/postgres-server.ts';
import { migrate, loadMigrations } from '../../backend/src/storage/migrate.ts';
import { runMaintenance } from '../../backend/src/storage/maintenance.ts';
import { FAMILIES } from '../../protocol/index.ts';

let server: PostgresServer;
let n = 0;

async function freshDb(): Promise<pg.Pool> {
  const name = `mig_${n++}`;
  const admin = new pg.Client({ connectionString: server.url() });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  return new pg.Pool({ connectionString: server.url(name), max: 4 });
}

async function migrateWith(pool: pg.Pool): Promise<Awaited<ReturnType<typeof migrate>>> {
  const c = await pool.connect();
  try {
    return await migrate(c);
  } finally {
    c.release();
  }
}

before(async () => {
  server = await startPostgres();
});
after(async () => {
  await server?.stop();
});

test('migrations apply once; a second run is a no-op; two runners at once apply each exactly once', async () => {
  const pool = await freshDb();
  try {
    const [r1, r2] = await Promise.all([migrateWith(pool), migrateWith(pool)]);
    const all = loadMigrations().map((m) => m.name);
    assert.deepEqual([...r1.applied, ...r2.applied].sort(), all.sort(), 'each migration applied by exactly one runner');
    assert.equal(r1.mode, 'native', 'no TimescaleDB here: native partitioning');
    const again = await migrateWith(pool);
    assert.deepEqual(again.applied, []);
    const recorded = await pool.query('SELECT count(*)::int AS n FROM schema_migrations');
    assert.equal(recorded.rows[0].n, all.length);
  } finally {
    await pool.end();
  }
});

test("every family's table has exactly the spec's columns, in order, with matching types", async () => {
  const pool = await freshDb();
  try {
    await migrateWith(pool);
    const sqlType: Record<string, string> = {
      text: 'text',
      int: 'integer',
      bigint: 'bigint',
      float: 'double precision',
      bool: 'boolean',
      timestamptz: 'timestamp with time zone',
      jsonb: 'jsonb',
    };
    for (const f of FAMILIES) {
      const cols = await pool.query(
        `SELECT column_name, data_type FROM information_schema.columns WHERE table_name = $1 ORDER BY ordinal_position`,
        [f.table],
      );
      const owner = f.scope === 'instance' ? 'instance_id' : 'server_id';
      const expected = [['time', 'timestamp with time zone'], [owner, 'integer'], ...f.columns.map((c) => [c.name, sqlType[c.type]])];
      const got = cols.rows.map((r) => [r.column_name, r.data_type]);
      // Instance-level tables carry server_id too: last in those sql/130 altered, after time in
      // those generated since (scripts/family-migration.ts).
      if (f.scope === 'instance') {
        assert.equal(got.filter(([name, type]) => name === 'server_id' && type === 'integer').length, 1, `${f.table} has server_id`);
      }
      assert.deepEqual(f.scope === 'instance' ? got.filter(([name]) => name !== 'server_id') : got, expected, `table ${f.table}`);
      const fam = await pool.query('SELECT raw_table FROM metric_families WHERE family = $1', [f.name]);
      assert.equal(fam.rows[0]?.raw_table, f.table, `metric_families has ${f.name}`);
    }
  } finally {
    await pool.end();
  }
});

test('native path: daily partitions are made ahead and dropped past retention; rollups follow the raw rows', async () => {
  const pool = await freshDb();
  try {
    await migrateWith(pool);
    const parts = async (): Promise<string[]> =>
      (
        await pool.query(
          `SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
        WHERE i.inhparent = 'metrics_sysstat'::regclass ORDER BY 1`,
        )
      ).rows.map((r) => r.relname);
    const day = (offset: number): string => new Date(Date.now() + offset * 86400_000).toISOString().slice(0, 10).replaceAll('-', '');
    let names = await parts();
    for (const d of [-1, 0, 1, 2, 3]) assert.ok(names.includes(`metrics_sysstat_p${day(d)}`), `partition for day ${d} exists`);

    // Rows ten days back (a partition made for them), then a maintenance run: that partition
    // is past the 7-day retention and goes; the ones ahead stay.
    const server1 = (await pool.query("INSERT INTO servers (hostname) VALUES ('h') RETURNING id")).rows[0].id;
    await pool.query("SELECT pga_ensure_partitions('sysstat', now() - interval '10 days', now() - interval '10 days')");
    await pool.query("INSERT INTO metrics_sysstat (time, server_id, cpu_user_pct) VALUES (now() - interval '10 days', $1, 5)", [server1]);
    assert.ok((await parts()).includes(`metrics_sysstat_p${day(-10)}`));
    // Raw rows over two completed hours, for the rollup.
    const hour = Math.floor(Date.now() / 3600_000) * 3600_000;
    for (const [offset, user] of [
      [-2 * 3600_000 + 60_000, 10],
      [-2 * 3600_000 + 120_000, 30],
      [-3600_000 + 60_000, 50],
    ] as const) {
      await pool.query('INSERT INTO metrics_sysstat (time, server_id, cpu_user_pct, interval_s) VALUES ($1, $2, $3, 60)', [
        new Date(hour + offset),
        server1,
        user,
      ]);
    }
    const report = await runMaintenance(pool);
    assert.equal(report.ran, true);
    assert.ok(report.partitionsDropped >= 1);
    names = await parts();
    assert.ok(!names.includes(`metrics_sysstat_p${day(-10)}`), 'expired partition dropped');
    assert.ok(names.includes(`metrics_sysstat_p${day(3)}`), 'partitions ahead kept');
    const rolled = await pool.query('SELECT time, cpu_user_pct, interval_s FROM metrics_sysstat_1h WHERE server_id = $1 ORDER BY time', [
      server1,
    ]);
    assert.deepEqual(
      rolled.rows.map((r) => [r.time.getTime(), r.cpu_user_pct, r.interval_s]),
      [
        [hour - 2 * 3600_000, 20, 120],
        [hour - 3600_000, 50, 60],
      ],
    );

    // A late row for an hour already rolled up (a spool replay) is folded in by the next run.
    await pool.query("INSERT INTO rollup_dirty_hours VALUES ('sysstat', $1)", [new Date(hour - 2 * 3600_000)]);
    await pool.query('INSERT INTO metrics_sysstat (time, server_id, cpu_user_pct, interval_s) VALUES ($1, $2, 80, 60)', [
      new Date(hour - 2 * 3600_000 + 300_000),
      server1,
    ]);
    await runMaintenance(pool);
    const again = await pool.query('SELECT cpu_user_pct, interval_s FROM metrics_sysstat_1h WHERE server_id = $1 AND time = $2', [
      server1,
      new Date(hour - 2 * 3600_000),
    ]);
    assert.deepEqual([again.rows[0].cpu_user_pct, again.rows[0].interval_s], [40, 180]);
    assert.equal((await pool.query('SELECT count(*)::int AS n FROM rollup_dirty_hours')).rows[0].n, 0);
  } finally {
    await pool.end();
  }
});

test('maintenance runs in one backend at a time', async () => {
  const pool = await freshDb();
  try {
    await migrateWith(pool);
    const holder = await pool.connect();
    await holder.query('BEGIN');
    await holder.query('SELECT pg_advisory_xact_lock(7402118002)');
    const r = await runMaintenance(pool);
    assert.equal(r.ran, false, 'another instance holds the lock: skipped');
    await holder.query('ROLLBACK');
    holder.release();
    assert.equal((await runMaintenance(pool)).ran, true);
  } finally {
    await pool.end();
  }
});

test('storage = timescaledb on a server where it is not usable fails clearly and changes nothing', async () => {
  const pool = await freshDb();
  try {
    const c = await pool.connect();
    try {
      // Not installed (this machine, the embedded binaries) or installed but not preloaded (a
      // DBA's server: timescale-not-preloaded.test.ts): either way, said before anything changes.
      await assert.rejects(
        migrate(c, { storage: 'timescaledb' }),
        /timescaledb extension is not available|TimescaleDB is installed and not preloaded/,
      );
    } finally {
      c.release();
    }
    const t = await pool.query("SELECT to_regclass('storage_settings') AS t");
    assert.equal(t.rows[0].t, null);
  } finally {
    await pool.end();
  }
});

test('two backends making the same new partition at once: both succeed, one partition', async () => {
  const pool = await freshDb();
  const a = await pool.connect();
  const b = await pool.connect();
  try {
    await migrateWith(pool);
    const day = new Date(Date.now() + 20 * 86400_000);
    // A makes the partition and holds its transaction open; B asks for the same day meanwhile.
    await a.query('BEGIN');
    assert.equal((await a.query("SELECT pga_ensure_partitions('sysstat', $1, $1) AS n", [day])).rows[0].n, 1);
    const second = b.query("SELECT pga_ensure_partitions('sysstat', $1, $1) AS n", [day]);
    await new Promise((r) => setTimeout(r, 300));
    await a.query('COMMIT');
    assert.equal((await second).rows[0].n, 0, 'B finds the partition A made');
  } finally {
    a.release();
    b.release();
    await pool.end();
  }
});
