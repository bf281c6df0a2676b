// Every dashboard query and every alert rule query, expanded as Grafana would, runs on a real
// PostgreSQL (native storage, no TimescaleDB) as the read-only pganalytics_grafana role, over
// rows the real collector collected from a real PostgreSQL under workload (pg_stat_statements,
// pgbench, a blocked session, temp files, an error, a failed login) and pushed through the real
// backend.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { hostname } from 'node:os';
import pg from 'pg';
import { startStack, registerCollector, quietLog, type Stack } from '../helpers/stack.ts';
import { MONITOR_ROLE, startMonitored, superClient, type Monitored } from '../postgres/monitored.ts';
import { Runner } from '../../collector/src/runner.ts';
import { runMaintenance } from '../../backend/src/storage/maintenance.ts';
import { NUMERIC_TYPES, runPanelQueries, typeName, type PanelQueriesReport, type PanelRun } from '../../devkit/panel-queries.ts';
import { expandMacros } from '../../devkit/grafana-macros.ts';
import { citusFindings } from '../../devkit/citus-plannable.ts';
import { ALERT_RULES, ALERT_WINDOW } from '../../grafana/src/alerts/rules.ts';
import { DASHBOARDS } from '../../grafana/src/dashboards/index.ts';
import { unitOf } from '../../grafana/src/dashboards/units.ts';
import type * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';

import { pgbenchInit, pgbenchRun } from '../../devkit/pgbench-workload.ts';

let stack: Stack;
let m: Monitored;
let grafana: pg.Client;
let report: PanelQueriesReport;
let now: Date;

// Families the workload certainly fills: their panels must show rows for 1 h and 24 h.
const CERTAIN = new Set([
  'pg_stats_database',
  'pg_stats_table',
  'pg_stats_index',
  'pg_statements',
  'pg_statement_texts',
  'pg_activity',
  'pg_locks',
  'pg_bgwriter',
  'pg_wal',
  'pg_instance',
  'sysstat',
  'cpu',
  'disk_io',
  'network',
  'disk_usage',
  'collector',
  'pg_table_bloat',
  'pg_index_bloat',
]);
// Panels over those families whose rows depend on something the workload need not produce.
const MAY_BE_EMPTY = new Set([
  'Alerts firing', // nothing breaches a threshold in the test
  'Unused and invalid indexes', // pgbench's indexes are all primary keys
  'Longest transactions now',
  'Idle in transaction now',
  'Blockers now',
  'Top statements by I/O',
  'Top statements by temp files',
  'Growth over the range',
]);
const familiesOf = (sql: string): string[] => [...new Set([...sql.matchAll(/\bmetrics_([a-z_]+?)(?:_1h|_1m)?\b/g)].map((x) => x[1]!))];

before(async () => {
  [stack, m] = await Promise.all([
    startStack({ backend: { storage: 'native' } }),
    startMonitored({
      settings: {
        logging_collector: true,
        log_destination: 'csvlog,stderr',
        log_checkpoints: true,
        log_autovacuum_min_duration: 0,
        log_min_duration_statement: 0,
        log_temp_files: 0,
        log_connections: true,
        autovacuum_naptime: 1,
        log_lock_waits: true,
        deadlock_timeout: '100ms',
      },
    }),
  ]);
  const { local } = await registerCollector(stack, { hostname: hostname(), targetUrl: m.monitorUrl() });
  const runner = new Runner(local, quietLog('collector'));
  const cycle = async (at: number): Promise<void> => {
    await m.admin('SELECT pg_stat_force_next_flush()').catch(() => undefined); // PG15+
    await runner.collectAndSpool(new Date(at));
    await runner.drain();
  };
  try {
    await runner.pullConfig();
    await m.admin('CREATE DATABASE benchdb');
    await pgbenchInit(m.server.url('benchdb'), 1); // pgbench -i -s 1, by our own code (no client tools needed)
    // The bloat estimates need pg_stats of the tables, which pg_monitor alone does not see.
    await m.admin(`GRANT pg_read_all_data TO ${MONITOR_ROLE}`);
    const start = Date.now();
    // Cycles half an hour apart over the last three hours (completed hours for the rollups),
    // then a minute apart at the end (raw detail for the last hour), with work in between.
    const times = [180, 150, 120, 90, 60, 30, 5, 4, 3, 2, 1].map((min) => start - min * 60_000);
    for (const [n, at] of times.entries()) {
      await pgbenchRun(m.server.url('benchdb'), { clients: 2, transactions: 50 });
      const c = await superClient(m.server, 'benchdb');
      // A sort that spills to a temporary file, and an error.
      await c.query("SET work_mem = '64kB'");
      await c.query('SELECT count(*) FROM (SELECT g FROM generate_series(1, 100000) g ORDER BY g DESC) s');
      await c.query('SELECT 1 / 0').catch(() => undefined);
      await c.end();
      // A failed login: a role that does not exist.
      const bad = new pg.Client({ host: m.server.host, port: m.server.port, user: 'no_such_user', database: 'postgres' });
      await bad.connect().then(
        () => bad.end(),
        () => undefined,
      );
      if (n === times.length - 3) {
        // One cycle sees a blocked session: A holds a lock, B waits on it.
        const a = await superClient(m.server, 'benchdb');
        const b = await superClient(m.server, 'benchdb');
        await a.query('BEGIN');
        await a.query('LOCK TABLE pgbench_branches IN ACCESS EXCLUSIVE MODE');
        const waiting = b.query('SELECT count(*) FROM pgbench_branches');
        for (let i = 0; i < 100; i++) {
          if ((await m.admin("SELECT 1 FROM pg_stat_activity WHERE wait_event_type = 'Lock'")).rowCount) break;
          await new Promise((r) => setTimeout(r, 50));
        }
        // And until B has logged its wait (deadlock_timeout after it began): a cycle shorter than
        // that would end the wait before the line is written.
        for (let i = 0; i < 100; i++) {
          const logged = await m.admin("SELECT position('still waiting for' IN pg_read_file(pg_current_logfile('csvlog'))) > 0 AS yes");
          if (logged.rows[0].yes) break;
          await new Promise((r) => setTimeout(r, 50));
        }
        await cycle(at);
        await a.query('ROLLBACK');
        await waiting;
        await a.end();
        await b.end();
      } else {
        await cycle(at);
      }
    }
    assert.equal(runner.spool.list().length, 0);
  } finally {
    await runner.stop();
  }
  await runMaintenance(stack.db); // the backend's job: hourly rollups of completed hours

  // Grafana's role: trust authentication here; read-only by grants and by default_transaction_read_only.
  grafana = new pg.Client({ host: stack.pg.host, port: stack.pg.port, user: 'pganalytics_grafana', database: 'pganalytics' });
  await grafana.connect();
  now = new Date(Date.now() + 1000);
  report = await runPanelQueries(grafana, { now });
});

