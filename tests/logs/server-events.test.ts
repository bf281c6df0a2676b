// The events a DBA acts on, made by a real PostgreSQL (15 here, 18 embedded): start, reload with changed and
// restart-only parameters, protocol and SSL errors from a raw socket, lost, terminated and
// refused connections, an Ident failure, skipped vacuums, too frequent checkpoints, a failing
// and a signalled archive_command, a page checksum failure, crash recovery after SIGKILL of a
// backend, and a smart shutdown that refuses a new connection. stderr, csvlog and jsonlog must
// agree record for record (details included), and each event must have its kind and values.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, openSync, readFileSync, rmSync, writeFileSync, writeSync, closeSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import pg from 'pg';
import { scramVerifier, startPostgres, type PostgresServer } from '../../devkit/postgres-server.ts';
import type { PgLogRow } from '../../collector/src/sources/logs/to-row.ts';
import { assertAgree, logFiles, parseFile, waitForLog } from './three-formats.ts';

// %e before %q: background processes (postmaster, archiver) log SQLSTATEs too.
const PREFIX = '%m [%p] %e %q%u@%d ';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function client(server: PostgresServer, opts: { user?: string; database?: string } = {}): Promise<pg.Client> {
  const c = new pg.Client({ host: server.host, port: server.port, user: opts.user ?? 'postgres', database: opts.database ?? 'postgres' });
  c.on('error', () => undefined);
  await c.connect();
  return c;
}

async function refused(server: PostgresServer, opts: { user?: string; database?: string }): Promise<void> {
  await assert.rejects(async () => {
    const c = await client(server, opts);
    await c.end();
  });
}

/** A raw connection, over TCP or through the private Unix socket; resolves once connected. */
function raw(server: PostgresServer, via: 'tcp' | 'socket' = 'tcp'): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s =
      via === 'tcp'
        ? connect(server.port, server.host, () => resolve(s))
        : connect(join(server.socketDir, `.s.PGSQL.${server.port}`), () => resolve(s));
    s.on('error', reject);
  });
}

function startupPacket(major: number, minor: number): Buffer {
  const body = Buffer.from('user\0postgres\0database\0postgres\0\0');
  const b = Buffer.alloc(8 + body.length);
  b.writeInt32BE(b.length, 0);
  b.writeInt32BE((major << 16) | minor, 4);
  body.copy(b, 8);
  return b;
}

/** Bytes from the server until `done` says enough (or it closes). */
function readUntil(s: Socket, done: (all: Buffer) => boolean): Promise<Buffer> {
  return new Promise((resolve) => {
    let all = Buffer.alloc(0);
    const finish = () => {
      s.removeAllListeners('data');
      resolve(all);
    };
    s.on('data', (d: Buffer) => {
      all = Buffer.concat([all, d]);
      if (done(all)) finish();
    });
    s.once('close', finish);
    s.on('error', () => undefined);
  });
}

/** A session over a raw socket, up to ReadyForQuery: through the private Unix socket, the one
 *  place that needs no password (TCP asks for SCRAM). */
async function rawSession(server: PostgresServer): Promise<Socket> {
  const s = await raw(server, 'socket');
  const ready = readUntil(s, (b) => b.includes(Buffer.from([0x5a, 0, 0, 0, 5])));
  s.write(startupPacket(3, 0));
  await ready;
  return s;
}

const closed = (s: Socket) =>
  new Promise<void>((r) => {
    if (s.destroyed) r();
    else s.once('close', () => r());
    s.on('error', () => undefined);
  });

