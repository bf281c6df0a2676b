// The SQLSTATE inferred from a message (stderr without %e) must be the server's own: a real
// PostgreSQL writes stderr without %e and csvlog for the same failing statements, and for each
// ERROR/FATAL the csvlog's SQLSTATE is the truth.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import pg from 'pg';
import { embeddedBinDir, scramVerifier, startPostgres, type PostgresServer } from '../../devkit/postgres-server.ts';
import type { PgLogRow } from '../../collector/src/sources/logs/to-row.ts';
import { logFiles, parseFile, sortedRows } from './three-formats.ts';

const PREFIX = '%m [%p] %q%u@%d ';

const SETUP = [
  'CREATE TABLE parent (id int PRIMARY KEY)',
  'INSERT INTO parent VALUES (1)',
  `CREATE TABLE t (id int PRIMARY KEY, v int CHECK (v > 0), name text NOT NULL, code varchar(3), ref int REFERENCES parent,
    at date)`,
  "INSERT INTO t VALUES (1, 1, 'one', 'a', 1, '2024-01-01')",
  'CREATE TABLE booking (r int4range, EXCLUDE USING gist (r WITH &&))',
  "INSERT INTO booking VALUES ('[1,10)')",
  'CREATE VIEW small_t AS SELECT * FROM t WHERE v < 10 WITH CHECK OPTION',
  'CREATE SEQUENCE seq',
  'CREATE SEQUENCE seq_max MAXVALUE 2',
  "SELECT nextval('seq_max')",
  "SELECT nextval('seq_max')",
  'CREATE FUNCTION f1() RETURNS int LANGUAGE sql AS $$ SELECT 1 $$',
  'CREATE PROCEDURE p1() LANGUAGE sql AS $$ SELECT 1 $$',
  'CREATE ROLE someone LOGIN',
  'CREATE SCHEMA private',
  'CREATE TABLE secured (id int, owner text)',
  'ALTER TABLE secured ENABLE ROW LEVEL SECURITY',
  'CREATE POLICY own ON secured USING (owner = current_user) WITH CHECK (owner = current_user)',
  'GRANT SELECT, INSERT ON secured TO someone',
];

