// The log_line_prefix values the big hosted services ship by default, each with records as
// the service writes them (a client backend's error with its STATEMENT, and a background
// process where %q or empty session escapes shorten the prefix). Sources of the defaults:
// RDS/Aurora and Azure from the providers' parameter documentation, Heroku from its log drain
// format, Supabase from supabase/postgres' postgresql.conf, Cloud SQL from its Cloud Logging
// entries (the time moves into the entry), Crunchy Bridge from the prefixes pganalyze supports
// for it, CloudNativePG from its JSON log lines.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createLogParser, detectFormat } from './create-parser.ts';
import type { LogFormat } from './event-kinds.ts';
import type { LogRecord } from './log-record.ts';
import { toPgLogRow } from './to-row.ts';

function parse(format: LogFormat, prefix: string | undefined, lines: string[]): { records: LogRecord[]; parseErrors: number } {
  const p = createLogParser({ format, prefix });
  for (const [i, l] of lines.entries()) p.line(l, i);
  p.flush();
  return { records: p.take(), parseErrors: p.parseErrors };
}

interface Service {
  name: string;
  prefix: string;
  lines: string[];
  /** What the client backend's error record must carry. */
  error: Partial<LogRecord>;
}

const SERVICES: Service[] = [
  {
    name: 'Amazon RDS / Aurora',
    prefix: '%t:%r:%u@%d:[%p]:',
    lines: [
      '2024-05-01 10:00:00 UTC::@:[3712]:LOG:  checkpoint starting: time',
      '2024-05-01 10:00:01 UTC:10.1.2.3(50432):app_user@shop:[4242]:ERROR:  relation "orders" does not exist at character 15',
      '2024-05-01 10:00:01 UTC:10.1.2.3(50432):app_user@shop:[4242]:STATEMENT:  SELECT * FROM orders',
    ],
    error: { user: 'app_user', database: 'shop', client: '10.1.2.3(50432)', pid: 4242, time: '2024-05-01T10:00:01.000Z' },
  },
  {
    name: 'Azure Database for PostgreSQL flexible server',
    prefix: '%t-%c-',
    lines: [
      '2024-05-01 10:00:00 UTC-66321f00.e80-LOG:  checkpoint starting: time',
      '2024-05-01 10:00:01 UTC-66321f01.1092-ERROR:  relation "orders" does not exist at character 15',
      '2024-05-01 10:00:01 UTC-66321f01.1092-STATEMENT:  SELECT * FROM orders',
    ],
    error: { sessionId: '66321f01.1092', time: '2024-05-01T10:00:01.000Z' },
  },
  {
    name: 'Heroku Postgres',
    prefix:
      ' sql_error_code = %e time_ms = "%m" pid="%p" proc_start_time="%s" session_id="%c" vtid="%v" tid="%x" log_line="%l" %qdatabase="%d" connection_source="%r" user="%u" application_name="%a" ',
    lines: [
      ' sql_error_code = 00000 time_ms = "2024-05-01 10:00:00.120 UTC" pid="3712" proc_start_time="2024-05-01 09:00:00 UTC" session_id="66321f00.e80" vtid="" tid="0" log_line="7" LOG:  checkpoint starting: time',
      ' sql_error_code = 42P01 time_ms = "2024-05-01 10:00:01.250 UTC" pid="4242" proc_start_time="2024-05-01 09:59:00 UTC" session_id="66321f01.1092" vtid="3/45" tid="0" log_line="2" database="d8abc" connection_source="10.1.2.3(50432)" user="u1xyz" application_name="web.1" ERROR:  relation "orders" does not exist at character 15',
      ' sql_error_code = 42P01 time_ms = "2024-05-01 10:00:01.250 UTC" pid="4242" proc_start_time="2024-05-01 09:59:00 UTC" session_id="66321f01.1092" vtid="3/45" tid="0" log_line="3" database="d8abc" connection_source="10.1.2.3(50432)" user="u1xyz" application_name="web.1" STATEMENT:  SELECT * FROM orders',
    ],
    error: {
      user: 'u1xyz',
      database: 'd8abc',
      application: 'web.1',
      client: '10.1.2.3(50432)',
      pid: 4242,
      sqlstate: '42P01',
      time: '2024-05-01T10:00:01.250Z',
    },
  },
  {
    name: 'Supabase',
    prefix: '%h %m [%p] %q%u@%d ',
    lines: [
      ' 2024-05-01 10:00:00.120 UTC [3712] LOG:  checkpoint starting: time',
      '10.1.2.3 2024-05-01 10:00:01.250 UTC [4242] authenticator@postgres ERROR:  relation "orders" does not exist at character 15',
      '10.1.2.3 2024-05-01 10:00:01.250 UTC [4242] authenticator@postgres STATEMENT:  SELECT * FROM orders',
    ],
    error: { user: 'authenticator', database: 'postgres', client: '10.1.2.3', pid: 4242, time: '2024-05-01T10:00:01.250Z' },
  },
  {
    name: 'Crunchy Bridge',
    prefix: '%m [%p][%b][%v][%x] %q[user=%u,db=%d,app=%a] ',
    lines: [
      '2024-05-01 10:00:00.120 UTC [3712][checkpointer][][0] LOG:  checkpoint starting: time',
      '2024-05-01 10:00:01.250 UTC [4242][client backend][3/45][0] [user=application,db=postgres,app=psql] ERROR:  relation "orders" does not exist at character 15',
      '2024-05-01 10:00:01.250 UTC [4242][client backend][3/45][0] [user=application,db=postgres,app=psql] STATEMENT:  SELECT * FROM orders',
    ],
    error: {
      user: 'application',
      database: 'postgres',
      application: 'psql',
      backendType: 'client backend',
      pid: 4242,
      time: '2024-05-01T10:00:01.250Z',
    },
  },
];