async function protocolErrors(server: PostgresServer): Promise<void> {
  // a startup packet cut short
  let s = await raw(server);
  s.end(Buffer.from([0, 0]));
  await closed(s);
  // protocol 2.0
  s = await raw(server);
  s.write(startupPacket(2, 0));
  await readUntil(s, () => false);
  // a message type that does not exist
  s = await rawSession(server);
  s.write(Buffer.from([0x01, 0, 0, 0, 4]));
  await readUntil(s, () => false);
  // a query message whose body never comes
  s = await rawSession(server);
  s.end(Buffer.from([0x51, 0, 0, 0, 100, 0x53]));
  await closed(s);
  // TLS that is not TLS
  s = await raw(server);
  const answer = readUntil(s, (b) => b.length >= 1);
  const ssl = Buffer.alloc(8);
  ssl.writeInt32BE(8, 0);
  ssl.writeInt32BE(80877103, 4);
  s.write(ssl);
  assert.equal((await answer).toString(), 'S');
  s.end(Buffer.from('this is not a TLS ClientHello at all\r\n\r\n'));
  await closed(s);
  // a connection reset in the middle of a session: a TCP reset, so a client that has done SCRAM
  // (pg's own socket), not the Unix socket of rawSession
  const victim = await client(server);
  (victim as unknown as { connection: { stream: Socket } }).connection.stream.resetAndDestroy();
  // a client gone with its transaction open
  s = await rawSession(server);
  const q = Buffer.from('BEGIN\0');
  const msg = Buffer.alloc(5 + q.length);
  msg[0] = 0x51;
  msg.writeInt32BE(4 + q.length, 1);
  q.copy(msg, 5);
  const done = readUntil(s, (b) => b.includes(Buffer.from([0x5a, 0, 0, 0, 5, 0x54])));
  s.write(msg);
  await done;
  s.end();
  await closed(s);
}

/** What the workload wrote into postgresql.conf for a while: the file and the line of the unknown parameter. */
interface BadConf {
  file: string;
  unknownLine: number;
}

