// End to end: a real PostgreSQL, the backend over real TLS, a registered collector running two
// real cycles against a workload, and the rows found in both metric tables.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { startStack, registerCollector, quietLog, type Stack } from './helpers/stack.ts';
import { Runner } from '../collector/src/runner.ts';

let stack: Stack;
before(async () => {
  stack = await startStack();
});
after(async () => {
  await stack?.stop();
});

test('two collector cycles land in metrics_pg_stats_database and metrics_sysstat with plausible values', async () => {
  const { local } = await registerCollector(stack);
  assert.equal(statSync(join(local.collector.state_dir, 'collector.key')).mode & 0o777, 0o600, 'private key is 0600');
  const runner = new Runner(local, quietLog('collector'));
  try {
    await runner.pullConfig();
    // Cycle times 60 s apart, as the default schedule wants.
    const t0 = Date.now() - 120_000;
    await runner.collectAndSpool(new Date(t0));
    await runner.drain();

    // A workload between the cycles: 50 committed transactions in a database of its own.
    const admin = new pg.Client({ connectionString: stack.pg.url('postgres') });
    await admin.connect();
    await admin.query('CREATE DATABASE workload');
    await admin.end();
    const w = new pg.Client({ connectionString: stack.pg.url('workload') });
    await w.connect();
    await w.query('CREATE TABLE t (id int)');
    for (let i = 0; i < 50; i++) await w.query('INSERT INTO t VALUES ($1)', [i]);
    await w.end();

    await runner.collectAndSpool(new Date(t0 + 60_000));
    await runner.drain();
    assert.equal(runner.spool.list().length, 0, 'spool drained after 2xx');

    const db = await stack.db.query(
      `SELECT d.* FROM metrics_pg_stats_database d JOIN postgresql_instances i ON i.id = d.instance_id
        WHERE i.name = 'main' AND d.datname = 'workload' ORDER BY time`,
    );
    // The database did not exist at the first cycle: one row, counters null (first sample).
    assert.equal(db.rows.length, 1);
    const postgres = await stack.db.query(
      `SELECT xact_commit, interval_s, size_bytes, numbackends FROM metrics_pg_stats_database WHERE datname = 'postgres' ORDER BY time`,
    );
    assert.equal(postgres.rows.length, 2);
    assert.equal(postgres.rows[0].xact_commit, null, 'first sample has no delta');
    assert.ok(Number(postgres.rows[1].xact_commit) >= 1, 'xact_commit delta counted');
    assert.equal(postgres.rows[1].interval_s, 60);
    assert.ok(Number(postgres.rows[1].size_bytes) > 1_000_000);

    // Third cycle: the workload database now has a delta ≥ the 50 transactions we ran.
    const w2 = new pg.Client({ connectionString: stack.pg.url('workload') });
    await w2.connect();
    for (let i = 0; i < 50; i++) await w2.query('INSERT INTO t VALUES ($1)', [i]);
    await w2.end();
    await runner.collectAndSpool(new Date(t0 + 120_000));
    await runner.drain();
    const wl = await stack.db.query(
      `SELECT xact_commit, tup_inserted FROM metrics_pg_stats_database WHERE datname = 'workload' ORDER BY time`,
    );
    assert.equal(wl.rows.length, 2);
    assert.ok(Number(wl.rows[1].xact_commit) >= 50, `xact_commit delta ${wl.rows[1].xact_commit} ≥ 50`);
    assert.ok(Number(wl.rows[1].tup_inserted) >= 50);

    const sys = await stack.db.query('SELECT * FROM metrics_sysstat ORDER BY time');
    assert.equal(sys.rows.length, 3);
    const last = sys.rows[2];
    assert.ok(last.mem_total_bytes > 100 * 1024 * 1024);
    assert.ok(last.cpu_count >= 1);
    const pct = ['cpu_user_pct', 'cpu_system_pct', 'cpu_idle_pct', 'cpu_iowait_pct'].reduce((s, c) => s + (last[c] ?? 0), 0);
    assert.ok(pct > 50 && pct <= 100.5, `CPU percentages add up (${pct})`);
    assert.ok(last.load1 >= 0);

    const seen = await stack.db.query('SELECT last_seen_at FROM collectors WHERE id = $1', [runner.status.collector_id]);
    assert.ok(seen.rows[0].last_seen_at, 'collector last_seen_at updated');
  } finally {
    await runner.stop();
  }
});
