// Parses every real log in ../shared/fixtures/pgbadger-logs (pgBadger's field logs) and
// checks what a DBA would check: counts, kinds, parsed details, joined multi-line records.
// Those logs are not part of this repository (CI has them beside it): without the folder these
// tests are skipped with the reason; tests/logs/real-postgres.test.ts covers real logs anywhere.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { test as nodeTest } from 'node:test';
import { openLogFile, parseLogStream, type ParseStreamOptions, type ParseStreamResult } from './parse-stream.ts';
import { toPgLogRow, type PgLogRow } from './to-row.ts';

const DIR = join(import.meta.dirname, '../../../../../shared/fixtures/pgbadger-logs');
const SKIP = existsSync(DIR) ? false : `${DIR} is absent (pgBadger's field logs live beside the repository, not in it)`;

/** Every test of this file: skipped without the fixtures, and bounded in time. */
function test(name: string, fn: () => Promise<void>): void {
  nodeTest(name, { skip: SKIP, timeout: 120_000 }, fn);
}

async function parse(
  file: string,
  opts: ParseStreamOptions = {},
): Promise<{ res: ParseStreamResult; rows: PgLogRow[]; kinds: Record<string, number> }> {
  const rows: PgLogRow[] = [];
  const kinds: Record<string, number> = {};
  const res = await parseLogStream(openLogFile(join(DIR, file)), opts, (recs) => {
    for (const r of recs) {
      const row = toPgLogRow(r, { instance: 'fixture' });
      kinds[row.kind] = (kinds[row.kind] ?? 0) + 1;
      rows.push(row);
    }
  });
  return { res, rows, kinds };
}

test('light.postgres.log.bz2: pgbench durations with the given prefix', async () => {
  const { res, rows, kinds } = await parse('light.postgres.log.bz2', {
    format: 'stderr',
    prefix: '%t [%p]: [%l-1] user=%u,db=%d,app=%a,client=%h ',
  });
  assert.equal(res.parseErrors, 0);
  assert.equal(res.records, 630);
  assert.equal(kinds.statement_duration, 629);
  const upd = rows.find((r) => r.message.startsWith('duration: 59.911 ms'))!;
  assert.equal(upd.duration_ms, 59.911);
  assert.equal(upd.user_name, 'postgres');
  assert.equal(upd.application, 'pgbench');
  assert.equal(upd.client, '172.23.0.1');
  assert.equal(upd.pid, 44);
  assert.equal(upd.time, '2017-09-06T08:41:43.000Z');
  assert.equal(upd.statement, 'UPDATE pgbench_branches SET bbalance = bbalance + ? WHERE bid = ?;');
});

test('auto-detection finds the same prefix', async () => {
  const { res } = await parse('light.postgres.log.bz2');
  assert.equal(res.format, 'stderr');
  assert.equal(res.prefix, '%t [%p]: [%l-1] user=%u,db=%d,app=%a,client=%h ');
});

test('pg-syslog.1.bz2: syslog parts are joined to their record; other programs are counted as errors', async () => {
  const { res, rows, kinds } = await parse('pg-syslog.1.bz2', { format: 'syslog', prefix: 'db=%d,user=%u,app=%a,client=%h ' });
  assert.equal(res.records, 59896);
  assert.equal(res.parseErrors, 3); // three systemd lines
  assert.equal(kinds.statement_duration, 59871);
  const listing = rows.find((r) => r.message.startsWith('duration: 13.997 ms'))!;
  assert.ok(listing.statement!.includes('\n       pg_catalog.pg_get_userbyid(d.datdba) as "Owner",'), listing.statement!);
  const hinted = rows.find((r) => r.message === 'ending log output to stderr');
  assert.deepEqual([hinted?.kind, hinted?.details.stage], ['server_start', 'log_redirected']);
  assert.equal(rows.filter((r) => r.kind === 'connection_authorized').length, 6);
});

test('rds.log.bz2: RDS prefix with %r, server start and refused connections', async () => {
  const { res, rows, kinds } = await parse('rds.log.bz2', { format: 'stderr', prefix: '%t:%r:%u@%d:[%p]:' });
  assert.equal(res.parseErrors, 0);
  assert.equal(res.records, 114604);
  const starts = rows.filter((r) => r.kind === 'server_start');
  assert.deepEqual(
    starts.map((r) => r.details.stage),
    ['starting', 'listening', 'listening', 'listening', 'last_shutdown'],
  );
  assert.equal(starts[0].details.version, '12.2');
  assert.deepEqual(rows.find((r) => r.kind === 'recovery')?.details, { stage: 'prepared_transaction', xid: 499 });
  assert.equal(kinds.authentication_failed, 2);
  const refused = rows.find((r) => r.kind === 'authentication_failed')!;
  assert.equal(refused.client, '192.168.1.201(50906)');
  assert.equal(refused.sqlstate, '28000');
  assert.equal(refused.time, '2020-03-11T19:40:50.000Z'); // CET
});