for (const s of SERVICES) {
  test(`${s.name}: default prefix '${s.prefix}'`, () => {
    const { records, parseErrors } = parse('stderr', s.prefix, s.lines);
    assert.equal(parseErrors, 0);
    assert.equal(records.length, 2);
    const [bg, err] = records;
    assert.equal(bg.severity, 'LOG');
    assert.equal(bg.message, 'checkpoint starting: time');
    assert.equal(bg.user, null);
    assert.equal(bg.pid === null || bg.pid === 3712, true);
    assert.equal(err.severity, 'ERROR');
    assert.equal(err.message, 'relation "orders" does not exist');
    assert.equal(err.position, 15);
    assert.equal(err.statement, 'SELECT * FROM orders');
    for (const [k, v] of Object.entries(s.error)) assert.deepEqual(err[k as keyof LogRecord], v, k);
    const row = toPgLogRow(err, { instance: 'i' });
    assert.equal(row.kind, 'error');
    assert.equal(row.sqlstate, '42P01');
    // parse-log on a copied file finds the prefix by itself
    const found = detectFormat(s.lines);
    assert.deepEqual(found, { format: 'stderr', prefix: s.prefix });
  });
}

test("Google Cloud SQL: Cloud Logging entries, textPayload with the default prefix '%m [%p]: [%l-1] db=%d,user=%u ' less its time", () => {
  const entry = (time: string, text: string) =>
    JSON.stringify({
      insertId: 's=1',
      logName: 'projects/p/logs/cloudsql.googleapis.com%2Fpostgres.log',
      resource: { labels: { database_id: 'p:db1', project_id: 'p', region: 'europe' }, type: 'cloudsql_database' },
      severity: 'ERROR',
      textPayload: text,
      timestamp: time,
    });
  const lines = [
    entry('2024-05-01T10:00:00.120Z', '[3712]: [1-1] db=,user= LOG:  checkpoint starting: time'),
    entry('2024-05-01T10:00:01.250Z', '[4242]: [3-1] db=shop,user=app_user ERROR:  relation "orders" does not exist at character 15'),
    entry('2024-05-01T10:00:01.250Z', '[4242]: [4-1] db=shop,user=app_user STATEMENT:  SELECT * FROM orders'),
  ];
  assert.equal(detectFormat(lines)?.format, 'jsonlog');
  const { records, parseErrors } = parse('cloudsql', undefined, lines);
  assert.equal(parseErrors, 0);
  assert.equal(records.length, 2);
  const err = records[1];
  assert.deepEqual(
    [err.user, err.database, err.pid, err.time, err.statement],
    ['app_user', 'shop', 4242, '2024-05-01T10:00:01.250Z', 'SELECT * FROM orders'],
  );
  assert.equal(toPgLogRow(err, { instance: 'i' }).sqlstate, '42P01');
});

test('CloudNativePG: JSON lines whose record holds the jsonlog fields', () => {
  const line = (record: Record<string, string>) =>
    JSON.stringify({ level: 'info', ts: 1714557601.25, logger: 'postgres', msg: 'record', logging_pod: 'cluster-1', record });
  const lines = [
    line({
      log_time: '2024-05-01 10:00:00.120 UTC',
      process_id: '3712',
      error_severity: 'LOG',
      sql_state_code: '00000',
      message: 'checkpoint starting: time',
      backend_type: 'checkpointer',
    }),
    line({
      log_time: '2024-05-01 10:00:01.250 UTC',
      user_name: 'app',
      database_name: 'app',
      process_id: '4242',
      connection_from: '10.1.2.3:50432',
      session_id: '66321f01.1092',
      error_severity: 'ERROR',
      sql_state_code: '42P01',
      message: 'relation "orders" does not exist',
      query: 'SELECT * FROM orders',
      query_pos: '15',
      application_name: 'psql',
      backend_type: 'client backend',
    }),
  ];
  assert.equal(detectFormat(lines)?.format, 'jsonlog');
  const { records, parseErrors } = parse('cnpg', undefined, lines);
  assert.equal(parseErrors, 0);
  assert.equal(records.length, 2);
  const err = records[1];
  assert.deepEqual(
    [err.user, err.database, err.pid, err.sqlstate, err.time, err.statement, err.backendType],
    ['app', 'app', 4242, '42P01', '2024-05-01T10:00:01.250Z', 'SELECT * FROM orders', 'client backend'],
  );
});
