// The TimescaleDB path kept honest. TimescaleDB cannot be installed here, so what the two paths
// share runs on plain PostgreSQL (which hours late rows mark for a rollup, the storage_jobs view,
// the job metrics with no series on native storage), and what only TimescaleDB can do runs
// against an external TimescaleDB when PGA_TIMESCALEDB_URL names one (a superuser URL; each run
// makes and drops a database of its own there): late rows older than the refresh policy's
// 3 days reach the continuous aggregate, and job outcomes reach the backend's metrics.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { startPostgres, type PostgresServer } from '../../devkit/postgres-server.ts';
import { migrate } from '../../backend/src/storage/migrate.ts';
import { markLateRows, TIMESCALE_LATE_AFTER_MS } from '../../backend/src/storage/metric-families.ts';
import { consecutiveRuns, runMaintenance } from '../../backend/src/storage/maintenance.ts';
import { createMetrics } from '../../backend/src/exposition/metrics.ts';
import { STORAGE_JOBS_SQL, type StorageJobRow } from '../../backend/src/exposition/storage-jobs.ts';

const TIMEOUT = { timeout: 120_000 };
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const hourOf = (ms: number): number => Math.floor(ms / HOUR) * HOUR;

async function migratedPool(url: URL, name: string, storage: 'native' | 'timescaledb'): Promise<pg.Pool> {
  const admin = new pg.Client({ connectionString: url.toString() });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const db = new URL(url);
  db.pathname = `/${name}`;
  const pool = new pg.Pool({ connectionString: db.toString(), max: 3 });
  const c = await pool.connect();
  try {
    await migrate(c, { storage });
  } finally {
    c.release();
  }
  return pool;
}

