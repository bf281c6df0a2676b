import { test } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { startPostgres } from '../../../../devkit/postgres-server.ts';
import { HostUnderTest } from '../../testing/stages.ts';
import { backendTypeOf, parsePidStat, readPostmasterPid } from './processes.ts';

test("pg_processes finds a real postmaster's children by type, their memory and CPU", async (t) => {
  // cluster_name as Debian sets it: the titles then read "postgres: 15/main: checkpointer".
  const server = await startPostgres({ settings: { shared_buffers: '256MB', cluster_name: '15/main' } });
  t.after(() => server.stop());
  const client = new pg.Client({ connectionString: server.url(), application_name: 'pga-test' });
  await client.connect();
  t.after(() => client.end());

  const src = new HostUnderTest({ instances: [{ name: 'main', dataDir: server.dataDir }] });
  const first = await src.collect();
  assert.deepEqual([...src.lastErrors], []);
  const rows = new Map(first.pg_processes.map((r) => [r.backend_type, r]));
  for (const type of [
    'postmaster',
    'checkpointer',
    'background writer',
    'walwriter',
    'autovacuum launcher',
    'logical replication launcher',
  ]) {
    assert.ok(rows.has(type), `found ${type} among ${[...rows.keys()]}`);
  }
  assert.ok(!rows.has('background worker'), 'every process of a plain server has a known type');
  for (const r of first.pg_processes) {
    assert.equal(r.instance, 'main');
    assert.equal(r.cpu_seconds, null, 'no CPU delta on a first sample');
  }
  assert.equal(rows.get('postmaster')!.process_count, 1);
  assert.equal(rows.get('client backend')!.process_count, 1);
  assert.ok((rows.get('postmaster')!.rss_anon_bytes as number) > 0);

  // Touch ~35 MB of shared_buffers (under a quarter of them, or a seq scan uses a small ring
  // buffer instead) and burn CPU in our backend.
  await client.query("CREATE TABLE filler AS SELECT g, repeat('x', 200) AS pad FROM generate_series(1, 150000) g");
  await client.query('SELECT count(*) FROM filler');
  const started = Date.now();
  await client.query('SELECT sum(sqrt(g)) FROM generate_series(1, 8000000) g');
  const busySeconds = (Date.now() - started) / 1000;

  const second = await src.collect();
  const after = new Map(second.pg_processes.map((r) => [r.backend_type, r]));
  const backend = after.get('client backend')!;
  assert.equal(backend.process_count, 1);
  // The query needs most of a second of CPU on this class of machine; one process cannot use
  // more CPU time than the interval (other tests may stretch the wall time, not the CPU time).
  assert.ok((backend.cpu_seconds as number) >= 0.3, `client backend used ${backend.cpu_seconds}s of CPU, query ran ${busySeconds}s`);
  assert.ok((backend.cpu_seconds as number) <= (backend.interval_s as number) * 1.05 + 0.02);
  assert.ok((backend.cpu_pct as number) > 0 && (backend.cpu_pct as number) <= 100 * 1.05);
  assert.ok((backend.rss_shmem_max_bytes as number) >= 30 * 1024 * 1024, `shared memory touched ${backend.rss_shmem_max_bytes}`);
  // The private memory of a backend is far below the shared memory it touched.
  assert.ok((backend.rss_anon_bytes as number) < (backend.rss_shmem_max_bytes as number));
  for (const r of second.pg_processes) {
    assert.ok((r.interval_s as number) > 0);
    assert.ok((r.cpu_seconds as number) >= 0);
  }

  // Stopped server: a named error for that instance, the other families still come.
  await client.end();
  await server.stop();
  const third = await src.collect();
  assert.deepEqual(third.pg_processes, []);
  assert.ok(third.sysstat.length === 1);
  assert.deepEqual(
    src.lastErrors.map((e) => [e.reason, e.family, e.instance]),
    [['PostmasterNotRunning', 'pg_processes', 'main']],
  );
});

test('a postmaster.pid naming a process that is not postgres is refused', async () => {
  const src = new HostUnderTest({ instances: [{ name: 'x', postmasterPid: process.pid }] });
  const out = await src.collect();
  assert.deepEqual(out.pg_processes, []);
  assert.equal(src.lastErrors[0].reason, 'PostmasterNotRunning');
  assert.match(src.lastErrors[0].error, /not a running postmaster/);
  await assert.rejects(readPostmasterPid('/nonexistent'), { name: 'PostmasterNotRunningError' });
});

test('backend types from process titles of PostgreSQL 9.6 to 18, with and without cluster_name', () => {
  const cases: [string, string][] = [
    ['postgres: checkpointer', 'checkpointer'],
    ['postgres: checkpointer process', 'checkpointer'],
    ['postgres: writer process', 'background writer'],
    ['postgres: background writer', 'background writer'],
    ['postgres: walwriter', 'walwriter'],
    ['postgres: wal writer process', 'walwriter'],
    ['postgres: 15/main: checkpointer', 'checkpointer'],
    ['postgres: autovacuum launcher', 'autovacuum launcher'],
    ['postgres: autovacuum worker shop', 'autovacuum worker'],
    ['postgres: stats collector process', 'stats collector'],
    ['postgres: logical replication launcher', 'logical replication launcher'],
    ['postgres: logical replication apply worker for subscription 16401', 'logical replication worker'],
    ['postgres: walsender repl 10.0.0.2(40912) streaming 0/3000148', 'walsender'],
    ['postgres: walreceiver streaming 0/3000148', 'walreceiver'],
    ['postgres: startup recovering 000000010000000000000003', 'startup'],
    ['postgres: parallel worker for PID 4242', 'parallel worker'],
    ['postgres: io worker 0', 'io worker'],
    ['postgres: app shop 127.0.0.1(51234) idle', 'client backend'],
    ['postgres: app shop [local] SELECT', 'client backend'],
    ['postgres: 15/main: app shop 10.1.2.3(5000) idle in transaction', 'client backend'],
    ['postgres: app shop ::1(40000) authentication', 'client backend'],
    ['postgres: pg_cron launcher', 'background worker'],
    ['postgres: TimescaleDB Background Worker Scheduler', 'background worker'],
  ];
  for (const [title, type] of cases) assert.equal(backendTypeOf(title), type, title);
});

test('/proc/<pid>/stat with spaces and parentheses in the command name', () => {
  const s = parsePidStat(
    '4242 (my (odd) proc) S 1 4242 4242 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 1 0 123456 1000 10 18446744073709551615',
  );
  assert.deepEqual(s, { comm: 'my (odd) proc', ppid: 1, cpuTicks: 300, startTicks: 123456 });
});
