// Every dashboard query, expanded as Grafana would, runs on a real PostgreSQL 15 (native storage,
// no TimescaleDB) as the read-only pganalytics_grafana role, over rows made from real readings of
// this machine: pg_stat_database of the test server and /proc, sampled three times.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { cpus, hostname } from 'node:os';
import pg from 'pg';
import { startPostgres, type PostgresServer } from '../../backend/src/storage/postgres-server.ts';
import { migrate } from '../../backend/src/storage/migrate.ts';
import { NUMERIC_TYPES, runPanelQueries, type PanelQueriesReport } from '../../grafana/src/verify.ts';

let server: PostgresServer;
let admin: pg.Client;
let grafana: pg.Client;
let report: PanelQueriesReport;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// Counters of pg_stat_database (PG 14+ columns); gauges are taken from the later sample.
const PG_COUNTERS = ['xact_commit', 'xact_rollback', 'blks_read', 'blks_hit', 'tup_returned', 'tup_fetched', 'tup_inserted',
  'tup_updated', 'tup_deleted', 'conflicts', 'temp_files', 'temp_bytes', 'deadlocks', 'sessions', 'sessions_abandoned',
  'sessions_fatal', 'sessions_killed'];

async function samplePgStatDatabase(n: number): Promise<void> {
  await admin.query('SELECT pg_stat_clear_snapshot()');
  await admin.query(`CREATE TEMP TABLE pgsd_${n} AS
    SELECT clock_timestamp() AS at, d.datname, d.numbackends, ${PG_COUNTERS.map((c) => `d.${c}`).join(', ')},
           coalesce(d.checksum_failures, 0) AS checksum_failures, d.blk_read_time, d.blk_write_time,
           d.session_time, d.active_time, d.idle_in_transaction_time,
           pg_database_size(d.datid) AS size_bytes, age(db.datfrozenxid) AS xid_age, mxid_age(db.datminmxid) AS mxid_age
      FROM pg_stat_database d JOIN pg_database db ON db.oid = d.datid
     WHERE d.datname IS NOT NULL`);
}

async function insertPgStatDatabaseDelta(instanceId: number, a: number, b: number): Promise<void> {
  const ms = (c: string) => `b.${c} - a.${c}`;
  await admin.query(`INSERT INTO metrics_pg_stats_database (time, instance_id, datname, interval_s, numbackends,
      ${PG_COUNTERS.join(', ')}, checksum_failures, blk_read_time_ms, blk_write_time_ms, session_time_ms, active_time_ms,
      idle_in_transaction_time_ms, size_bytes, xid_age, mxid_age)
    SELECT b.at, ${instanceId}, b.datname, extract(epoch from b.at - a.at), b.numbackends,
           ${PG_COUNTERS.map(ms).join(', ')}, ${['checksum_failures', 'blk_read_time', 'blk_write_time', 'session_time',
             'active_time', 'idle_in_transaction_time'].map(ms).join(', ')}, b.size_bytes, b.xid_age, b.mxid_age
      FROM pgsd_${b} b JOIN pgsd_${a} a USING (datname)`);
}

interface ProcSample { at: Date; cpu: number[]; load: number[]; mem: Map<string, number> }
function sampleProc(): ProcSample {
  const cpu = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const load = readFileSync('/proc/loadavg', 'utf8').trim().split(/\s+/).slice(0, 3).map(Number);
  const mem = new Map(readFileSync('/proc/meminfo', 'utf8').split('\n').filter(Boolean)
    .map((l) => { const [k, v] = l.split(':'); return [k!, Number.parseInt(v!, 10) * 1024] as const; }));
  return { at: new Date(), cpu, load, mem };
}