after(async () => {
  await grafana?.end();
  await stack?.stop();
  await m?.stop();
});

const where = (p: PanelRun) => `${p.dashboardUid} #${p.panelId} "${p.panelTitle}" (${p.range})`;

test('every variable query runs and yields values', { timeout: 120_000 }, () => {
  assert.ok(report.variables.length > 0);
  for (const v of report.variables) {
    assert.equal(v.error, undefined, `${v.dashboardUid} $${v.variable} (${v.range}): ${v.error}\n${v.sql}`);
    assert.deepEqual(v.columns.map((c) => c.name).sort(), ['__text', '__value'], `${v.variable} columns`);
    assert.ok(v.rows.length > 0, `${v.dashboardUid} $${v.variable} (${v.range}) has no options`);
  }
});

test('every panel query runs for 1 h, 24 h and 7 d and returns rows of the right shape', { timeout: 120_000 }, () => {
  const ranges = new Set(report.panels.map((p) => p.range));
  assert.deepEqual([...ranges].sort(), ['1h', '24h', '7d']);
  for (const p of report.panels) {
    assert.equal(p.error, undefined, `${where(p)}: ${p.error}\n${p.sql}`);
    const names = p.columns.map((c) => c.name);
    assert.ok(
      names.length > 0 && new Set(names).size === names.length && names.every((n) => n && n !== '?column?'),
      `${where(p)}: columns ${names}`,
    );
    if (p.format === 'time_series') {
      const time = p.columns.find((c) => c.name === 'time');
      assert.ok(time && time.type === 'timestamptz', `${where(p)}: time column ${time?.type}`);
      assert.ok(
        p.columns.some((c) => c.name !== 'time' && NUMERIC_TYPES.has(c.type)),
        `${where(p)}: no numeric value column`,
      );
      for (const c of p.columns)
        assert.ok(['timestamptz', 'text'].includes(c.type) || NUMERIC_TYPES.has(c.type), `${where(p)}: column ${c.name} is ${c.type}`);
      const times = p.rows.map((r) => (r.time as Date).getTime());
      assert.deepEqual(
        times,
        [...times].sort((a, b) => a - b),
        `${where(p)}: not ordered by time`,
      );
    } else {
      // Tables and stats: no timestamp without time zone (Grafana would drop the zone).
      for (const c of p.columns) assert.notEqual(c.type, 'timestamp', `${where(p)}: ${c.name} is timestamp without time zone`);
      if (p.panelType === 'stat')
        assert.ok(
          p.columns.some((c) => NUMERIC_TYPES.has(c.type)),
          `${where(p)}: stat without a number`,
        );
    }
  }
});

test('panels over families the workload fills show rows for 1 h and 24 h', { timeout: 120_000 }, () => {
  let checked = 0;
  for (const p of report.panels.filter((x) => x.range !== '7d')) {
    const families = familiesOf(p.sql);
    if (families.length === 0 && !p.sql.includes('collector_status')) continue;
    if (!families.every((f) => CERTAIN.has(f)) || MAY_BE_EMPTY.has(p.panelTitle)) continue;
    assert.ok(p.rows.length > 0, `${where(p)}: no rows though ${families.join(', ')} has data\n${p.sql}`);
    checked++;
  }
  assert.ok(checked > 60, `only ${checked} panel runs checked`);
});

