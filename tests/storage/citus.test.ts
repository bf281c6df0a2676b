// The citus storage mode on a real Citus cluster. Citus cannot be installed by CI, so this file
// runs only when PGA_CITUS_URL names a database on a Citus coordinator whose workers are
// registered (a superuser URL); it makes a database of its own on every node
// (devkit/citus-database.ts) and drops it after. Elsewhere it skips, saying so.
//   PGA_CITUS_URL=postgres://postgres@127.0.0.1:9700/pganalytics_citus node --import tsx --test tests/storage/citus.test.ts
// A real backend migrates that database in citus mode and a real collector pushes its batches;
// then: every metric and rollup table distributed by server_id in one colocation group, the
// metadata dashboards join as reference tables, batch ids distributed by collector, the
// maintenance job's partitions, rollups and columnar conversion, and per-server reads that are
// router queries (one task).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { startPostgres, type PostgresServer } from '../../devkit/postgres-server.ts';
import { freshCitusDatabase, type CitusDatabase } from '../../devkit/citus-database.ts';
import { startBackend, type Backend } from '../../backend/src/server.ts';
import { runMaintenance } from '../../backend/src/storage/maintenance.ts';
import { loadMetricFamilies } from '../../backend/src/storage/metric-families.ts';
import { planMetricsQuery } from '../../backend/src/query/metrics-query.ts';
import { Runner } from '../../collector/src/runner.ts';
import { FAMILIES } from '../../protocol/index.ts';
import { quietLog, registerCollector, stackSettings, type Stack } from '../helpers/stack.ts';
import { push, simpleBatch } from '../backend/api.ts';

const CITUS_URL = process.env.PGA_CITUS_URL;
const TIMEOUT = { timeout: 300_000 };
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const SHARDS = 4;
const REFERENCE = ['servers', 'postgresql_instances', 'databases', 'collectors', 'collector_configs'];