async function insertSysstatDelta(serverId: number, a: ProcSample, b: ProcSample): Promise<void> {
  // /proc/stat cpu: user nice system idle iowait irq softirq steal (jiffies since boot)
  const d = b.cpu.slice(0, 8).map((v, i) => v - a.cpu[i]!);
  const total = d.reduce((s, v) => s + v, 0) || 1;
  const pct = (i: number) => (100 * d[i]!) / total;
  const m = (k: string) => b.mem.get(k) ?? 0;
  const values = [b.at, serverId, (b.at.getTime() - a.at.getTime()) / 1000, cpus().length,
    pct(0), pct(1), pct(2), pct(4), pct(5), pct(6), pct(7), pct(3), ...b.load,
    m('MemTotal'), m('MemAvailable'), m('MemTotal') - m('MemAvailable'), m('Cached'), m('Buffers'),
    m('SwapTotal'), m('SwapTotal') - m('SwapFree')];
  await admin.query(`INSERT INTO metrics_sysstat (time, server_id, interval_s, cpu_count, cpu_user_pct, cpu_nice_pct,
      cpu_system_pct, cpu_iowait_pct, cpu_irq_pct, cpu_softirq_pct, cpu_steal_pct, cpu_idle_pct, load1, load5, load15,
      mem_total_bytes, mem_available_bytes, mem_used_bytes, mem_cached_bytes, mem_buffers_bytes, swap_total_bytes, swap_used_bytes)
    VALUES (${values.map((_, i) => `$${i + 1}`).join(', ')})`, values);
}

/** Roll every hour into the rollups, as the backend's maintenance job does for complete hours. */
async function rollUp(): Promise<void> {
  const { rows } = await admin.query<{ rollup_table: string; rollup_sql: string }>(
    'SELECT rollup_table, rollup_sql FROM metric_families WHERE rollup_table IS NOT NULL');
  for (const r of rows) {
    const select = r.rollup_sql.replaceAll('{bucket}', "date_trunc('hour', time)").replaceAll('{filter}', 'true');
    await admin.query(`INSERT INTO ${r.rollup_table} ${select}`);
  }
}

before(async () => {
  server = await startPostgres();
  const setup = new pg.Client({ connectionString: server.url() });
  await setup.connect();
  await setup.query('CREATE DATABASE pganalytics');
  await setup.end();
  admin = new pg.Client({ connectionString: server.url('pganalytics') });
  await admin.connect();
  const { mode } = await migrate(admin, { storage: 'native' });
  assert.equal(mode, 'native');

  const srv = (await admin.query('INSERT INTO servers (hostname) VALUES ($1) RETURNING id', [hostname()])).rows[0].id as number;
  const inst = (await admin.query('INSERT INTO postgresql_instances (server_id, name, version_num) VALUES ($1, $2, $3) RETURNING id',
    [srv, 'main', server.versionNum])).rows[0].id as number;

  // Three samples a little over a second apart, with real work in between so counters move.
  const proc: ProcSample[] = [];
  for (let n = 0; n < 3; n++) {
    if (n > 0) {
      await admin.query('CREATE TABLE IF NOT EXISTS load_test AS SELECT g FROM generate_series(1, 1000) g');
      await admin.query('SELECT count(*) FROM load_test, generate_series(1, 200)');
      await admin.query('SELECT pg_stat_force_next_flush()');
      await sleep(1100);
    }
    await samplePgStatDatabase(n);
    proc.push(sampleProc());
  }
  for (let n = 1; n < 3; n++) {
    await insertPgStatDatabaseDelta(inst, n - 1, n);
    await insertSysstatDelta(srv, proc[n - 1]!, proc[n]!);
  }
  await rollUp();
  // What the backend records when a database first reports (the variable also finds recent ones).
  await admin.query('INSERT INTO databases (instance_id, datname) SELECT $1, datname FROM pg_database WHERE datallowconn', [inst]);

  // Grafana's role: trust authentication here; read-only by grants and by default_transaction_read_only.
  grafana = new pg.Client({ host: server.host, port: server.port, user: 'pganalytics_grafana', database: 'pganalytics' });
  await grafana.connect();
  report = await runPanelQueries(grafana, { now: new Date(Date.now() + 1000) });
});