test('the workload is visible: TPS, statements with text, the blocked session, temp files, memory below total', {
  timeout: 120_000,
}, () => {
  const first = (title: string, range: string, uid?: string) =>
    report.panels.find((p) => p.panelTitle === title && p.range === range && (!uid || p.dashboardUid === uid))!;
  assert.ok(first('Transactions per second', '1h', 'pga-postgresql-overview').rows.some((r) => (r.tps as number) > 0));
  for (const r of first('Cache hit ratio', '24h').rows) {
    if (r.cache_hit_pct !== null) assert.ok((r.cache_hit_pct as number) >= 0 && (r.cache_hit_pct as number) <= 100);
  }
  // Every CPU state is shown: the stack adds up to 100 % (raw rows; 7 d reads hourly averages).
  for (const r of first('CPU', '1h').rows.filter((x) => x.idle_pct !== null)) {
    const sum = ['user', 'nice', 'system', 'iowait', 'irq', 'softirq', 'steal', 'idle'].reduce((n, st) => n + Number(r[`${st}_pct`]), 0);
    assert.ok(Math.abs(sum - 100) < 0.5, `CPU states add up to ${sum}`);
  }
  for (const r of first('Memory', '7d').rows) assert.ok((r.used_bytes as number) <= (r.total_bytes as number));
  const top = first('Top statements by total time', '1h').rows;
  assert.ok(
    top.some((r) => /pgbench_accounts/.test(String(r.query))),
    'pgbench statements with their text',
  );
  assert.ok(first('Top statements by WAL', '1h').rows.length > 0);
  const blocked = first('Blocked sessions and their blockers', '1h').rows;
  // The wait is in the log too (log_lock_waits, deadlock_timeout 100 ms).
  assert.ok(
    first('Lock waits in the log', '1h').rows.some((r) => r.kind === 'lock_waiting' && Number(r.records) > 0),
    'the logged lock wait',
  );
  assert.ok(
    blocked.some((r) => /pgbench_branches/.test(String(r.blocked_query)) && r.blocking_state === 'idle in transaction'),
    'the blocked session and its blocker',
  );
  assert.ok(first('Largest tables', '24h').rows.some((r) => r.relation === 'public.pgbench_accounts'));
  const servers = first('Servers', '1h').rows;
  assert.equal(servers.length, 1);
  assert.equal(servers[0]!.instances_up, '1/1');
  assert.ok((servers[0]!.tps as number) > 0 && servers[0]!.last_seen_at instanceof Date);
});

test('the Logs dashboard shows the workload: events by kind, the error, the failed login, temp files, slow statements', {
  timeout: 120_000,
}, () => {
  const logs = report.panels.filter((p) => p.dashboardUid === 'pga-logs-events');
  assert.ok(logs.length >= 7 * 3);
  for (const p of logs) assert.equal(p.error, undefined, `${where(p)}: ${p.error}`);
  const rows = (title: string) => logs.find((p) => p.panelTitle === title && p.range === '1h')!.rows;
  assert.ok(rows('Events by kind').length > 0, 'log records arrived');
  assert.ok(
    rows('Latest errors').some((r) => /division by zero/.test(String(r.message))),
    'the error',
  );
  assert.ok(
    rows('Failed logins').length > 0 || rows('Latest errors').some((r) => /no_such_user/.test(String(r.message))),
    'the failed login',
  );
  assert.ok(
    rows('Temporary files written').some((r) => Number(r.temp_bytes) > 0),
    'the temp file',
  );
  assert.ok(rows('Slow statements').length > 0, 'statements logged with their duration');
});

// What Citus cannot plan (issue 22), in the SQL that just ran here on native PostgreSQL: no
// LATERAL subquery over a table, no correlated subquery, and on the dashboards of one server every
// read of a metric table (rollup watermarks and lookups included) filtered by server_id, the
// distribution column: a router query on Citus, one shard on one node.
const OWNER_COLUMNS = ['server_id'];
test('every dashboard, variable, annotation and alert query is one Citus can plan, owner-filtered per server', {
  timeout: 120_000,
}, async () => {
  const perServer = new Set(
    DASHBOARDS.map((make) => make())
      .filter((d) => d.templating.list?.some((v) => v.name === 'server'))
      .map((d) => d.uid),
  );
  assert.ok(perServer.size >= 10, `${perServer.size} dashboards with a server variable`);
  const range = { from: new Date(now.getTime() - 3_600_000), to: now };
  const queries = [
    ...[...report.panels, ...report.variables, ...report.annotations].map((q) => ({
      name: `${q.dashboardUid} ${'panelTitle' in q ? q.panelTitle : 'variable' in q ? `$${q.variable}` : `@${q.name}`} (${q.range})`,
      sql: q.sql,
      owners: perServer.has(q.dashboardUid) ? OWNER_COLUMNS : undefined,
    })),
    // Alerts read the whole fleet: the planning rules only.
    ...ALERT_RULES.map((r) => ({ name: r.uid, sql: expandMacros(r.sql(ALERT_WINDOW), { range }), owners: undefined })),
  ];
  const problems: string[] = [];
  for (const q of queries) {
    for (const f of await citusFindings(q.sql, { owners: q.owners })) problems.push(`${q.name}: ${f.rule}: ${f.detail}`);
  }
  assert.ok(queries.length > 500, `${queries.length} queries`);
  assert.deepEqual(problems, []);
});

