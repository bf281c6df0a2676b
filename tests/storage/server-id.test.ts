// server_id on every instance-level table (sql/130_server_id.sql), on native storage: a database
// at the previous head with history in it migrates forward with every raw and rollup row given
// its instance's server, the rollups' values unchanged and still maintained; the backend then
// stores each pushed row with its collector's server, which the batch cannot name. The same on
// TimescaleDB when PGA_TIMESCALEDB_URL names one (a superuser URL; the test makes and drops a
// database of its own there), with the history's chunks compressed before the upgrade and the
// continuous aggregates read through the views that add server_id.
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { startPostgres, type PostgresServer } from '../../devkit/postgres-server.ts';
import { ensureDatabase } from '../../backend/src/server.ts';
import { migrate, SQL_DIR } from '../../backend/src/storage/migrate.ts';
import { runMaintenance } from '../../backend/src/storage/maintenance.ts';
import { FAMILIES } from '../../protocol/index.ts';
import { registerCollector, startStack, type Stack } from '../helpers/stack.ts';
import { push, simpleBatch } from '../backend/api.ts';

const TIMEOUT = { timeout: 180_000 };
const HOUR = 3_600_000;
/** The migrations before server_id. */
const PREVIOUS_HEAD = 130;

let server: PostgresServer;
let stack: Stack | undefined;
let oldDir: string;
before(async () => {
  server = await startPostgres();
  oldDir = mkdtempSync(join(tmpdir(), 'pga-previous-head-'));
  for (const f of readdirSync(SQL_DIR))
    if (/^\d{3}_.*\.sql$/.test(f) && Number(f.slice(0, 3)) < PREVIOUS_HEAD) copyFileSync(join(SQL_DIR, f), join(oldDir, f));
});
after(async () => {
  await stack?.stop();
  await server?.stop();
  rmSync(oldDir, { recursive: true, force: true });
});

/** Rows of a rollup table without server_id, in a stable order, for comparing before and after. */
async function rollupRows(db: pg.Pool, table: string): Promise<string[]> {
  const rows = (await db.query(`SELECT * FROM ${table} ORDER BY time, instance_id`)).rows;
  return rows.map(({ server_id: _, ...r }) => JSON.stringify(r)).sort();
}