after(async () => {
  await grafana?.end();
  await admin?.end();
  await server?.stop();
});

test('every variable query runs and yields values', () => {
  assert.ok(report.variables.length > 0);
  for (const v of report.variables) {
    assert.equal(v.error, undefined, `${v.dashboardUid} $${v.variable} (${v.range}): ${v.error}\n${v.sql}`);
    assert.deepEqual(v.columns.map((c) => c.name).sort(), ['__text', '__value'], `${v.variable} columns`);
    assert.ok(v.rows.length > 0, `${v.dashboardUid} $${v.variable} (${v.range}) has no options`);
  }
});

test('every panel query runs for 1 h, 24 h and 7 d and returns rows of the right shape', () => {
  const ranges = new Set(report.panels.map((p) => p.range));
  assert.deepEqual([...ranges].sort(), ['1h', '24h', '7d']);
  for (const p of report.panels) {
    const where = `${p.dashboardUid} #${p.panelId} "${p.panelTitle}" (${p.range})`;
    assert.equal(p.error, undefined, `${where}: ${p.error}\n${p.sql}`);
    assert.ok(p.rows.length > 0, `${where}: no rows`);
    if (p.format === 'time_series') {
      const time = p.columns.find((c) => c.name === 'time');
      assert.ok(time && ['timestamptz', 'float8', 'int8', 'numeric'].includes(time.type), `${where}: time column ${time?.type}`);
      assert.ok(p.columns.some((c) => c.name !== 'time' && NUMERIC_TYPES.has(c.type)), `${where}: no numeric value column`);
      const times = p.rows.map((r) => (r.time as Date).getTime());
      assert.deepEqual(times, [...times].sort((a, b) => a - b), `${where}: not ordered by time`);
    } else {
      assert.deepEqual(p.columns.map((c) => c.name), ['instance', 'datname', 'size_bytes', 'numbackends', 'xid_age', 'last_sample'], where);
    }
  }
});

test('values are plausible: TPS above zero, cache hit ratio within 0..100, memory below total', () => {
  const first = (title: string, range: string) => report.panels.find((p) => p.panelTitle === title && p.range === range)!;
  assert.ok(first('Transactions per second', '1h').rows.some((r) => (r.tps as number) > 0));
  for (const r of first('Cache hit ratio', '24h').rows) {
    if (r.cache_hit_pct !== null) assert.ok((r.cache_hit_pct as number) >= 0 && (r.cache_hit_pct as number) <= 100);
  }
  for (const r of first('Memory', '7d').rows) assert.ok((r.used as number) <= (r.total as number));
});

test('long ranges read the hourly rollups, short ranges raw rows', async () => {
  // 7 d buckets are whole hours (rollup branch); 1 h buckets follow $__interval (1 minute).
  for (const r of report.panels.filter((p) => p.range === '7d' && p.format === 'time_series').flatMap((p) => p.rows)) {
    assert.equal((r.time as Date).getTime() % 3_600_000, 0);
  }
  // Without raw rows, the 7 d view still has its data and the 1 h view has none.
  await admin.query('TRUNCATE metrics_pg_stats_database, metrics_sysstat');
  const again = await runPanelQueries(grafana, { now: new Date(Date.now() + 1000) });
  const series = again.panels.filter((p) => p.format === 'time_series');
  for (const p of series.filter((x) => x.range === '7d')) assert.ok(p.rows.length > 0, `${p.panelTitle} 7d lost its rows`);
  for (const p of series.filter((x) => x.range === '1h')) assert.equal(p.rows.length, 0, `${p.panelTitle} 1h still has rows`);
});

test('the grafana role cannot write and cannot read credentials', async () => {
  await assert.rejects(grafana.query("INSERT INTO servers (hostname) VALUES ('x')"), /read-only transaction|permission denied/);
  await assert.rejects(grafana.query('SELECT * FROM enrolment_tokens'), /permission denied/);
  await assert.rejects(grafana.query('SELECT * FROM collectors'), /permission denied/);
});