test('every alert rule query runs over its window and returns time, labels and a number', { timeout: 120_000 }, async () => {
  for (const rule of ALERT_RULES) {
    const range = { from: new Date(now.getTime() - rule.windowMinutes * 60_000), to: now };
    const sql = expandMacros(rule.sql(ALERT_WINDOW), { range, interval: { datasourceTimeInterval: '1m' } });
    const res = await grafana.query(sql);
    const cols = Object.fromEntries(res.fields.map((f) => [f.name, typeName(f.dataTypeID)]));
    assert.deepEqual(Object.keys(cols), ['time', 'server', 'subject', 'value'], rule.uid);
    assert.equal(cols.time, 'timestamptz', rule.uid);
    assert.equal(cols.value, 'float8', rule.uid);
    const families = familiesOf(sql);
    // TimescaleDB's job outcomes: this is native storage, which has no such jobs.
    if (rule.uid === 'pga-storage-job-failed') assert.equal(res.rows.length, 0, 'no TimescaleDB jobs on native storage');
    else if (families.every((f) => CERTAIN.has(f))) assert.ok(res.rows.length > 0, `${rule.uid}: no rows\n${sql}`);
    // Healthy test server: nothing fires except what the workload causes on purpose.
    if (['pga-instance-down', 'pga-collector-silent', 'pga-connections-high', 'pga-xid-age', 'pga-disk-full-forecast'].includes(rule.uid)) {
      for (const r of res.rows)
        assert.ok(rule.op === 'gt' ? r.value <= rule.threshold : r.value >= rule.threshold, `${rule.uid} fires: ${JSON.stringify(r)}`);
    }
  }
});

test('long ranges read the hourly rollups, short ranges raw rows', { timeout: 120_000 }, async () => {
  // 7 d buckets are whole hours (rollup branch); 1 h buckets follow $__interval (1 minute).
  for (const r of report.panels.filter((p) => p.range === '7d' && p.format === 'time_series').flatMap((p) => p.rows)) {
    assert.equal((r.time as Date).getTime() % 3_600_000, 0);
  }
  // Without raw rows, the 7 d view still has its data and the 1 h view has none.
  await stack.db.query('TRUNCATE metrics_pg_stats_database, metrics_sysstat');
  const again = await runPanelQueries(grafana, { now });
  const only = (p: PanelRun) => familiesOf(p.sql).every((f) => f === 'pg_stats_database' || f === 'sysstat') && p.format === 'time_series';
  const series = again.panels.filter(only);
  assert.ok(series.length >= 10);
  for (const p of series.filter((x) => x.range === '7d')) assert.ok(p.rows.length > 0, `${where(p)} lost its rows`);
  for (const p of series.filter((x) => x.range === '1h')) assert.equal(p.rows.length, 0, `${where(p)} still has rows`);
});

// The collectors columns collector_status reads, which the role holds by column grants (sql/140):
// on Citus the view is read with the caller's rights, and here too (security_invoker, PG15+).
const COLLECTOR_COLUMNS = ['cert_not_after', 'collector_version', 'created_at', 'id', 'last_seen_at', 'server_id', 'status'];
const SECRET_COLUMNS = ['cert_serial', 'cert_fingerprint', 'prev_cert_fingerprint', 'refresh_token_hash', 'prev_refresh_token_hash'];