describe('on plain PostgreSQL', () => {
  let server: PostgresServer | undefined;
  let pool: pg.Pool | undefined;
  before(async () => {
    server = await startPostgres();
    pool = await migratedPool(new URL(server.url()), 'tspath', 'native');
  }, TIMEOUT);
  after(async () => {
    try {
      await pool?.end();
    } finally {
      await server?.stop();
    }
  }, TIMEOUT);

  test(
    'TimescaleDB path: a row older than the refresh policy reaches (2 days of margin) is marked for an explicit refresh',
    TIMEOUT,
    async () => {
      const now = Date.now();
      const old = new Date(now - 4 * DAY); // the 4-day-old push: beyond the policy's 3 days
      const late = markLateRows('timescaledb', ['sysstat'], old, new Date(old.getTime() + 10 * 60_000), now);
      assert.ok(late, 'a 4-day-old row needs an explicit refresh');
      // The same statement the backend runs in the batch's transaction: it marks that hour.
      await pool!.query(late.text, [...late.values]);
      const marked = (await pool!.query("SELECT hour FROM rollup_dirty_hours WHERE family = 'sysstat'")).rows.map((r) => r.hour.getTime());
      assert.ok(marked.includes(hourOf(old.getTime())), `marked: ${marked.map((m) => new Date(m).toISOString())}`);
      // Rows the policy still refreshes are left to it; a native rollup marks every completed hour.
      const recent = new Date(now - TIMESCALE_LATE_AFTER_MS + 2 * HOUR);
      assert.equal(markLateRows('timescaledb', ['sysstat'], recent, recent, now), null);
      assert.ok(markLateRows('native', ['sysstat'], new Date(now - 2 * HOUR), new Date(now - 2 * HOUR), now));
      assert.equal(markLateRows('native', ['sysstat'], new Date(now), new Date(now), now), null);
      await pool!.query('DELETE FROM rollup_dirty_hours');
    },
  );

  test('marked hours are refreshed in runs of consecutive hours, expired ones apart', () => {
    const h = (n: number) => new Date(Date.UTC(2026, 0, 1) + n * HOUR);
    const row = (family: string, n: number, expired = false) => ({ family, rollup_table: `metrics_${family}_1h`, hour: h(n), expired });
    const runs = consecutiveRuns([row('cpu', 0, true), row('cpu', 1), row('cpu', 2), row('cpu', 4), row('sysstat', 5)]);
    assert.deepEqual(
      runs.map((r) => [r.family, r.from.getTime(), r.to.getTime(), r.hours, r.expired]),
      [
        ['cpu', h(0).getTime(), h(0).getTime(), 1, true],
        ['cpu', h(1).getTime(), h(2).getTime(), 2, false],
        ['cpu', h(4).getTime(), h(4).getTime(), 1, false],
        ['sysstat', h(5).getTime(), h(5).getTime(), 1, false],
      ],
    );
  });

  test('job outcomes: storage_jobs is readable by Grafana and empty on native storage; the metrics have no series', TIMEOUT, async () => {
    const cols = (
      await pool!.query(`SELECT column_name FROM information_schema.columns WHERE table_name = 'storage_jobs' ORDER BY ordinal_position`)
    ).rows;
    assert.deepEqual(
      cols.map((r) => r.column_name),
      [
        'job_id',
        'job_type',
        'relation',
        'last_run_status',
        'last_run_started_at',
        'last_successful_finish',
        'total_runs',
        'total_failures',
        'last_error',
      ],
    );
    assert.equal((await pool!.query("SELECT has_table_privilege('pganalytics_grafana', 'storage_jobs', 'SELECT') AS ok")).rows[0].ok, true);
    assert.equal((await pool!.query('SELECT count(*)::int AS n FROM storage_jobs')).rows[0].n, 0);
    const jobs = (await pool!.query<StorageJobRow>(STORAGE_JOBS_SQL)).rows;
    const text = await createMetrics(pool!, { storageJobs: () => jobs }).registry.metrics();
    assert.match(text, /# TYPE pga_storage_job_last_run_failed gauge/);
    assert.doesNotMatch(text, /^pga_storage_job_\w+\{/m, 'no series on native storage');
  });
});

const TSDB = process.env.PGA_TIMESCALEDB_URL;
describe('on TimescaleDB (PGA_TIMESCALEDB_URL)', {
  skip: TSDB ? false : 'PGA_TIMESCALEDB_URL is not set (a TimescaleDB superuser URL)',
}, () => {
  const name = `pga_tspath_${process.pid}`;
  let pool: pg.Pool | undefined;
  before(async () => {
    pool = await migratedPool(new URL(TSDB!), name, 'timescaledb');
  }, TIMEOUT);
  after(async () => {
    await pool?.end();
    const admin = new pg.Client({ connectionString: TSDB });
    await admin.connect();
    try {
      await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    } finally {
      await admin.end();
    }
  }, TIMEOUT);

  test('a 4-day-old row reaches the continuous aggregate through the maintenance job', TIMEOUT, async () => {
    const p = pool!;
    // Materialized rows only: the real-time part of the aggregate would show the raw row anyway.
    await p.query('ALTER MATERIALIZED VIEW metrics_sysstat_1h SET (timescaledb.materialized_only = true)');
    const serverId = (await p.query("INSERT INTO servers (hostname) VALUES ('late') RETURNING id")).rows[0].id;
    const at = new Date(hourOf(Date.now() - 4 * DAY) + 5 * 60_000);
    await p.query('INSERT INTO metrics_sysstat (time, server_id, cpu_user_pct, interval_s) VALUES ($1, $2, 42, 60)', [at, serverId]);
    const late = markLateRows('timescaledb', ['sysstat'], at, at)!;
    await p.query(late.text, [...late.values]);
    const report = await runMaintenance(p);
    assert.equal(report.mode, 'timescaledb');
    assert.ok(report.hoursRolledUp >= 1, JSON.stringify(report));
    const rolled = await p.query('SELECT cpu_user_pct FROM metrics_sysstat_1h WHERE server_id = $1 AND time = $2', [
      serverId,
      new Date(hourOf(at.getTime())),
    ]);
    assert.equal(rolled.rows[0]?.cpu_user_pct, 42);
    assert.equal((await p.query('SELECT count(*)::int AS n FROM rollup_dirty_hours')).rows[0].n, 0);
  });

  test("every family's jobs are in storage_jobs and in the backend's metrics", TIMEOUT, async () => {
    const jobs = (await pool!.query('SELECT job_type, relation FROM storage_jobs')).rows;
    const types = new Set(jobs.map((j) => j.job_type));
    for (const t of ['policy_compression', 'policy_retention', 'policy_refresh_continuous_aggregate'])
      assert.ok(types.has(t), `${t} in ${[...types]}`);
    assert.ok(jobs.some((j) => j.job_type === 'policy_refresh_continuous_aggregate' && j.relation === 'metrics_sysstat_1h'));
    const rows = (await pool!.query<StorageJobRow>(STORAGE_JOBS_SQL)).rows;
    const text = await createMetrics(pool!, { storageJobs: () => rows }).registry.metrics();
    assert.match(
      text,
      /^pga_storage_job_last_run_failed\{job_id="\d+",job_type="policy_refresh_continuous_aggregate",relation="metrics_sysstat_1h"\} [01]$/m,
    );
  });
});