/** Each entry: statements run in order in one session (errors expected), as postgres unless `as`. */
interface Case {
  as?: 'someone';
  steps: string[];
}
const c = (...steps: string[]): Case => ({ steps });
const CASES: Case[] = [
  // syntax
  c('SELEC 1'),
  c("SELECT 'abc"),
  c('SELECT (1'),
  c('SELECT "abc'),
  c('SELECT $$abc'),
  c('INSERT INTO t (id) VALUES (1, 2)'),
  c('SELECT * FROM t WHERE v IN (SELECT 1, 2)'),
  c('SELECT 1 UNION SELECT 1, 2'),
  // undefined objects
  c('SELECT * FROM nope'),
  c('DROP TABLE nope'),
  c('DROP VIEW nope'),
  c('DROP SEQUENCE nope'),
  c('SELECT nocol FROM t'),
  c('ALTER TABLE t ALTER COLUMN nocol TYPE int'),
  c('SELECT nofunc(1)'),
  c("SELECT 'a'::text - 1"),
  c('CALL noproc()'),
  c('DROP FUNCTION nofn()'),
  c('ALTER ROLE nobody LOGIN'),
  c('GRANT SELECT ON t TO nobody'),
  c('DROP TYPE nope'),
  c("SELECT 'x'::nope"),
  c("SELECT current_setting('no.such')"),
  c('SET nope = 1'),
  c('SHOW nope'),
  c('SELECT sum(v) OVER w FROM t'),
  c('SELECT \'a\' COLLATE "nope"'),
  c('DROP SCHEMA nosch'),
  c('CREATE TABLE nosch.x ()'),
  c('DROP DATABASE nodb'),
  c('EXECUTE nope'),
  c('FETCH ALL FROM nocursor'),
  c('BEGIN', 'ROLLBACK TO SAVEPOINT nosp', 'ROLLBACK'),
  c('SELECT t.id FROM parent'),
  c("COMMIT PREPARED 'nope'"),
  c("SELECT 'nope'::regclass"),
  // duplicates
  c('CREATE TABLE t (id int)'),
  c('CREATE ROLE someone'),
  c('CREATE FUNCTION f1() RETURNS int LANGUAGE sql AS $$ SELECT 2 $$'),
  c('CREATE SCHEMA public'),
  c('CREATE DATABASE postgres'),
  c('ALTER TABLE t ADD COLUMN v int'),
  c('CREATE INDEX t_pkey ON t (v)'),
  c('CREATE TABLE x (a int, a int)'),
  c('PREPARE p AS SELECT 1', 'PREPARE p AS SELECT 1'),
  c('SELECT * FROM t t1 JOIN t t1 ON true'),
  // wrong object type
  c("SELECT nextval('t')"),
  c('DROP VIEW t'),
  c('SELECT row_number() FROM t'),
  c('SELECT * FROM t WHERE id = ANY(1)'),
  c('CALL f1()'),
  // privileges
  { as: 'someone', steps: ['SELECT * FROM t'] },
  { as: 'someone', steps: ['ALTER TABLE t ADD COLUMN w int'] },
  { as: 'someone', steps: ['CREATE TABLE private.x ()'] },
  { as: 'someone', steps: ["INSERT INTO secured VALUES (1, 'postgres')"] },
  { as: 'someone', steps: ['DROP TABLE t'] },
  // integrity
  c("INSERT INTO t VALUES (1, 1, 'dup')"),
  c('INSERT INTO t (id, v) VALUES (2, 1)'),
  c("INSERT INTO t VALUES (3, -1, 'neg')"),
  c("INSERT INTO t (id, v, name, ref) VALUES (4, 1, 'x', 99)"),
  c('DELETE FROM parent'),
  c("INSERT INTO booking VALUES ('[5,15)')"),
  c("INSERT INTO small_t VALUES (5, 50, 'big')"),
  c('CREATE TABLE dups AS SELECT 1 AS a UNION ALL SELECT 1', 'CREATE UNIQUE INDEX ON dups (a)'),
  // data
  c('SELECT 1/0'),
  c('SELECT 5 % 0'),
  c("SELECT 'abc'::int"),
  c("SELECT 'foo'::timestamp"),
  c("SELECT 'x'::uuid"),
  c("SELECT '{'::json"),
  c('SELECT 2147483647 + 1'),
  c('SELECT 10000000000::int'),
  c('SELECT 123.45::numeric(3,1)'),
  c("UPDATE t SET code = 'toolong'"),
  c("SELECT '{1,2'::int[]"),
  c("SELECT 'a' ~ '('"),
  c("SELECT '2024-13-01'::date"),
  c("SELECT to_date('x', 'YYYY')"),
  c("SELECT to_date('2020 2021', 'YYYY YYYY')"),
  c('SELECT sqrt(-1)'),
  c('SELECT ln(0)'),
  c("SELECT substring('abc' from 1 for -1)"),
  c('SELECT 1 LIMIT -1'),
  c('SELECT 1 OFFSET -1'),
  c("SELECT nextval('seq_max')"),
  c("SELECT setval('seq', 0)"),
  c("SELECT E'\\\\xZZ'::bytea"),
  c("SELECT 'NaN'::numeric::int"),
  c("SELECT lpad('x', 1100000000)"),
  c("SELECT 'a' LIKE 'a' ESCAPE 'ab'"),
  c("SET work_mem = 'abc'"),
  c("SELECT '1'::bit(2)"),
  c("SELECT B'1' | B'11'"),
  c('SELECT (SELECT g FROM generate_series(1, 2) g)'),
  c("SELECT currval('seq')"),
  c('SELECT chr(0)'),
  // grouping, ambiguity, types, references
  c('SELECT v, count(*) FROM t'),
  c('SELECT max(max(v)) FROM t'),
  c('SELECT * FROM t WHERE sum(v) > 1'),
  c('SELECT id FROM t, parent'),
  c("SELECT 1 UNION SELECT 'a'::text"),
  c('ALTER TABLE t ALTER COLUMN v TYPE date'),
  c('SELECT true::date'),
  c('SELECT * FROM t ORDER BY 9'),
  c("INSERT INTO t (id, v, name) VALUES (9, 1, 'x') ON CONFLICT (v) DO NOTHING"),
  c('CREATE TABLE x2 (id int REFERENCES t (v))'),
  c('SELECT * FROM t WHERE v'),
  // transactions, states
  c('BEGIN', 'SELECT 1/0', 'SELECT 1', 'ROLLBACK'),
  c('BEGIN', 'SELECT 1', 'SET TRANSACTION ISOLATION LEVEL SERIALIZABLE', 'ROLLBACK'),
  c('BEGIN', 'VACUUM', 'ROLLBACK'),
  c('SAVEPOINT x'),
  c('DECLARE cur CURSOR FOR SELECT 1'),
  c('DROP DATABASE postgres'),
  c('DROP TABLE parent'),
  c('TRUNCATE parent'),
  c("SET statement_timeout = '50ms'", 'SELECT pg_sleep(1)', 'RESET statement_timeout'),
  c("COPY t FROM '/nonexistent/file'"),
  c("SELECT pg_read_file('/nonexistent/file')"),
];