test('the grafana role cannot write and cannot read credentials', { timeout: 120_000 }, async () => {
  await assert.rejects(grafana.query("INSERT INTO servers (hostname) VALUES ('x')"), /read-only transaction|permission denied/);
  await assert.rejects(grafana.query('SELECT * FROM enrolment_tokens'), /permission denied/);
  await assert.rejects(grafana.query('SELECT * FROM collectors'), /permission denied/);
  for (const c of SECRET_COLUMNS) await assert.rejects(grafana.query(`SELECT ${c} FROM collectors`), /permission denied/, c);
  const granted = await stack.db.query<{ column_name: string }>(
    `SELECT column_name FROM information_schema.column_privileges
      WHERE grantee = 'pganalytics_grafana' AND table_name = 'collectors' AND privilege_type = 'SELECT' ORDER BY 1`,
  );
  assert.deepEqual(
    granted.rows.map((r) => r.column_name),
    COLLECTOR_COLUMNS,
  );
  const seen = await grafana.query('SELECT * FROM collector_status');
  assert.ok(seen.rows.length > 0 && !('refresh_token_hash' in seen.rows[0]) && !('cert_fingerprint' in seen.rows[0]));
  // Beside the metric tables, what the dashboards read and nothing else (a table added later
  // gets SELECT by 060's default privileges: one that holds secrets must revoke it).
  const readable = await stack.db.query<{ relname: string }>(
    `SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'm') AND NOT c.relispartition AND c.relname NOT LIKE 'metrics\\_%'
        AND has_table_privilege('pganalytics_grafana', c.oid, 'SELECT') ORDER BY 1`,
  );
  assert.deepEqual(
    readable.rows.map((r) => r.relname),
    ['collector_status', 'databases', 'metric_families', 'postgresql_instances', 'servers', 'storage_jobs', 'storage_settings'],
  );
  // The view stands on the role's own grants, as on Citus: without one of them it fails.
  await stack.db.query('REVOKE SELECT (last_seen_at) ON collectors FROM pganalytics_grafana');
  try {
    await assert.rejects(grafana.query('SELECT * FROM collector_status'), /permission denied/);
  } finally {
    await stack.db.query('GRANT SELECT (last_seen_at) ON collectors TO pganalytics_grafana');
  }
});

// Units: every numeric column's unit comes from its name (units.ts), and the panel JSON gives
// that unit to that field; a time series has at most two units, the second on the right axis.
const panelJson = new Map(
  DASHBOARDS.map((make) => make()).flatMap((d) =>
    (d.panels ?? [])
      .flatMap((p) => [p, ...((p as { panels?: dashboard.Panel[] }).panels ?? [])])
      .map((p) => [`${d.uid}#${p.id}`, p as dashboard.Panel] as const),
  ),
);

/** The unit Grafana would give a field of this panel, and whether it sits on the right axis. */
function fieldUnit(p: dashboard.Panel, column: string): { unit: string | undefined; right: boolean } {
  let unit = p.fieldConfig?.defaults?.unit;
  let right = false;
  for (const o of p.fieldConfig?.overrides ?? []) {
    const names =
      o.matcher.id === 'byNames'
        ? (o.matcher.options as { names: string[] }).names
        : o.matcher.id === 'byName'
          ? [String(o.matcher.options)]
          : [];
    if (!names.includes(column)) continue;
    for (const prop of o.properties) {
      if (prop.id === 'unit') unit = String(prop.value);
      if (prop.id === 'custom.axisPlacement') right = prop.value === 'right';
    }
  }
  return { unit, right };
}

test('every numeric field has the unit its name says, and a time series at most one unit per axis', () => {
  const problems = new Set<string>();
  for (const run of report.panels) {
    const p = panelJson.get(`${run.dashboardUid}#${run.panelId}`)!;
    const numeric = run.columns.filter((c) => NUMERIC_TYPES.has(c.type));
    for (const c of numeric) {
      const want = unitOf(c.name);
      if (!want) problems.add(`${where(run)}: ${c.name} has no unit in its name`);
      else if (fieldUnit(p, c.name).unit !== want)
        problems.add(`${where(run)}: ${c.name} shown as ${fieldUnit(p, c.name).unit}, not ${want}`);
    }
    if (run.format !== 'time_series') continue;
    const units = [...new Set(numeric.map((c) => unitOf(c.name)))];
    if (units.length > 2) problems.add(`${where(run)}: units ${units}`);
    const sides = new Set(numeric.map((c) => `${unitOf(c.name)} ${fieldUnit(p, c.name).right}`));
    if (units.length === 2 && sides.size !== 2) problems.add(`${where(run)}: two units on one axis (${[...sides]})`);
    // A rate says so in its title.
    if (numeric.some((c) => /_per_s$/.test(c.name)) && !/per second/.test(run.panelTitle))
      problems.add(`${where(run)}: a rate without "per second" in its title`);
  }
  assert.deepEqual(
    [...problems].map((x) => x.replace(/ \((1h|24h|7d)\)/, '')).filter((x, i, a) => a.indexOf(x) === i),
    [],
  );
});

test('the unit table: sizes in bytes, ids without prefixes, rates per second, ages and counts as numbers', () => {
  const cases: Array<[string, string]> = [
    ['size_bytes', 'bytes'],
    ['temp_bytes_per_s', 'Bps'],
    ['calls_per_s', 'ops'],
    ['tps', 'ops'],
    ['blocked_pid', 'none'],
    ['instance_id', 'none'],
    ['queryid', 'none'],
    ['dead_tuples', 'short'],
    ['mean_ms', 'ms'],
    ['uptime_s', 's'],
    ['cache_hit_pct', 'percent'],
    ['xid_age', 'short'],
    ['days_until_full', 'd'],
    // Bloat estimates: bytes and share of the relation; fillfactor is a percentage too.
    ['bloat_bytes', 'bytes'],
    ['bloat_pct', 'percent'],
    ['fillfactor', 'percent'],
  ];
  for (const [name, unit] of cases) assert.equal(unitOf(name), unit, name);
});

