// The real path with a real workload: a monitored PostgreSQL (pg_stat_statements, a pg_monitor-only
// collector role), the backend over real TLS, and a registered collector running cycles 60 s
// apart. Checks what lands in the metric tables: exact statement and table deltas, a blocked
// session and its blocker, no spike after stats resets, and an instance going down and back.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startStack, registerCollector, quietLog, type Stack } from '../helpers/stack.ts';
import { startPostgres } from '../../devkit/postgres-server.ts';
import { pgbenchInit, pgbenchRun } from '../../devkit/pgbench-workload.ts';
import { Runner } from '../../collector/src/runner.ts';
import { startMonitored, superClient, type Monitored } from './monitored.ts';

const MARKER = 'pga_workload_marker_37';
let stack: Stack;
let m: Monitored;
let targetDir: string;

before(async () => {
  targetDir = mkdtempSync(join(tmpdir(), 'pga-target-'));
  [stack, m] = await Promise.all([startStack(), startMonitored({ dataDir: join(targetDir, 'data') })]);
});
after(async () => {
  await stack?.stop();
  await m?.stop();
  if (targetDir) rmSync(targetDir, { recursive: true, force: true });
});

/** pgbench -n -c clients -t transactions on benchdb (our own implementation: no client tools needed). */
const pgbench = (clients: number, transactions: number) => pgbenchRun(m.server.url('benchdb'), { clients, transactions });

async function runMarker(times: number): Promise<void> {
  const c = await superClient(m.server);
  for (let i = 0; i < times; i++) await c.query(`SELECT $1::int AS ${MARKER}`, [i]);
  await c.end();
}

const STATEMENT_COUNTERS = [
  'calls',
  'total_exec_time_ms',
  'rows',
  'shared_blks_hit',
  'shared_blks_read',
  'shared_blks_written',
  'wal_records',
  'wal_bytes',
];
const TABLE_COUNTERS = ['seq_scan', 'idx_scan', 'n_tup_ins', 'n_tup_upd', 'n_tup_del', 'heap_blks_hit', 'heap_blks_read'];

