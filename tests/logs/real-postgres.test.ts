// A real PostgreSQL writes stderr, csvlog and jsonlog at once while a workload makes every
// event kind happen; the three files must parse to the same records (count, severities, kinds,
// messages), and the LogSource set up from the server's own settings must return them too.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import pg from 'pg';
import { embeddedBinDir, startPostgres, type PostgresServer } from '../../devkit/postgres-server.ts';
import { LogSource } from '../../collector/src/sources/logs/log-source.ts';
import { logSourceOptionsFromSettings, readLogSettings } from '../../collector/src/sources/logs/log-settings.ts';
import type { PgLogRow } from '../../collector/src/sources/logs/to-row.ts';
import { assertAgree, logFiles, parseFile, rowKey } from './three-formats.ts';

const PREFIX = '%m [%p] %q%u@%d app=%a %e ';
const PASSWORD = 'Sup3r-secret-pw';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function client(server: PostgresServer, user = 'postgres', password?: string): Promise<pg.Client> {
  const c = new pg.Client({ host: server.host, port: server.port, user, password, database: 'postgres', application_name: 'pga-test' });
  await c.connect();
  return c;
}

async function workload(server: PostgresServer): Promise<void> {
  const a = await client(server);
  const b = await client(server);
  await a.query(`CREATE ROLE pwuser LOGIN PASSWORD '${PASSWORD}'`);
  await a.query(`ALTER ROLE pwuser PASSWORD '${PASSWORD}'`);
  // pg_hba: pwuser must give its password over TCP (everyone else stays trust)
  const hba = join(server.dataDir, 'pg_hba.conf');
  writeFileSync(hba, `host all pwuser 127.0.0.1/32 scram-sha-256\n${readFileSync(hba, 'utf8')}`);
  await a.query('SELECT pg_reload_conf()');
  await sleep(300);
  await assert.rejects(client(server, 'pwuser', 'wrong'));
  await (await client(server, 'pwuser', PASSWORD)).end();
  await assert.rejects(async () => {
    const c = new pg.Client({ host: server.host, port: server.port, user: 'postgres', database: 'no_such_db' });
    try {
      await c.connect();
    } finally {
      await c.end().catch(() => undefined);
    }
  });

  await a.query('CREATE TABLE accounts (id int PRIMARY KEY, balance int)');
  await a.query('INSERT INTO accounts SELECT g, 100 FROM generate_series(1, 10) g');
  // errors
  await assert.rejects(a.query('SELECT * FROM missing_table'));
  await assert.rejects(a.query('SELECT 1/0'));
  await assert.rejects(a.query('INSERT INTO accounts VALUES (1, 0)'));
  // slow statement, and one canceled by statement_timeout
  await a.query('SELECT pg_sleep(0.2)');
  await a.query("SET statement_timeout = '100ms'");
  await assert.rejects(a.query('SELECT pg_sleep(2)'));
  await a.query('RESET statement_timeout');
  // temp file
  await a.query("SET work_mem = '64kB'");
  await a.query('SELECT count(*) FROM (SELECT g FROM generate_series(1, 200000) g ORDER BY g DESC) s');
  await a.query('RESET work_mem');
  // lock wait, then acquired
  await a.query('BEGIN');
  await a.query('UPDATE accounts SET balance = balance + 1 WHERE id = 1');
  const waiting = b.query('UPDATE accounts SET balance = balance - 1 WHERE id = 1');
  await sleep(400);
  await a.query('COMMIT');
  await waiting;
  // deadlock
  await a.query('BEGIN');
  await b.query('BEGIN');
  await a.query('UPDATE accounts SET balance = 0 WHERE id = 2');
  await b.query('UPDATE accounts SET balance = 0 WHERE id = 3');
  const pa = a.query('UPDATE accounts SET balance = 0 WHERE id = 3').then(
    () => 'ok',
    () => 'failed',
  );
  await sleep(200);
  const pb = b.query('UPDATE accounts SET balance = 0 WHERE id = 2').then(
    () => 'ok',
    () => 'failed',
  );
  const outcomes = await Promise.all([pa, pb]);
  assert.ok(outcomes.includes('failed'));
  await a.query('ROLLBACK');
  await b.query('ROLLBACK');
  // autovacuum: enough dead rows, then wait for it
  await a.query('CREATE TABLE churn (id int, pad text) WITH (autovacuum_vacuum_threshold = 10, autovacuum_analyze_threshold = 10)');
  await a.query("INSERT INTO churn SELECT g, repeat('x', 100) FROM generate_series(1, 5000) g");
  await a.query('DELETE FROM churn WHERE id % 2 = 0');
  for (let i = 0; i < 100; i++) {
    const r = await a.query("SELECT autovacuum_count FROM pg_stat_user_tables WHERE relname = 'churn'");
    if (Number(r.rows[0]?.autovacuum_count ?? 0) > 0) break;
    await sleep(200);
  }
  await a.query('CHECKPOINT');
  await a.end();
  await b.end();
}