test('count panels are zero-filled in every sampled bucket; a silent collector leaves a gap, not a line', async () => {
  // The 1 h range has 1-minute buckets; the collector sampled 30 minutes ago, then every minute for the last 5.
  const from = new Date(now.getTime() - 3_600_000);
  const sampled = (
    await stack.db.query<{ t: number }>(
      `SELECT DISTINCT floor(extract(epoch FROM time) / 60) * 60 * 1000 AS t FROM metrics_pg_instance WHERE time BETWEEN $1 AND $2 ORDER BY 1`,
      [from, now],
    )
  ).rows.map((r) => Number(r.t));
  assert.ok(sampled.length >= 5);
  const run = (title: string, uid?: string) =>
    report.panels.find((p) => p.panelTitle === title && p.range === '1h' && (!uid || p.dashboardUid === uid))!;
  for (const title of [
    'Events by kind',
    'Autovacuum log records',
    'Active sessions by wait event',
    'Blocked sessions (sampled)',
    'Lock waits in the log',
  ]) {
    const rows = run(title).rows;
    const labels = run(title)
      .columns.filter((c) => c.type === 'text')
      .map((c) => c.name);
    const series = new Map<string, number[]>();
    for (const r of rows) {
      if (Object.values(r).some((v) => v === null)) continue; // the gap marker
      const key = labels.map((l) => r[l]).join('/');
      series.set(key, [...(series.get(key) ?? []), (r.time as Date).getTime()]);
    }
    assert.ok(series.size > 0, `${title}: no series`);
    for (const [key, times] of series) {
      const missing = sampled.filter((t) => !times.includes(t));
      assert.deepEqual(missing, [], `${title} ${key}: a row (0 when nothing happened) in every sampled bucket`);
    }
  }
  // Filling loses nothing: log records at their own times (not the cycles') are all counted.
  const logged = (await stack.db.query<{ n: string }>('SELECT count(*) AS n FROM metrics_pg_log WHERE time BETWEEN $1 AND $2', [from, now]))
    .rows[0]!.n;
  assert.equal(
    run('Events by kind').rows.reduce((n, r) => n + Number(r.records ?? 0), 0),
    Number(logged),
  );
  // Gauges and rates: a row of nulls right after a sample followed by a 25-minute silence.
  const tps = run('Transactions per second', 'pga-postgresql-overview').rows;
  const gap = tps.filter((r) => r.tps === null).map((r) => (r.time as Date).getTime());
  const silence = sampled.findIndex((t, i) => sampled[i + 1]! - t > 20 * 60_000);
  assert.ok(silence >= 0);
  assert.ok(
    gap.includes(sampled[silence]! + 60_000),
    `a null after ${new Date(sampled[silence]!).toISOString()}: ${gap.map((t) => new Date(t).toISOString())}`,
  );
});

test('"now" panels show only the newest sample and say its age; versions read like 15.20', async () => {
  const ageOf = async (table: string): Promise<number> =>
    (now.getTime() - (await stack.db.query<{ t: Date }>(`SELECT max(time) AS t FROM ${table}`)).rows[0]!.t.getTime()) / 1000;
  const age = await ageOf('metrics_pg_instance');
  // The bloat estimates are hourly: their newest sample is their own, not the last cycle's.
  const SLOW = ['pg_table_bloat', 'pg_index_bloat'];
  let checked = 0;
  for (const p of report.panels.filter((x) => x.range === '1h' && x.columns.some((c) => c.name === 'sample_age_s'))) {
    if (p.panelTitle === 'Vacuum progress') continue; // vacuums seen in the hour, each with its own age
    const slow = familiesOf(p.sql).find((f) => SLOW.includes(f));
    const want = slow ? await ageOf(`metrics_${slow}`) : age;
    if (slow) assert.ok(p.rows.length > 0 && want > age, `${where(p)}: the newest estimate, older than the last cycle`);
    for (const r of p.rows)
      assert.ok(
        Math.abs(Number(r.sample_age_s) - want) < 1,
        `${where(p)}: a row ${r.sample_age_s} s old, the newest sample is ${want} s old`,
      );
    checked++;
  }
  assert.ok(checked >= 10, `${checked} panels`);
  const rows = (title: string) => report.panels.find((p) => p.panelTitle === title && p.range === '1h')!.rows;
  for (const r of rows('Longest transactions now')) assert.ok(Number(r.oldest_xact_s) >= 0, `negative age ${r.oldest_xact_s}`);
  const version = (await m.admin("SELECT current_setting('server_version_num')::int AS v")).rows[0].v as number;
  const want = `${Math.floor(version / 10000)}.${version % 10000}`;
  assert.equal(rows('Servers')[0]!.version, want);
  assert.equal(rows('Instances')[0]!.version, want);
});