test('workload deltas, blocking, resets and an outage land in the metric tables', { timeout: 300_000 }, async () => {
  const { local } = await registerCollector(stack, { targetUrl: m.monitorUrl() });
  const runner = new Runner(local, quietLog('collector'));
  const q = (sql: string, params: unknown[] = []) => stack.db.query(sql, params).then((r) => r.rows);
  try {
    await runner.pullConfig();
    const t0 = Date.now() - 7 * 60_000;
    const cycle = async (i: number): Promise<Date> => {
      const at = new Date(t0 + i * 60_000);
      await runner.collectAndSpool(at);
      await runner.drain();
      assert.equal(runner.spool.list().length, 0, `cycle ${i} stored`);
      return at;
    };

    await m.admin('CREATE DATABASE benchdb');
    await pgbenchInit(m.server.url('benchdb'), 1);
    await cycle(0);

    // 1. Exact deltas: a distinctive statement 37 times, 100 pgbench transactions.
    await runMarker(37);
    await pgbench(2, 50);
    const t1 = await cycle(1);
    const text = await q(`SELECT queryid, query FROM metrics_pg_statement_texts WHERE query LIKE $1`, [`%${MARKER}%`]);
    assert.equal(text.length, 1, 'the marker statement text sent once');
    assert.match(text[0].query, /\$1/, 'normalised by pg_stat_statements');
    const st = await q(`SELECT * FROM metrics_pg_statements WHERE queryid = $1 AND time = $2`, [text[0].queryid, t1]);
    assert.equal(st.length, 1);
    assert.equal(Number(st[0].calls), 37, 'calls delta is exactly what the test ran');
    assert.equal(Number(st[0].rows), 37);
    assert.equal(st[0].datname, 'postgres');
    assert.equal(st[0].usename, 'postgres');
    assert.ok(st[0].total_exec_time_ms >= 0 && st[0].mean_exec_time_ms >= 0);
    const hist = await q(`SELECT * FROM metrics_pg_stats_table WHERE datname = 'benchdb' AND relname = 'pgbench_history' AND time = $1`, [
      t1,
    ]);
    assert.equal(Number(hist[0].n_tup_ins), 100, 'one history row per pgbench transaction');
    const acc = await q(`SELECT * FROM metrics_pg_stats_table WHERE relname = 'pgbench_accounts' AND time = $1`, [t1]);
    assert.equal(Number(acc[0].n_tup_upd), 100);
    assert.ok(Number(acc[0].table_bytes) > 10_000_000, 'scale 1: 100,000 accounts');
    assert.equal(acc[0].interval_s, 60);
    const pkey = await q(`SELECT * FROM metrics_pg_stats_index WHERE indexrelname = 'pgbench_accounts_pkey' AND time = $1`, [t1]);
    assert.ok(Number(pkey[0].idx_scan) >= 100 && pkey[0].is_primary && !pkey[0].is_unused);

    // 2. A blocked session: A holds a lock, B waits on it.
    const a = await superClient(m.server, 'benchdb');
    const b = await superClient(m.server, 'benchdb');
    const aPid = (await a.query('SELECT pg_backend_pid() AS p')).rows[0].p;
    const bPid = (await b.query('SELECT pg_backend_pid() AS p')).rows[0].p;
    await a.query('BEGIN');
    await a.query('LOCK TABLE pgbench_branches IN ACCESS EXCLUSIVE MODE');
    const waiting = b.query('SELECT count(*) FROM pgbench_branches');
    for (let i = 0; i < 100; i++) {
      const w = await m.admin(`SELECT 1 FROM pg_stat_activity WHERE pid = ${bPid} AND wait_event_type = 'Lock'`);
      if (w.rowCount) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    const t2 = await cycle(2);
    await a.query('ROLLBACK');
    await waiting;
    await a.end();
    await b.end();
    const blocking = await q(`SELECT * FROM metrics_pg_blocking WHERE time = $1`, [t2]);
    const pair = blocking.find((r) => r.blocked_pid === bPid);
    assert.ok(pair, 'the blocked session is reported');
    assert.equal(pair.blocking_pid, aPid, 'with its blocker');
    assert.equal(pair.wait_event_type, 'Lock');
    assert.equal(pair.datname, 'benchdb');
    assert.match(pair.blocked_query, /pgbench_branches/);
    assert.equal(pair.blocking_state, 'idle in transaction');
    const lockWait = await q(`SELECT * FROM metrics_pg_activity WHERE time = $1 AND wait_event_type = 'Lock'`, [t2]);
    assert.ok(lockWait.length >= 1 && lockWait[0].blocked_max >= 1);
    const idleTx = await q(`SELECT * FROM metrics_pg_activity WHERE time = $1 AND state = 'idle in transaction'`, [t2]);
    assert.ok(idleTx.length >= 1 && idleTx[0].max_xact_age_s >= 0);
    const locks = await q(`SELECT sum(waiting)::int AS waiting FROM metrics_pg_locks WHERE time = $1`, [t2]);
    assert.ok(locks[0].waiting >= 1, 'a waiting lock counted');

    // 3. Resets: pg_stat_reset() in benchdb and pg_stat_statements_reset(), then more work.
    await m.admin('SELECT pg_stat_reset()', 'benchdb');
    await m.admin('SELECT pg_stat_statements_reset()');
    await runMarker(5);
    await pgbench(1, 10);
    const t3 = await cycle(3);
    const plausible = (rows: Record<string, unknown>[], cols: string[], max: number, what: string) => {
      for (const r of rows)
        for (const c of cols) {
          const v = r[c] === null ? null : Number(r[c]);
          assert.ok(v === null || (v >= 0 && v <= max), `${what}.${c} = ${v} after a reset`);
        }
    };
    plausible(await q(`SELECT * FROM metrics_pg_statements WHERE time = $1`, [t3]), STATEMENT_COUNTERS, 50_000_000, 'pg_statements');
    plausible(await q(`SELECT * FROM metrics_pg_stats_table WHERE time = $1`, [t3]), TABLE_COUNTERS, 1_000_000, 'pg_stats_table');
    await runMarker(7);
    await pgbench(1, 10);
    const t4 = await cycle(4);
    const after = await q(`SELECT calls FROM metrics_pg_statements WHERE queryid = $1 AND time = $2`, [text[0].queryid, t4]);
    assert.equal(Number(after[0].calls), 7, 'deltas resume after the reset');
    const hist2 = await q(`SELECT n_tup_ins FROM metrics_pg_stats_table WHERE relname = 'pgbench_history' AND time = $1`, [t4]);
    assert.equal(Number(hist2[0].n_tup_ins), 10);

    // 4. The target goes down: an up = false row; host metrics keep flowing; it comes back.
    const port = m.server.port;
    await m.server.stop();
    const t5 = await cycle(5);
    const down = await q(`SELECT up, error FROM metrics_pg_instance WHERE time = $1`, [t5]);
    assert.equal(down.length, 1);
    assert.equal(down[0].up, false);
    assert.ok(down[0].error.length > 0, 'the error is kept');
    assert.equal((await q(`SELECT count(*)::int AS n FROM metrics_sysstat WHERE time = $1`, [t5]))[0].n, 1, 'host metrics keep flowing');
    m.server = await startPostgres({ dataDir: join(targetDir, 'data'), port });
    const t6 = await cycle(6);
    const up = await q(`SELECT up, uptime_s, version_num FROM metrics_pg_instance WHERE time = $1`, [t6]);
    assert.equal(up[0].up, true, 'collection recovered on its own');
    assert.ok(up[0].uptime_s < 120);
    plausible(
      await q(`SELECT * FROM metrics_pg_stats_database WHERE time = $1`, [t6]),
      ['xact_commit', 'blks_hit', 'tup_inserted'],
      10_000_000,
      'pg_stats_database',
    );
    const upRows = await q(`SELECT count(*)::int AS n FROM metrics_pg_instance WHERE up`);
    assert.equal(upRows[0].n, 6);
  } finally {
    await runner.stop();
  }
});