async function runFor(binDir: string | undefined): Promise<void> {
  const base = mkdtempSync(join(tmpdir(), 'pga-logs-it-'));
  const server = await startPostgres({
    binDir,
    dataDir: join(base, 'data'),
    settings: {
      logging_collector: true,
      log_destination: 'stderr,csvlog,jsonlog',
      log_directory: 'log',
      log_filename: 'postgresql-%Y-%m-%d_%H%M%S.log',
      log_rotation_age: 0,
      log_rotation_size: 0,
      log_line_prefix: PREFIX,
      lc_messages: 'C',
      log_checkpoints: true,
      log_autovacuum_min_duration: 0,
      autovacuum_naptime: '1s',
      log_lock_waits: true,
      deadlock_timeout: '100ms',
      log_temp_files: 0,
      log_min_duration_statement: 0,
      log_connections: true,
      log_disconnections: true,
      log_min_error_statement: 'error',
    },
  });
  try {
    // The source set up from the server's own settings, as the runner does it.
    const probe = await client(server);
    const settings = await readLogSettings(probe);
    await probe.end();
    assert.equal(settings.logLinePrefix, PREFIX);
    assert.deepEqual(settings.logDestination, ['stderr', 'csvlog', 'jsonlog']);
    assert.equal(settings.logDirectory, join(server.dataDir, 'log'));
    const tailed: Record<string, PgLogRow[]> = {};
    const sources: Record<string, LogSource> = {};
    for (const format of ['stderr', 'csvlog', 'jsonlog'] as const) {
      const opts = logSourceOptionsFromSettings(settings, { instance: 'it', stateFile: join(base, `state-${format}.json`) }, { format });
      sources[format] = new LogSource(opts);
      tailed[format] = [];
    }
    const tail = async (): Promise<void> => {
      for (const [f, s] of Object.entries(sources)) {
        const r = await s.collect();
        tailed[f].push(...r.rows);
        await r.commit();
      }
    };
    await tail();
    await workload(server);
    await tail();
    await server.stop(); // the shutdown records are the last ones
    for (let i = 0; i < 3; i++) await tail();

    const files = logFiles(join(server.dataDir, 'log'));
    const stderr = await parseFile(files.stderr, 'stderr', PREFIX);
    const csv = await parseFile(files.csvlog, 'csvlog', PREFIX);
    const json = await parseFile(files.jsonlog, 'jsonlog', PREFIX);
    assert.ok(stderr.rows.length > 50, `only ${stderr.rows.length} records`);
    assertAgree(stderr, csv, json);
    const key = (r: PgLogRow) => rowKey(r, false);
    // The tailer returned exactly the records of a one-shot parse, in order.
    for (const [format, parsed] of [
      ['stderr', stderr],
      ['csvlog', csv],
      ['jsonlog', json],
    ] as const) {
      assert.deepEqual(tailed[format].map(key), parsed.rows.map(key), `${format} tailed`);
    }

    const kinds = new Set(stderr.rows.map((r) => r.kind));
    for (const k of [
      'server_ready',
      'connection_received',
      'connection_authorized',
      'disconnection',
      'authentication_failed',
      'statement_duration',
      'error',
      'statement_timeout',
      'temp_file',
      'lock_waiting',
      'lock_acquired',
      'deadlock',
      'autovacuum',
      'checkpoint_starting',
      'checkpoint_complete',
      'server_shutdown',
      'fatal',
    ] as const) {
      assert.ok(kinds.has(k), `kind ${k} missing; have ${[...kinds].join(',')}`);
    }
    const byKind = (k: string) => stderr.rows.filter((r) => r.kind === k);
    if (server.versionNum >= 140000) {
      // who the client proved to be, how, and the pg_hba.conf line that let it in (14+)
      const who = byKind('connection_authenticated').find((r) => r.details.identity === 'pwuser')!;
      assert.ok(who, 'no connection_authenticated for pwuser');
      assert.deepEqual(
        [who.details.method, who.details.hba_file, who.details.hba_line],
        ['scram-sha-256', join(server.dataDir, 'pg_hba.conf'), 1],
      );
    }
    const auth = byKind('authentication_failed')[0];
    assert.equal(auth.details.login_user, 'pwuser');
    assert.equal(auth.sqlstate, '28P01');
    assert.equal(byKind('fatal').find((r) => r.message.includes('no_such_db'))!.sqlstate, '3D000');
    const errs = byKind('error')
      .map((r) => r.sqlstate)
      .sort();
    assert.deepEqual(errs, ['22012', '23505', '42P01']);
    assert.equal(byKind('error').find((r) => r.sqlstate === '42P01')!.statement, 'SELECT * FROM missing_table');
    assert.ok(byKind('temp_file')[0].temp_bytes! > 1_000_000);
    const sleepy = stderr.rows.find(
      (r) => r.kind === 'statement_duration' && r.statement === 'SELECT pg_sleep(?)' && r.duration_ms! >= 200,
    );
    assert.ok(sleepy, 'pg_sleep(0.2) with its duration');
    const wait = byKind('lock_waiting')[0];
    assert.equal(wait.details.lock_mode, 'ShareLock');
    assert.ok(wait.wait_ms! >= 100);
    assert.equal((wait.details.blocker_pids as number[]).length, 1);
    assert.ok(byKind('lock_acquired')[0].wait_ms! >= 300);
    const dl = byKind('deadlock')[0];
    assert.equal(dl.sqlstate, '40P01');
    assert.equal((dl.details.pids as number[]).length, 2);
    const av = byKind('autovacuum').find((r) => String(r.details.table).endsWith('public.churn'))!;
    assert.ok(av, 'autovacuum of churn');
    assert.ok((av.details.tuples_removed as number) >= 2500, JSON.stringify(av.details));
    const cp = byKind('checkpoint_complete').at(-1)!;
    assert.equal(typeof cp.details.buffers_written, 'number');
    assert.equal(typeof cp.details.total_s, 'number');
    assert.ok(['smart', 'fast'].includes(String(byKind('server_shutdown')[0].details.mode)));
    assert.ok(byKind('disconnection').every((r) => typeof r.details.session_ms === 'number'));
    // Passwords never leave the host.
    for (const p of [stderr, csv, json]) assert.ok(!JSON.stringify(p.rows).includes(PASSWORD));
    assert.ok(stderr.rows.some((r) => r.statement?.startsWith('ALTER ROLE pwuser PASSWORD ?')));
  } finally {
    await server.stop().catch(() => undefined);
    rmSync(base, { recursive: true, force: true });
  }
}

test('PostgreSQL 15 (this machine): stderr, csvlog and jsonlog agree; every event kind', { timeout: 120_000 }, async () => {
  await runFor(undefined);
});

test('PostgreSQL 18 (embedded binaries): the same', { timeout: 120_000 }, async () => {
  await runFor(await embeddedBinDir());
});