test("top statements leave out the collector's own unless $ownqueries = include; wraparound panels show template0 and template1", async () => {
  const ours = (rows: readonly Record<string, unknown>[]) => rows.filter((r) => String(r.query).includes('/* pganalytics-collector */'));
  const top = (r: PanelQueriesReport) =>
    r.panels.filter((p) => p.dashboardUid === 'pga-query-performance' && p.range === '1h' && p.panelTitle.startsWith('Top statements'));
  for (const p of top(report)) assert.deepEqual(ours(p.rows), [], `${where(p)} lists the collector's statements`);
  const dashboards = DASHBOARDS.map((make) => make()).filter((d) => d.uid === 'pga-query-performance');
  const included = await runPanelQueries(grafana, { now, dashboards, custom: { ownqueries: 'include' } });
  assert.ok(
    top(included).some((p) => ours(p.rows).length > 0),
    "with include, the collector's statements are listed",
  );
  const xid = report.panels.find((p) => p.panelTitle === 'Transaction ID age' && p.range === '1h')!;
  const names = new Set(xid.rows.map((r) => String(r.datname).split('/').pop()));
  for (const db of ['template0', 'template1', 'postgres', 'benchdb']) assert.ok(names.has(db), `${db} on the XID age panel: ${[...names]}`);
  const picker = report.variables.find(
    (v) => v.dashboardUid === 'pga-postgresql-overview' && v.variable === 'database' && v.range === '1h',
  )!;
  assert.ok(!picker.rows.some((r) => String(r.__value).startsWith('template')), 'templates stay out of the database picker');
});

test('the fill-up forecast needs hours of history and is not moved by a short burst', async () => {
  const rule = ALERT_RULES.find((r) => r.uid === 'pga-disk-full-forecast')!;
  const serverId = (await stack.db.query<{ id: number }>('SELECT id FROM servers LIMIT 1')).rows[0]!.id;
  const end = Math.floor(now.getTime() / 60_000) * 60_000 - 60_000;
  const G = 1e9;
  // 12 hours, a sample a minute: a flat disk with a half-hour burst at the end (to 95 %), a path
  // with only 13 minutes of history (growing fast), and one that grows steadily and fills in ~6 hours.
  const used: Record<string, (minutesAgo: number) => number | undefined> = {
    '/burst': (ago) => (ago < 30 ? 50 * G + (30 - ago) * 1.5 * G : 50 * G),
    '/young': (ago) => (ago < 13 ? 50 * G + (13 - ago) * 0.8 * G : undefined),
    '/filling': (ago) => 70 * G - (ago / 60) * 5 * G,
  };
  const rows: unknown[][] = [];
  for (const [path, f] of Object.entries(used)) {
    for (let ago = 0; ago < 720; ago++) {
      const u = f(ago);
      if (u !== undefined) rows.push([new Date(end - ago * 60_000), path, u, 100 * G - u]);
    }
  }
  await stack.db.query(`SELECT pga_ensure_partitions('disk_usage', $1, $2)`, [new Date(end - 721 * 60_000), new Date(end + 60_000)]);
  const insert = `INSERT INTO metrics_disk_usage (time, server_id, role, path, size_bytes, used_bytes, available_bytes, used_pct)
    SELECT t, $1, 'test', p, ${100 * G}, u, a, u / ${G} FROM unnest($2::timestamptz[], $3::text[], $4::float8[], $5::float8[]) AS x(t, p, u, a)`;
  await stack.db.query(insert, [serverId, rows.map((r) => r[0]), rows.map((r) => r[1]), rows.map((r) => r[2]), rows.map((r) => r[3])]);
  try {
    const range = { from: new Date(now.getTime() - rule.windowMinutes * 60_000), to: now };
    const expand = (sql: string) => expandMacros(sql, { range, interval: { datasourceTimeInterval: '1m' } });
    const res = await grafana.query(expand(rule.sql(ALERT_WINDOW)));
    const hours = new Map(
      res.rows.filter((r) => String(r.subject).startsWith('test ')).map((r) => [String(r.subject).slice(5), Number(r.value)]),
    );
    // What the least-squares fit over all samples said (the old rule): both false alarms fired.
    const old = await grafana.query(
      expand(`SELECT m.path, (array_agg(m.available_bytes ORDER BY m.time DESC))[1]
        / regr_slope(m.used_bytes, extract(epoch FROM m.time)) / 3600 AS hours
      FROM metrics_disk_usage m WHERE m.role = 'test' AND $__timeFilter(m.time) GROUP BY m.path`),
    );
    const before = new Map(old.rows.map((r) => [String(r.path), Number(r.hours)]));
    assert.ok(
      before.get('/burst')! < rule.threshold && before.get('/young')! < rule.threshold,
      `the old fit fired: ${JSON.stringify([...before])}`,
    );
    assert.ok(hours.get('/burst')! >= rule.threshold, `a half-hour burst fires: ${hours.get('/burst')} h`);
    assert.ok(hours.get('/young')! >= rule.threshold, `13 minutes of history fire: ${hours.get('/young')} h`);
    assert.ok(Math.abs(hours.get('/filling')! - 6) < 0.5, `steady growth to full in 6 h: ${hours.get('/filling')} h`);
    // The panel says the same and how much history it had.
    const panel = (
      await runPanelQueries(grafana, {
        now,
        ranges: [{ name: '12h', ...range }],
        dashboards: DASHBOARDS.map((make) => make()).filter((d) => d.uid === 'pga-disk-usage'),
      })
    ).panels.find((p) => p.panelTitle === 'Fill-up forecast')!;
    const byPath = new Map(panel.rows.map((r) => [String(r.filesystem), r]));
    assert.equal(byPath.get('test /young')!.days_until_full, null);
    assert.ok(Number(byPath.get('test /young')!.history_s) < 3600);
    assert.equal(byPath.get('test /burst')!.days_until_full, null);
    assert.ok(Math.abs(Number(byPath.get('test /filling')!.days_until_full) * 24 - 6) < 0.5);
  } finally {
    await stack.db.query("DELETE FROM metrics_disk_usage WHERE role = 'test'");
  }
});