async function runWorkload(server: PostgresServer, logDir: string): Promise<BadConf> {
  const a = await client(server);
  // reload: a changed parameter, a restart-only one (the file then "contains errors")
  await a.query("ALTER SYSTEM SET work_mem = '8MB'");
  await a.query("ALTER SYSTEM SET shared_buffers = '64MB'");
  await a.query('SELECT pg_reload_conf()');
  await waitForLog(logDir, 'contains errors');
  await a.query('ALTER SYSTEM RESET shared_buffers');
  await a.query('SELECT pg_reload_conf()');
  await sleep(300);
  // reloads: an invalid value in postgresql.conf (the other changes are applied), then an unknown
  // parameter (none are)
  const conf = join(server.dataDir, 'postgresql.conf');
  const confText = readFileSync(conf, 'utf8');
  const bad = `${confText}\npga_no_such_setting = 1\n`; // the line is reported
  for (const [i, text] of [`${confText}\nmaintenance_work_mem = 'lots'\n`, bad].entries()) {
    writeFileSync(conf, text);
    await a.query('SELECT pg_reload_conf()');
    for (let wait = 0; readFileSync(logFiles(logDir).stderr, 'utf8').split('contains errors').length <= i + 2; wait++) {
      assert.ok(wait < 300, 'the reload was never logged');
      await sleep(100);
    }
  }
  writeFileSync(conf, confText);
  await a.query('SELECT pg_reload_conf()');
  await sleep(300);
  // the same words from a session's SET are that session's error, not the server's configuration
  await assert.rejects(a.query("SET maintenance_work_mem = 'lots'"));

  // a slot that holds more WAL than max_slot_wal_keep_size is given up at the next checkpoint
  await a.query("SELECT pg_create_physical_replication_slot('keeper', true)");
  await a.query('CREATE TABLE walfill (x int)');
  for (let i = 0; i < 3; i++) {
    await a.query('INSERT INTO walfill SELECT generate_series(1, 1000)');
    await a.query('SELECT pg_switch_wal()');
  }
  await a.query('CHECKPOINT');
  await waitForLog(logDir, 'slot "keeper"');
  await a.query("SELECT pg_drop_replication_slot('keeper')");

  await protocolErrors(server);
  // terminated by an administrator
  const victim = await client(server);
  const victimPid = (await victim.query('SELECT pg_backend_pid() AS pid')).rows[0].pid as number;
  await a.query('SELECT pg_terminate_backend($1)', [victimPid]);
  await assert.rejects(victim.query('SELECT 1'));
  // refused: a database closed to connections; a user that needs Ident (no Ident server on 127.0.0.1:113)
  await a.query('CREATE DATABASE closed_db ALLOW_CONNECTIONS false');
  await refused(server, { database: 'closed_db' });
  await a.query(`CREATE ROLE identuser LOGIN PASSWORD '${scramVerifier(server.password)}'`); // TCP needs SCRAM
  const hba = join(server.dataDir, 'pg_hba.conf');
  writeFileSync(hba, `host all identuser 127.0.0.1/32 ident\n${readFileSync(hba, 'utf8')}`);
  await a.query('SELECT pg_reload_conf()');
  // The postmaster reloads pg_hba.conf when it gets to the signal: until then identuser is trusted.
  for (let i = 0; ; i++) {
    try {
      const early = await client(server, { user: 'identuser' });
      await early.end();
    } catch {
      break;
    }
    assert.ok(i < 100, 'pg_hba.conf never reloaded');
    await sleep(100);
  }

  // maintenance: vacuum skips a locked table and one it may not vacuum
  await a.query('CREATE TABLE busy (id int)');
  await a.query('CREATE TABLE owned (id int)');
  const b = await client(server);
  await b.query('BEGIN');
  await b.query('LOCK TABLE busy IN ACCESS EXCLUSIVE MODE');
  await a.query('VACUUM (SKIP_LOCKED) busy');
  await b.query('ROLLBACK');
  await a.query(`CREATE ROLE someone LOGIN PASSWORD '${scramVerifier(server.password)}'`);
  const someone = await client(server, { user: 'someone' });
  await someone.query('VACUUM owned');
  await someone.end();
  // WAL-triggered checkpoints within checkpoint_warning; full segments for a failing archive_command
  await a.query("CREATE TABLE filler AS SELECT g, repeat('x', 200) AS pad FROM generate_series(1, 200000) g");
  await waitForLog(logDir, 'checkpoints are occurring too frequently');
  await waitForLog(logDir, 'archive command failed with exit code 1');
  // an archive_command killed by a signal: the archiver exits (FATAL; since PG 14 the postmaster
  // no longer logs the archiver's exit code 1, so that record is covered in classify.test.ts)
  await a.query("ALTER SYSTEM SET archive_command = 'kill -ABRT $$'");
  await a.query('SELECT pg_reload_conf()');
  await sleep(300);
  // a new full segment wakes the archiver, which waits a minute after three failures
  await a.query('INSERT INTO busy VALUES (1)');
  await a.query('SELECT pg_switch_wal()');
  await waitForLog(logDir, 'archive command was terminated by signal 6');
  await a.query("ALTER SYSTEM SET archive_command = 'true'");
  await a.query('SELECT pg_reload_conf()');

  // a page with a wrong checksum: checksums on, corrupt the table's first page, read it
  await a.query('CREATE TABLE fragile AS SELECT g FROM generate_series(1, 100) g');
  await a.query('CHECKPOINT');
  const file = join(server.dataDir, (await a.query("SELECT pg_relation_filepath('fragile') AS f")).rows[0].f as string);
  // PostgreSQL 18's initdb turns checksums on by default (and the embedded binaries have no
  // pg_checksums); before 18 they are enabled offline.
  const checksums = (await a.query('SHOW data_checksums')).rows[0].data_checksums as string;
  await a.end();
  await b.end();
  await server.stopServer();
  if (checksums !== 'on') {
    const owner = spawnSync('stat', ['-c', '%U', server.dataDir], { encoding: 'utf8' }).stdout.trim();
    const ck = spawnSync(join(server.binDir, 'pg_checksums'), ['--enable', '-D', server.dataDir], { encoding: 'utf8', uid: uidOf(owner) });
    assert.equal(ck.status, 0, ck.stderr || String(ck.error));
  }
  const fd = openSync(file, 'r+');
  writeSync(fd, Buffer.from('corrupted!'), 0, 10, 4000);
  closeSync(fd);
  await server.startServer();
  const c = await client(server);
  await assert.rejects(c.query('SELECT count(*) FROM fragile'));

  // crash recovery: SIGKILL a backend, with WAL written since the last checkpoint to redo (the
  // other sessions' "terminating connection because of crash" goes to the client only since PG 14)
  // CHECKPOINT first: a spread checkpoint still running from the WAL burst above could otherwise
  // complete after the write and leave nothing to redo ("redo is not required").
  await c.query('CHECKPOINT');
  await c.query('CREATE TABLE after_checkpoint AS SELECT 1 AS one');
  const doomed = await client(server);
  const doomedPid = (await doomed.query('SELECT pg_backend_pid() AS pid')).rows[0].pid as number;
  process.kill(doomedPid, 'SIGKILL');
  await waitForLog(logDir, 'all server processes terminated; reinitializing');
  await c.end().catch(() => undefined);
  await doomed.end().catch(() => undefined);
  for (let i = 0; ; i++) {
    try {
      const ok = await client(server);
      await ok.end();
      break;
    } catch (err) {
      if (i > 100) throw err;
      await sleep(100);
    }
  }

  // smart shutdown waits for an open session; a new connection meanwhile is refused
  const last = await client(server);
  const stopping = server.stopServer();
  await waitForLog(logDir, 'received smart shutdown request');
  await refused(server, {});
  await last.end();
  await stopping;
  return { file: conf, unknownLine: bad.split('\n').indexOf('pga_no_such_setting = 1') + 1 };
}