async function session(server: PostgresServer, user = 'postgres'): Promise<pg.Client> {
  const cl = new pg.Client({ host: server.host, port: server.port, user, database: 'postgres' });
  cl.on('error', () => undefined);
  await cl.connect();
  return cl;
}

async function runFor(binDir: string | undefined): Promise<void> {
  const base = mkdtempSync(join(tmpdir(), 'pga-logs-sqlstate-'));
  const server = await startPostgres({
    binDir,
    dataDir: join(base, 'data'),
    settings: {
      logging_collector: true,
      log_destination: 'stderr,csvlog',
      log_directory: 'log',
      log_filename: 'postgresql.log',
      log_rotation_age: 0,
      log_rotation_size: 0,
      log_line_prefix: PREFIX,
      lc_messages: 'C',
      max_prepared_transactions: 2,
    },
  });
  try {
    const admin = await session(server);
    for (const s of SETUP) await admin.query(s);
    // TCP needs SCRAM: the role shares the cluster's secret, which PGPASSFILE supplies.
    await admin.query(`ALTER ROLE someone PASSWORD '${scramVerifier(server.password)}'`);
    await admin.end();
    for (const k of CASES) {
      const cl = await session(server, k.as);
      for (const s of k.steps) await cl.query(s).catch(() => undefined);
      await cl.end();
    }
    // a serialization failure and a deadlock need two sessions
    const [a, b] = [await session(server), await session(server)];
    await a.query('BEGIN ISOLATION LEVEL REPEATABLE READ');
    await a.query('SELECT * FROM parent');
    await b.query('UPDATE parent SET id = id');
    await a.query('UPDATE parent SET id = id').catch(() => undefined);
    await a.query('ROLLBACK');
    await a.query('BEGIN');
    await b.query('BEGIN');
    await a.query('UPDATE t SET v = 2 WHERE id = 1');
    await b.query('INSERT INTO parent VALUES (7)');
    const pa = a.query('INSERT INTO parent VALUES (7)').catch(() => undefined);
    await new Promise((r) => setTimeout(r, 200));
    await b.query('UPDATE t SET v = 3 WHERE id = 1').catch(() => undefined);
    await pa;
    await a.query('ROLLBACK');
    await b.query('ROLLBACK');
    await a.end();
    await b.end();
    await server.stopServer();

    const f = logFiles(join(server.dataDir, 'log'));
    const [stderr, csv] = [await parseFile(f.stderr, 'stderr', PREFIX), await parseFile(f.csvlog, 'csvlog', PREFIX)];
    assert.equal(stderr.parseErrors, 0);
    assert.equal(stderr.rows.length, csv.rows.length);
    const failing = (rows: PgLogRow[]) =>
      sortedRows(rows).filter((r) => r.severity === 'ERROR' || r.severity === 'FATAL' || r.severity === 'PANIC');
    const [inferred, truth] = [failing(stderr.rows), failing(csv.rows)];
    assert.equal(inferred.length, truth.length);
    const wrong: string[] = [];
    for (let i = 0; i < truth.length; i++) {
      assert.equal(inferred[i].message, truth[i].message);
      if (inferred[i].sqlstate !== truth[i].sqlstate) wrong.push(`${truth[i].sqlstate} got ${inferred[i].sqlstate}: ${truth[i].message}`);
    }
    assert.deepEqual(wrong, [], `${wrong.length} of ${truth.length} wrong`);
    const distinct = new Set(truth.map((r) => r.message.replace(/"[^"]*"/g, '"…"')));
    assert.ok(distinct.size >= 60, `only ${distinct.size} distinct errors`);
    assert.ok(new Set(truth.map((r) => r.sqlstate)).size >= 40, 'a wide range of SQLSTATEs');
  } finally {
    await server.stop().catch(() => undefined);
    rmSync(base, { recursive: true, force: true });
  }
}

test("PostgreSQL 15 (this machine): the SQLSTATE inferred from stderr without %e is the csvlog's for every error", {
  timeout: 120_000,
}, async () => {
  await runFor(undefined);
});

test('PostgreSQL 18 (embedded binaries): the same', { timeout: 120_000 }, async () => {
  await runFor(await embeddedBinDir());
});