test('pg_vacuums: stderr and jsonlog of the same period agree record for record', async () => {
  const a = await parse('pg_vacuums.log.gz', { format: 'stderr', prefix: '%t [%p]: [%l-1] user=%u,db=%d,host=%h,app=%a ' });
  const b = await parse('pg_vacuums.json.gz', { format: 'jsonlog' });
  assert.equal(a.res.parseErrors, 0);
  assert.equal(b.res.parseErrors, 0);
  assert.equal(a.rows.length, 3544);
  assert.equal(b.rows.length, 3544);
  assert.deepEqual(a.kinds, { autoanalyze: 1450, autovacuum: 2094 });
  for (let i = 0; i < a.rows.length; i++) {
    assert.equal(a.rows[i].kind, b.rows[i].kind);
    assert.equal(a.rows[i].pid, b.rows[i].pid);
    assert.deepEqual(a.rows[i].details, b.rows[i].details, `record ${i}`);
  }
  const v = b.rows.find((r) => r.details.table === 'testdb.replication.tab_queue_tmp' && r.kind === 'autovacuum')!;
  assert.deepEqual(
    [
      v.details.pages_removed,
      v.details.pages_remaining,
      v.details.tuples_removed,
      v.details.tuples_dead,
      v.details.wal_records,
      v.details.wal_bytes,
      v.details.buffer_hits,
    ],
    [5, 303, 828, 24, 35, 8042, 573],
  );
});

test('cloudsql.log.gz: textPayload entries, continuation entries joined', async () => {
  const { res, rows, kinds } = await parse('cloudsql.log.gz');
  assert.equal(res.parseErrors, 0);
  assert.equal(res.records, 1268);
  assert.equal(kinds.connection_received, 400);
  assert.equal(kinds.autovacuum, 15);
  const v = rows.find((r) => r.kind === 'autovacuum')!;
  assert.equal(v.details.tuples_removed, 60);
  assert.equal(v.details.buffer_hits, 41);
  assert.equal(v.time, '2020-05-02T13:00:32.362Z');
});

test('cnpg.log.gz: CloudNativePG records carry SQLSTATEs', async () => {
  const { res, rows, kinds } = await parse('cnpg.log.gz');
  assert.equal(res.parseErrors, 0);
  assert.equal(res.records, 1975);
  assert.equal(kinds.error, 4);
  assert.ok(rows.filter((r) => r.kind === 'error').every((r) => r.sqlstate !== null && r.sqlstate !== '00000'));
  assert.ok(rows.filter((r) => r.kind === 'disconnection').every((r) => typeof r.details.session_ms === 'number'));
  // PostgreSQL 14+ logs who each client proved to be; every record has a kind of its own
  assert.equal(kinds.connection_authenticated, 386);
  assert.equal(kinds.other, undefined);
  const cert = rows.find((r) => r.kind === 'connection_authenticated' && r.details.method === 'cert')!;
  assert.deepEqual([cert.details.identity, cert.details.hba_line], ['CN=streaming_replica', 7]);
  assert.equal(rows.filter((r) => r.kind === 'connection_authorized' && r.details.replication === true).length, 4);
});

test('pg_rawcsv.log: garbage lines are counted, the records around them survive', async () => {
  const { res, rows } = await parse('pg_rawcsv.log', { format: 'stderr', prefix: '%m [%p] %q%u@%d ' });
  assert.equal(res.parseErrors, 2);
  assert.equal(res.records, 9);
  const err = rows.filter((r) => r.severity === 'ERROR');
  assert.equal(err.length, 2);
  assert.equal(err[1].sqlstate, '42P01');
  assert.equal(err[1].details.sqlstate_inferred, true);
  assert.equal(err[0].user_name, 'gilles');
  assert.equal(err[0].statement, 'SELECT TO_DATE(?,?);');
  assert.equal(rows.filter((r) => r.severity === 'FATAL').length, 1);
  // a bad setting at start-up: the value, then the file refused
  assert.deepEqual(
    rows.filter((r) => r.kind.startsWith('config_')).map((r) => [r.severity, r.kind, r.details.parameter ?? r.details.stage]),
    [
      ['LOG', 'config_changed', 'lc_messages'],
      ['FATAL', 'config_reload', 'errors'],
    ],
  );
  assert.equal(err[0].sqlstate, '22007'); // conflicting values for "Y" field in formatting string
});