function uidOf(user: string): number | undefined {
  const r = spawnSync('id', ['-u', user], { encoding: 'utf8' });
  return r.status === 0 ? Number(r.stdout.trim()) : undefined;
}

const only = (rows: PgLogRow[], kind: string, stage?: string) =>
  rows.filter((r) => r.kind === kind && (stage === undefined || r.details.stage === stage));

test('PostgreSQL 15 and later: every event a DBA acts on has its kind and values, in all three formats', { timeout: 180_000 }, async () => {
  const base = mkdtempSync(join(tmpdir(), 'pga-logs-events-'));
  const cert = join(base, 'server.crt');
  const key = join(base, 'server.key');
  const gen = spawnSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-days',
      '1',
      '-subj',
      '/CN=127.0.0.1',
      '-keyout',
      key,
      '-out',
      cert,
    ],
    { encoding: 'utf8' },
  );
  assert.equal(gen.status, 0, gen.stderr);
  spawnSync('chmod', ['0600', key]);
  spawnSync('chown', ['postgres', key, cert]);
  const server = await startPostgres({
    dataDir: join(base, 'data'),
    settings: {
      logging_collector: true,
      log_destination: 'stderr,csvlog,jsonlog',
      log_directory: 'log',
      log_filename: 'postgresql.log',
      log_rotation_age: 0,
      log_rotation_size: 0,
      log_line_prefix: PREFIX,
      lc_messages: 'C',
      ssl: true,
      ssl_cert_file: cert,
      ssl_key_file: key,
      archive_mode: true,
      archive_command: 'false %f',
      max_wal_size: '32MB',
      checkpoint_warning: '1h',
      wal_level: 'replica',
      max_slot_wal_keep_size: '1MB',
    },
  });
  const logDir = join(server.dataDir, 'log');
  try {
    const badConf = await runWorkload(server, logDir);
    const f = logFiles(logDir);
    const [stderr, csv, json] = [
      await parseFile(f.stderr, 'stderr', PREFIX),
      await parseFile(f.csvlog, 'csvlog', PREFIX),
      await parseFile(f.jsonlog, 'jsonlog', PREFIX),
    ];
    assertAgree(stderr, csv, json, true);
    const rows = stderr.rows;
    if (process.env.PGA_DUMP) writeFileSync(process.env.PGA_DUMP, rows.map((r) => JSON.stringify(r)).join('\n'));
    const one = (kind: string, stage?: string): PgLogRow => {
      const r = only(rows, kind, stage)[0];
      assert.ok(
        r,
        `no ${kind}${stage ? `/${stage}` : ''}; kinds: ${[...new Set(rows.map((x) => `${x.kind}/${x.details.stage ?? ''}`))].join(', ')}`,
      );
      return r;
    };
    // life cycle
    assert.equal(String(one('server_start', 'starting').details.version).split('.')[0], String(Math.floor(server.versionNum / 10000)));
    assert.equal(one('server_start', 'listening').details.port, server.port);
    assert.ok(one('server_start', 'last_shutdown').details.last_up);
    one('server_ready');
    assert.deepEqual(only(rows, 'config_reload', 'requested').length >= 3, true);
    assert.equal(one('config_reload', 'errors').details.applied, 'unaffected');
    const changed = only(rows, 'config_changed').find((r) => r.details.parameter === 'work_mem')!;
    assert.equal(changed.details.value, '8MB');
    assert.equal(only(rows, 'config_changed').find((r) => r.details.parameter === 'shared_buffers')!.details.restart_required, true);
    assert.deepEqual(
      only(rows, 'config_reload', 'errors').map((r) => r.details.applied),
      ['unaffected', 'unaffected', 'no'],
    );
    const slot = one('replication_slot', 'invalidated');
    assert.equal(slot.details.slot, 'keeper');
    assert.match(String(slot.details.lsn), /^[0-9A-F]+\/[0-9A-F]+$/); // in the message up to 15, in the DETAIL from 16
    const invalid = only(rows, 'config_changed').find((r) => r.details.parameter === 'maintenance_work_mem')!;
    assert.deepEqual([invalid.severity, invalid.details.value, invalid.details.invalid], ['LOG', 'lots', true]);
    const unknown = only(rows, 'config_changed').find((r) => r.details.parameter === 'pga_no_such_setting')!;
    assert.equal(unknown.details.unrecognized, true);
    assert.deepEqual([unknown.details.file, unknown.details.line], [badConf.file, badConf.unknownLine]);
    const sessionSet = rows.find((r) => r.severity === 'ERROR' && r.message.startsWith('invalid value for parameter'))!;
    assert.equal(sessionSet.kind, 'error');
    assert.equal(sessionSet.sqlstate, '22023');
    // connections
    const protocol = only(rows, 'protocol_error');
    assert.ok(
      protocol.some((r) => r.details.problem === 'incomplete startup packet'),
      'incomplete startup packet',
    );
    assert.ok(
      protocol.some((r) => r.details.protocol === '2.0' && r.sqlstate === '0A000'),
      'unsupported protocol',
    );
    assert.ok(
      protocol.some((r) => r.details.message_type === 1 && r.sqlstate === '08P01'),
      'invalid message type',
    );
    assert.ok(
      protocol.some((r) => r.details.problem === 'incomplete message from client'),
      'incomplete message',
    );
    assert.ok(one('ssl_failed').details.error);
    assert.ok(
      only(rows, 'connection_lost').some((r) => r.details.open_transaction === true),
      'lost with an open transaction',
    );
    assert.ok(
      only(rows, 'connection_lost').some((r) => String(r.details.error).includes('reset')),
      'connection reset',
    );
    const terminated = only(rows, 'connection_terminated').find((r) => r.pid !== null && r.sqlstate === '57P01')!;
    assert.equal(terminated.details.reason, 'administrator command');
    assert.equal(one('connection_refused', 'database_not_accepting').details.target_database, 'closed_db');
    one('ident_failed');
    // maintenance
    const skipped = only(rows, 'vacuum_skipped');
    assert.ok(
      skipped.some((r) => r.details.relation === 'busy' && r.details.reason === 'lock not available' && r.details.operation === 'vacuum'),
    );
    assert.ok(skipped.some((r) => r.details.relation === 'owned' && r.details.reason === 'permission denied'));
    assert.ok((one('checkpoints_too_frequent').details.seconds_apart as number) >= 0);
    // archiver
    const archive = only(rows, 'archive_failed');
    assert.ok(
      archive.some(
        (r) => r.details.stage === 'command_failed' && r.details.exit_code === 1 && /^[0-9A-F]{24}$/.test(String(r.details.wal_file)),
      ),
    );
    assert.ok(
      archive.some((r) => r.details.signal === 6 && r.details.signal_name === 'Aborted' && r.severity === 'FATAL'),
      'the signal is kept',
    );
    // integrity
    const checksum = only(rows, 'checksum_failure');
    assert.ok(checksum.some((r) => typeof r.details.checksum_calculated === 'number' && typeof r.details.checksum_expected === 'number'));
    assert.ok(checksum.some((r) => r.details.block === 0 && r.sqlstate === 'XX001' && String(r.details.relation_path).startsWith('base/')));
    // crash and recovery
    const died = one('server_crash', 'process_died');
    assert.equal(died.details.signal, 9);
    // "server process (PID n) was terminated…" until PostgreSQL 17, "client backend (PID n)…" from 18
    assert.equal(died.details.process, server.versionNum >= 180000 ? 'client backend' : 'server process');
    one('server_crash', 'terminating_others');
    one('server_crash', 'reinitializing');
    one('server_crash', 'recovery');
    assert.match(String(one('recovery', 'redo_start').details.lsn), /^[0-9A-F]+\/[0-9A-F]+$/);
    assert.match(String(one('recovery', 'redo_done').details.lsn), /^[0-9A-F]+\/[0-9A-F]+$/);
    one('recovery', 'wal_end');
    // shutdown
    assert.equal(one('server_shutdown', 'requested').details.mode, 'smart');
    assert.equal(one('server_shutdown', 'refusing_connections').sqlstate, '57P03');
    one('server_shutdown', 'shutting_down');
    one('server_shutdown', 'complete');
    assert.ok(only(rows, 'process_exit').some((r) => String(r.details.process).includes('logical replication launcher')));
    // nothing a DBA acts on is left as "other"
    const others = rows.filter((r) => r.kind === 'other').map((r) => r.message);
    assert.deepEqual(others, [], 'records left as other');
  } finally {
    await server.stop().catch(() => undefined);
    rmSync(base, { recursive: true, force: true });
  }
});