describe('on a real Citus cluster', {
  skip: CITUS_URL ? false : 'PGA_CITUS_URL is not set (a fresh database on a Citus coordinator)',
}, () => {
  let citus: CitusDatabase | undefined;
  let monitored: PostgresServer | undefined;
  let backend: Backend | undefined;
  let db: pg.Pool;
  let stack: Stack;
  let dir: string;

  before(async () => {
    citus = await freshCitusDatabase(CITUS_URL!, `pga_citus_test_${process.pid}`);
    db = new pg.Pool({ connectionString: citus.url, max: 3 });
    monitored = await startPostgres();
    dir = mkdtempSync(join(tmpdir(), 'pga-citus-'));
    const settings = stackSettings({ url: () => citus!.url }, dir, { storage: 'citus', citusShardCount: SHARDS });
    backend = await startBackend(settings, quietLog('backend'));
    stack = { pg: monitored, backend, db, dir, settings, stop: async () => undefined };
  }, TIMEOUT);
  after(async () => {
    await backend?.close();
    await db?.end();
    await citus?.drop();
    await monitored?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  }, TIMEOUT);

  test(
    'the schema is made distributed: metric and rollup tables by server_id in one colocation group, metadata as reference tables',
    TIMEOUT,
    async () => {
      assert.equal((await db.query('SELECT pga_storage_mode() AS m')).rows[0].m, 'citus');
      const { rows } = await db.query(
        `SELECT p.logicalrelid::regclass::text AS t, p.partmethod, column_to_column_name(p.logicalrelid, p.partkey) AS key, p.colocationid,
              (SELECT count(*)::int FROM pg_dist_shard s WHERE s.logicalrelid = p.logicalrelid) AS shards
         FROM pg_dist_partition p JOIN pg_class c ON c.oid = p.logicalrelid WHERE NOT c.relispartition`,
      );
      const by = new Map(rows.map((r) => [r.t as string, r]));
      const metricTables = (
        await db.query(
          'SELECT raw_table AS t FROM metric_families UNION ALL SELECT rollup_table FROM metric_families WHERE rollup_table IS NOT NULL',
        )
      ).rows.map((r) => r.t as string);
      assert.equal(metricTables.length >= FAMILIES.length, true);
      const groups = new Set<number>();
      for (const t of metricTables) {
        const r = by.get(t);
        assert.ok(r, `${t} is distributed`);
        assert.deepEqual(
          [r.partmethod, r.key, r.shards],
          ['h', 'server_id', SHARDS],
          `${t}: hash-distributed by server_id in ${SHARDS} shards`,
        );
        groups.add(r.colocationid);
      }
      assert.equal(groups.size, 1, 'one colocation group');
      for (const t of REFERENCE) assert.equal(by.get(t)?.partmethod, 'n', `${t} is a reference table`);
      assert.deepEqual([by.get('ingested_batches')?.partmethod, by.get('ingested_batches')?.key], ['h', 'collector_id']);
      // Partitions made ahead are distributed too, in the same group.
      const parts = (
        await db.query(
          `SELECT count(*)::int AS n FROM pg_inherits i JOIN pg_dist_partition p ON p.logicalrelid = i.inhrelid
          WHERE i.inhparent = 'metrics_pg_stats_database'::regclass AND p.colocationid = $1`,
          [[...groups][0]],
        )
      ).rows[0].n;
      assert.ok(parts >= 5, `${parts} distributed partitions`);
      assert.equal((await db.query("SELECT count(*)::int AS n FROM pg_extension WHERE extname = 'citus_columnar'")).rows[0].n, 1);
    },
  );

  let serverId: number;
  test('a real collector pushes through the backend into the distributed tables; a repeated batch is a repeat', TIMEOUT, async () => {
    const { local, creds } = await registerCollector(stack, { name: 'citus' });
    serverId = (await db.query('SELECT server_id FROM collectors WHERE id = $1', [creds.collectorId])).rows[0].server_id;
    const runner = new Runner(local, quietLog('collector'));
    const t0 = Date.now() - 120_000;
    await runner.pullConfig();
    await runner.collectAndSpool(new Date(t0));
    await runner.drain();
    await runner.collectAndSpool(new Date(t0 + 60_000));
    await runner.drain();
    assert.equal(runner.spool.list().length, 0, 'every batch acknowledged');
    const counts = (
      await db.query(
        `SELECT (SELECT count(*)::int FROM metrics_pg_stats_database WHERE server_id = $1) AS dbs,
                (SELECT count(*)::int FROM metrics_pg_stats_database WHERE server_id IS DISTINCT FROM $1) AS others,
                (SELECT count(*)::int FROM metrics_sysstat WHERE server_id = $1) AS sys,
                (SELECT count(*)::int FROM ingested_batches WHERE collector_id = $2) AS batches`,
        [serverId, creds.collectorId],
      )
    ).rows[0];
    assert.ok(counts.dbs >= 2, `${counts.dbs} pg_stats_database rows`);
    assert.equal(counts.others, 0);
    assert.equal(counts.sys, 2);
    assert.ok(counts.batches >= 2);

    const batch = simpleBatch(creds.collectorId, { cpu: [{ time: new Date().toISOString(), cpu: 'all', user_pct: 1 }] });
    assert.equal((await push(backend!, creds, batch)).status, 201);
    const again = await push(backend!, creds, batch);
    assert.deepEqual([again.status, again.body.status], [200, 'duplicate'], again.text);
  });

  test('maintenance makes and drops distributed partitions, rolls up on the shards, and compresses old partitions', TIMEOUT, async () => {
    const hour = Math.floor(Date.now() / HOUR) * HOUR;
    const instance = (await db.query('SELECT id FROM postgresql_instances WHERE server_id = $1 LIMIT 1', [serverId])).rows[0].id;
    // Rows 10 days back (past the 7-day retention), 3 days back (to go columnar) and 2 hours back (to roll up).
    for (const [at, commits] of [
      [hour - 10 * DAY, 1],
      [hour - 3 * DAY, 2],
      [hour - 2 * HOUR + 60_000, 10],
      [hour - 2 * HOUR + 120_000, 20],
    ] as const) {
      await db.query("SELECT pga_ensure_partitions('pg_stats_database', $1, $1)", [new Date(at)]);
      await db.query(
        `INSERT INTO metrics_pg_stats_database (time, server_id, instance_id, datname, interval_s, xact_commit) VALUES ($1, $2, $3, 'rollup', 60, $4)`,
        [new Date(at), serverId, instance, commits],
      );
    }
    const day = (ms: number): string => new Date(ms).toISOString().slice(0, 10).replaceAll('-', '');
    const report = await runMaintenance(db, { columnarAfterDays: 1 });
    assert.equal(report.ran, true);
    assert.equal(report.mode, 'citus');
    assert.ok(report.partitionsDropped >= 1, 'the partition past retention dropped');
    assert.equal((await db.query('SELECT to_regclass($1) AS t', [`metrics_pg_stats_database_p${day(hour - 10 * DAY)}`])).rows[0].t, null);
    assert.ok(report.partitionsCompressed >= 1, `${report.partitionsCompressed} partitions compressed`);
    const am = async (ms: number): Promise<string> =>
      (
        await db.query('SELECT a.amname FROM pg_class c JOIN pg_am a ON a.oid = c.relam WHERE c.oid = $1::regclass', [
          `metrics_pg_stats_database_p${day(ms)}`,
        ])
      ).rows[0].amname;
    assert.equal(await am(hour - 3 * DAY), 'columnar');
    assert.equal(await am(hour), 'heap', "today's partition stays a heap");
    // A late row still lands in a columnar partition, and is read back.
    await db.query(
      `INSERT INTO metrics_pg_stats_database (time, server_id, instance_id, datname, interval_s, xact_commit) VALUES ($1, $2, $3, 'rollup', 60, 5)`,
      [new Date(hour - 3 * DAY + 60_000), serverId, instance],
    );
    const old = (
      await db.query(
        "SELECT sum(xact_commit)::int AS n FROM metrics_pg_stats_database WHERE server_id = $1 AND datname = 'rollup' AND time < $2",
        [serverId, new Date(hour - DAY)],
      )
    ).rows[0].n;
    assert.equal(old, 7);
    const rolled = (
      await db.query(
        "SELECT server_id, xact_commit::int AS c, interval_s FROM metrics_pg_stats_database_1h WHERE server_id = $1 AND datname = 'rollup' AND time = $2",
        [serverId, new Date(hour - 2 * HOUR)],
      )
    ).rows;
    assert.deepEqual(rolled, [{ server_id: serverId, c: 30, interval_s: 120 }]);
  });

  test('a per-server read is a router query: one task', TIMEOUT, async () => {
    const families = await loadMetricFamilies(db);
    const instances = (await db.query('SELECT id FROM postgresql_instances WHERE server_id = $1', [serverId])).rows.map(
      (r) => r.id as number,
    );
    const to = new Date();
    for (const [family, hours] of [
      ['pg_stats_database', 1],
      ['pg_stats_database', 24 * 30],
      ['sysstat', 1],
    ] as const) {
      const from = new Date(to.getTime() - hours * HOUR);
      const plan = planMetricsQuery({ family, from: from.toISOString(), to: to.toISOString() }, families, serverId, instances);
      const text = (await db.query(`EXPLAIN ${plan.sql}`, plan.params)).rows.map((r) => r['QUERY PLAN']).join('\n');
      assert.match(text, /Task Count: 1\b/, `${family} over ${hours} h (${plan.resolution}):\n${text}`);
    }
  });
});