test('queryid.log.gz: %Q and %q, locks, temp files, cancel', async () => {
  const { res, rows, kinds } = await parse('queryid.log.gz', { format: 'stderr', prefix: '%m [%p] [queryid=%Q] %q%u@%d ' });
  assert.equal(res.parseErrors, 0);
  assert.equal(res.records, 28);
  assert.deepEqual([kinds.lock_waiting, kinds.lock_acquired, kinds.temp_file, kinds.statement_canceled], [1, 1, 3, 1]);
  const w = rows.find((r) => r.kind === 'lock_waiting')!;
  assert.equal(w.wait_ms, 1000.153);
  assert.deepEqual(w.details.blocker_pids, [2120]);
  assert.equal(w.details.lock_mode, 'AccessShareLock');
  assert.equal(rows.find((r) => r.kind === 'temp_file')!.temp_bytes, 24576);
  const multi = rows.find((r) => r.message.startsWith('duration: 25.450 ms'))!;
  assert.ok(multi.statement!.includes('LEFT JOIN pg_catalog.pg_am am ON am.oid = c.relam'));
  assert.equal(multi.query_id, '4266247047529477710');
});

test('tempfile_only.log.gz: temp files with their statements, checkpoints with figures', async () => {
  const { res, rows, kinds } = await parse('tempfile_only.log.gz', { format: 'stderr', prefix: '%t [%p]: [%l-1] user=%u,db=%d ' });
  assert.equal(res.parseErrors, 0);
  assert.equal(kinds.temp_file, 5);
  assert.equal(kinds.checkpoint_complete, 39);
  const t = rows.find((r) => r.kind === 'temp_file')!;
  assert.equal(t.temp_bytes, 12517376);
  assert.ok(t.statement!.startsWith('SELECT "order_lines"."id" AS t0_r0'));
  assert.ok(t.statement!.length <= 2048);
  const c = rows.find((r) => r.kind === 'checkpoint_complete')!;
  assert.deepEqual([c.details.buffers_written, c.details.write_s, c.details.total_s, c.details.sync_files], [34, 6.613, 6.618, 14]);
});

test('multiline_param.log and postgresql_param_range.log: parameters over several lines stay with their record', async () => {
  const a = await parse('multiline_param.log', { format: 'stderr', prefix: '%m [%p] user=%u,db=%d ' });
  assert.equal(a.res.parseErrors, 0);
  assert.equal(a.res.records, 8);
  assert.equal(a.kinds.statement_duration, 8);
  const b = await parse('postgresql_param_range.log', { format: 'stderr', prefix: '%t [%p]: [%l-1] [%x] usr=%u,db=%d,appli=%a ' });
  assert.equal(b.res.parseErrors, 0);
  assert.equal(b.res.records, 3);
  assert.equal(b.rows[0].application, '76ae131687c458a8');
  assert.equal(b.rows[0].duration_ms, 778.166);
});

test('csvlog fixtures: anonymize.log is redacted; a statement without duration', async () => {
  const a = await parse('anonymize.log', { format: 'csvlog' });
  assert.equal(a.res.parseErrors, 0);
  assert.equal(a.res.records, 8);
  assert.ok(
    a.rows.every((r) => !/'[^']*'/.test(r.message)),
    'no quoted literal left',
  );
  assert.equal(a.rows[0].application, 'PostgreSQL JDBC Driver');
  assert.equal(a.rows[0].session_id, '6009c305.5ce');
  const b = await parse('csv_statement_without_duration.log', { format: 'csvlog' });
  assert.deepEqual(
    b.rows.map((r) => r.kind),
    ['statement_duration', 'statement'],
  );
  assert.equal(b.rows[0].duration_ms, 688786.283);
  assert.equal(b.rows[1].statement, 'SELECT example_schema.health_check()');
});

test('stmt_type.log: default prefix', async () => {
  const { res, kinds } = await parse('stmt_type.log', { format: 'stderr', prefix: '%m [%p] ' });
  assert.equal(res.parseErrors, 0);
  assert.equal(kinds.statement_duration, 12);
});