test(
  'a database with history migrates forward: every row gets its server; rollups keep their values and are maintained',
  TIMEOUT,
  async () => {
    const url = server.url('pganalytics');
    await ensureDatabase(url);
    const db = new pg.Pool({ connectionString: url, max: 3 });
    try {
      const c = await db.connect();
      try {
        await migrate(c, { dir: oldDir });
      } finally {
        c.release();
      }
      // Two servers; the second has two instances. Rows over three completed hours.
      const s1 = (await db.query("INSERT INTO servers (hostname) VALUES ('one') RETURNING id")).rows[0].id as number;
      const s2 = (await db.query("INSERT INTO servers (hostname) VALUES ('two') RETURNING id")).rows[0].id as number;
      const inst = async (s: number, name: string): Promise<number> =>
        (await db.query('INSERT INTO postgresql_instances (server_id, name) VALUES ($1, $2) RETURNING id', [s, name])).rows[0].id;
      const owners: [number, number][] = [];
      for (const [s, name] of [
        [s1, 'main'],
        [s2, 'main'],
        [s2, 'reports'],
      ] as const)
        owners.push([await inst(s, name), s]);
      const hour = Math.floor(Date.now() / HOUR) * HOUR;
      for (const [i, [instance, srv]] of owners.entries()) {
        for (let m = 0; m < 180; m += 10) {
          const at = new Date(hour - 3 * HOUR + m * 60_000);
          await db.query(
            `INSERT INTO metrics_pg_stats_database (time, instance_id, datname, interval_s, xact_commit, numbackends) VALUES ($1, $2, 'app', 600, $3, $4)`,
            [at, instance, 10 * (i + 1) + m, m % 7],
          );
          await db.query(
            `INSERT INTO metrics_pg_log (time, instance_id, severity, kind, duration_ms) VALUES ($1, $2, 'LOG', 'slow_query', $3)`,
            [at, instance, m + i],
          );
          await db.query('INSERT INTO metrics_sysstat (time, server_id, cpu_user_pct, interval_s) VALUES ($1, $2, $3, 600)', [at, srv, m]);
        }
        await db.query(`INSERT INTO metrics_pg_statement_texts (time, instance_id, queryid, query) VALUES (now(), $1, '42', 'SELECT 1')`, [
          instance,
        ]);
      }
      // A row of an instance deleted by hand: no server to give it.
      await db.query(`INSERT INTO metrics_pg_log (time, instance_id, severity, kind) VALUES (now(), 999999, 'LOG', 'other')`);
      await runMaintenance(db);
      const before = {
        db: await rollupRows(db, 'metrics_pg_stats_database_1h'),
        log: await rollupRows(db, 'metrics_pg_log_1h'),
      };
      assert.equal(before.db.length, 9, 'three hours of three instances rolled up');

      // The backend migrates the database forward as it starts.
      stack = await startStack({ server });
      const { rows: applied } = await db.query('SELECT name FROM schema_migrations WHERE version >= $1', [PREVIOUS_HEAD]);
      assert.ok(applied.some((r) => r.name === '130_server_id.sql'));

      const serverOf = new Map(owners);
      for (const f of FAMILIES.filter((f) => f.scope === 'instance')) {
        for (const table of [f.table, `${f.table}_1h`]) {
          const col = (
            await db.query(
              "SELECT is_nullable FROM information_schema.columns WHERE table_name = $1 AND column_name = 'server_id' AND data_type = 'integer'",
              [table],
            )
          ).rows[0];
          if (table === f.table) assert.equal(col?.is_nullable, 'NO', `${table} has server_id int NOT NULL`);
          else if (col) assert.equal(col.is_nullable, 'NO', `${table} has server_id int NOT NULL`);
          if (!col) continue;
          const wrong = (
            await db.query(
              `SELECT count(*)::int AS n FROM ${table} r LEFT JOIN postgresql_instances i ON i.id = r.instance_id WHERE r.server_id IS DISTINCT FROM i.server_id`,
            )
          ).rows[0].n;
          assert.equal(wrong, 0, `every row of ${table} has its instance's server`);
        }
        // Its index leads with server_id.
        const lead = (
          await db.query(
            `SELECT count(*)::int AS n FROM pg_index x JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = x.indkey[0]
            WHERE x.indrelid = $1::regclass AND a.attname <> 'server_id'`,
            [f.table],
          )
        ).rows[0].n;
        assert.equal(lead, 0, `every index of ${f.table} leads with server_id`);
      }
      for (const [instance, srv] of owners) {
        const n = (
          await db.query('SELECT count(*)::int AS n FROM metrics_pg_stats_database WHERE instance_id = $1 AND server_id = $2', [
            instance,
            srv,
          ])
        ).rows[0].n;
        assert.equal(n, 18, `instance ${instance}'s raw rows are on server ${srv}`);
        assert.equal(serverOf.get(instance), srv);
      }
      assert.equal(
        (await db.query('SELECT count(*)::int AS n FROM metrics_pg_log WHERE instance_id = 999999')).rows[0].n,
        0,
        'orphan row gone',
      );
      assert.deepEqual(
        {
          db: await rollupRows(db, 'metrics_pg_stats_database_1h'),
          log: await rollupRows(db, 'metrics_pg_log_1h'),
        },
        before,
        'rollup values unchanged',
      );
      const minute = (await db.query('SELECT DISTINCT instance_id, server_id FROM metrics_pg_log_1m ORDER BY 1')).rows;
      assert.deepEqual(
        minute.map((r) => [r.instance_id, r.server_id]),
        owners,
        'the per-minute log view carries server_id',
      );

      // The rollups are maintained with server_id: a late row for a rolled-up hour is folded in.
      const [instance, srv] = owners[2];
      await db.query("INSERT INTO rollup_dirty_hours VALUES ('pg_stats_database', $1)", [new Date(hour - 3 * HOUR)]);
      await db.query(
        `INSERT INTO metrics_pg_stats_database (time, server_id, instance_id, datname, interval_s, xact_commit) VALUES ($1, $2, $3, 'app', 600, 1000)`,
        [new Date(hour - 3 * HOUR + 5 * 60_000), srv, instance],
      );
      await runMaintenance(db);
      const late = (
        await db.query(
          'SELECT server_id, xact_commit::int AS c, interval_s FROM metrics_pg_stats_database_1h WHERE instance_id = $1 AND time = $2',
          [instance, new Date(hour - 3 * HOUR)],
        )
      ).rows;
      // Six rows of 10*3 + m (m = 0, 10, …, 50) plus the late 1000.
      assert.deepEqual(late, [{ server_id: srv, c: 6 * 30 + 150 + 1000, interval_s: 7 * 600 }]);

      // A push: every row is stored with the collector's own server.
      const { creds } = await registerCollector(stack, { name: 'pusher' });
      const pushed = (await db.query('SELECT server_id FROM collectors WHERE id = $1', [creds.collectorId])).rows[0].server_id as number;
      const time = new Date().toISOString();
      const reply = await push(
        stack.backend,
        creds,
        simpleBatch(creds.collectorId, {
          pg_stats_database: [{ time, instance: 'main', datname: 'app', xact_commit: 5 }],
          pg_log: [{ time, instance: 'main', severity: 'LOG', kind: 'other' }],
          sysstat: [{ time, cpu_user_pct: 3 }],
        }),
      );
      assert.equal(reply.status, 201, reply.text);
      for (const table of ['metrics_pg_stats_database', 'metrics_pg_log', 'metrics_sysstat']) {
        const got = (await db.query(`SELECT server_id FROM ${table} WHERE time = $1`, [time])).rows;
        assert.deepEqual(got, [{ server_id: pushed }], `${table}: the pushed row is on the collector's server`);
      }
    } finally {
      await db.end();
    }
  },
);