test('every annotation query (restarts, statistics resets) runs and returns time, text and tags', () => {
  assert.ok(report.annotations.length >= 2 * 3);
  for (const a of report.annotations) {
    assert.equal(a.error, undefined, `${a.dashboardUid} ${a.name} (${a.range}): ${a.error}\n${a.sql}`);
    assert.deepEqual(
      a.columns.map((c) => `${c.name}:${c.type}`),
      ['time:timestamptz', 'text:text', 'tags:text'],
      a.name,
    );
  }
  assert.ok(
    report.annotations.some((a) => a.name === 'Restarts' && a.rows.length > 0),
    'the monitored server started within the range',
  );
});

test('the views DBAs look for first: settings, freeze age %, autovacuum workers, idle in transaction, per-process CPU, swap', () => {
  const rows = (title: string) => report.panels.find((p) => p.panelTitle === title && p.range === '1h')!.rows;
  assert.ok(
    rows('Changed settings').some((r) => r.name === 'shared_preload_libraries' && r.setting === 'pg_stat_statements'),
    'changed settings',
  );
  const freeze = rows('Freeze age % of autovacuum_freeze_max_age').filter((r) => r.freeze_age_pct !== null);
  assert.ok(
    freeze.length > 0 && freeze.every((r) => Number(r.freeze_age_pct) > 0 && Number(r.freeze_age_pct) < 100),
    'freeze age % against the default 200 million',
  );
  assert.ok(rows('Oldest tables to freeze').every((r) => Number(r.freeze_age_pct) >= 0 && Number(r.freeze_age_pct) < 100));
  assert.ok(
    rows('Autovacuum workers').every((r) => r.max_workers === 3 || r.autovacuum_workers === null),
    'autovacuum_max_workers (default 3) in every bucket',
  );
  // The blocker of the blocked session was idle in transaction in one cycle.
  assert.ok(
    rows('Idle in transaction').some((r) => Number(r.sessions) > 0 && Number(r.longest_idle_s) >= 0),
    'idle in transaction seen',
  );
  assert.ok(
    rows('CPU by process type').some((r) => /client backend|checkpointer|background writer/.test(String(r.process))),
    'per-process CPU',
  );
  assert.ok(
    rows('Swap').some((r) => r.swap_total_bytes !== null),
    'swap',
  );
  assert.ok(
    rows('Database I/O time per second').some((r) => r.read_time_ms_per_s !== null),
    'database I/O time (track_io_timing)',
  );
});

test('"Blockers now" at the cycle that saw the blocked session: its blocker, as the root, with the sessions it blocked', async () => {
  const pairs = report.panels.find((p) => p.panelTitle === 'Blocked sessions and their blockers' && p.range === '1h')!.rows;
  const pair = pairs[0]!;
  const at = (pair.time as Date).getTime();
  // The test's waiting session, and any other its lock held up then (the collector's size query).
  const blocked = new Set(
    pairs.filter((r) => (r.time as Date).getTime() === at && r.blocking_pid === pair.blocking_pid).map((r) => r.blocked_pid),
  ).size;
  const dashboards = DASHBOARDS.map((make) => make()).filter((d) => d.uid === 'pga-locks-activity');
  const atBlock = await runPanelQueries(grafana, {
    dashboards,
    ranges: [{ name: 'at', from: new Date(at - 3_600_000), to: new Date(at + 1000) }],
    now: new Date(at + 1000),
  });
  const blockers = atBlock.panels.find((p) => p.panelTitle === 'Blockers now')!.rows;
  assert.deepEqual(
    blockers.map((r) => [r.blocking_pid, r.position, r.blocked_sessions, r.blocking_state]),
    [[pair.blocking_pid, 'root', blocked, 'idle in transaction']],
  );
  // A minute later the episode is over: nothing is shown as current.
  assert.deepEqual(report.panels.find((p) => p.panelTitle === 'Blockers now' && p.range === '1h')!.rows, []);
});