const TSDB = process.env.PGA_TIMESCALEDB_URL;
describe('on TimescaleDB (PGA_TIMESCALEDB_URL)', {
  skip: TSDB ? false : 'PGA_TIMESCALEDB_URL is not set (a TimescaleDB superuser URL)',
}, () => {
  const name = `pga_server_id_${process.pid}`;
  const admin = async (sql: string): Promise<void> => {
    const c = new pg.Client({ connectionString: TSDB });
    await c.connect();
    try {
      await c.query(sql);
    } finally {
      await c.end();
    }
  };
  after(async () => {
    if (TSDB) await admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  });

  test(
    'compressed history migrates forward: raw rows get their server, the aggregates keep their rows behind views with server_id',
    TIMEOUT,
    async () => {
      await admin(`CREATE DATABASE ${name}`);
      const url = new URL(TSDB!);
      url.pathname = `/${name}`;
      const db = new pg.Pool({ connectionString: url.toString(), max: 3 });
      const upgrade = async (dir?: string): Promise<void> => {
        const c = await db.connect();
        try {
          await migrate(c, { storage: 'timescaledb', dir });
        } finally {
          c.release();
        }
      };
      try {
        await upgrade(oldDir);
        const s1 = (await db.query("INSERT INTO servers (hostname) VALUES ('one') RETURNING id")).rows[0].id as number;
        const s2 = (await db.query("INSERT INTO servers (hostname) VALUES ('two') RETURNING id")).rows[0].id as number;
        const owners: [number, number][] = [];
        for (const [s, inst] of [
          [s1, 'main'],
          [s2, 'main'],
          [s2, 'reports'],
        ] as const)
          owners.push([
            (await db.query('INSERT INTO postgresql_instances (server_id, name) VALUES ($1, $2) RETURNING id', [s, inst])).rows[0].id,
            s,
          ]);
        // Eight days of history, a row every two hours: chunks old enough to compress.
        const hour = Math.floor(Date.now() / HOUR) * HOUR;
        for (const [i, [instance]] of owners.entries())
          await db.query(
            `INSERT INTO metrics_pg_stats_database (time, instance_id, datname, interval_s, xact_commit, numbackends)
           SELECT t, $1, 'app', 600, $2 + extract(epoch FROM t)::bigint % 1000, 3
             FROM generate_series($3::timestamptz, $4::timestamptz, interval '2 hours') t`,
            [instance, 10 * (i + 1), new Date(hour - 8 * 24 * HOUR), new Date(hour - HOUR)],
          );
        // Rows of an instance deleted by hand: no server to give them.
        await db.query(
          `INSERT INTO metrics_pg_stats_database (time, instance_id, datname, xact_commit) VALUES (now() - interval '6 days', 999999, 'x', 1)`,
        );
        await db.query("CALL refresh_continuous_aggregate('metrics_pg_stats_database_1h', NULL, NULL)");
        const compressed = (
          await db.query(
            "SELECT count(compress_chunk(c, if_not_compressed => true))::int AS n FROM show_chunks('metrics_pg_stats_database', older_than => now() - interval '2 days') c",
          )
        ).rows[0].n;
        assert.ok(compressed >= 1, `${compressed} chunks compressed`);
        const aggregate = async (table: string): Promise<string[]> =>
          (
            await db.query(`SELECT time, instance_id, xact_commit::bigint AS c FROM ${table} WHERE instance_id <> 999999 ORDER BY 1, 2`)
          ).rows.map((r) => JSON.stringify(r));
        const before = await aggregate('metrics_pg_stats_database_1h');
        assert.ok(before.length > 250, `${before.length} aggregate rows`);

        await upgrade();
        assert.equal((await db.query("SELECT count(*)::int AS n FROM schema_migrations WHERE name = '130_server_id.sql'")).rows[0].n, 1);
        const wrong = (
          await db.query(
            'SELECT count(*)::int AS n FROM metrics_pg_stats_database r LEFT JOIN postgresql_instances i ON i.id = r.instance_id WHERE r.server_id IS DISTINCT FROM i.server_id',
          )
        ).rows[0].n;
        assert.equal(wrong, 0, 'every raw row, compressed or not, has its instance server (orphans gone)');
        assert.equal(
          (await db.query("SELECT rollup_cagg FROM metric_families WHERE family = 'pg_stats_database'")).rows[0].rollup_cagg,
          'metrics_pg_stats_database_1h_cagg',
        );
        assert.deepEqual(await aggregate('metrics_pg_stats_database_1h'), before, 'the aggregate kept its rows, read under its old name');
        const servers = (
          await db.query('SELECT DISTINCT instance_id, server_id FROM metrics_pg_stats_database_1h WHERE instance_id <> 999999 ORDER BY 1')
        ).rows;
        assert.deepEqual(
          servers.map((r) => [r.instance_id, r.server_id]),
          owners,
          'the view gives each aggregate row its server',
        );
        const grafanaCan = (
          await db.query("SELECT has_table_privilege('pganalytics_grafana', 'metrics_pg_stats_database_1h', 'SELECT') AS ok")
        ).rows[0].ok;
        assert.equal(grafanaCan, true);

        // Maintained after the upgrade: a late row for a compressed, aggregated hour is folded in.
        const [instance, srv] = owners[0];
        const late = new Date(hour - 4 * 24 * HOUR);
        await db.query(
          `INSERT INTO metrics_pg_stats_database (time, server_id, instance_id, datname, interval_s, xact_commit) VALUES ($1, $2, $3, 'app', 600, 100000)`,
          [new Date(late.getTime() + 5 * 60_000), srv, instance],
        );
        await db.query("INSERT INTO rollup_dirty_hours VALUES ('pg_stats_database', $1)", [late]);
        const report = await runMaintenance(db);
        assert.equal(report.mode, 'timescaledb');
        const folded = (
          await db.query(
            'SELECT server_id, xact_commit::bigint AS c FROM metrics_pg_stats_database_1h WHERE instance_id = $1 AND time = $2',
            [instance, late],
          )
        ).rows;
        assert.equal(folded.length, 1);
        assert.equal(folded[0].server_id, srv);
        assert.ok(Number(folded[0].c) >= 100000, `late row folded in: ${folded[0].c}`);
      } finally {
        await db.end();
      }
    },
  );
});
