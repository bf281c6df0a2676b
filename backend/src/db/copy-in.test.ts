// copyIn sends COPY statements, their data and the statements after them in one write, as one
// transaction, without waiting for the server's CopyInResponse. Against a real PostgreSQL: rows
// land exactly, in every table of a multi-COPY call; a COPY or statement the server refuses
// (before or while reading its data) rejects with the server's error, stores nothing, and leaves
// the connection usable for the next statement.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { startPostgres, type PostgresServer } from '../../../devkit/postgres-server.ts';
import { copyIn, failedStatement } from './copy-in.ts';

let server: PostgresServer;
let client: pg.Client;
before(async () => {
  server = await startPostgres();
  client = new pg.Client({ connectionString: server.url() });
  await client.connect();
  await client.query('CREATE TABLE t (n int, s text)');
});
after(async () => {
  await client?.end();
  await server?.stop();
});

const count = async (): Promise<number> => (await client.query('SELECT count(*)::int AS n FROM t')).rows[0].n;

test('rows land exactly, across several data chunks, and the row count is returned', async () => {
  await client.query('TRUNCATE t');
  const a = Buffer.from('1\ttab\\there\n2\t\\N\n');
  // Several MB: more than a socket buffer holds, so the write completes only as the server reads.
  const big = Buffer.from(Array.from({ length: 200_000 }, (_, i) => `${i + 3}\tline ${i} ü\n`).join(''));
  assert.equal((await copyIn(client, [{ sql: 'COPY t (n, s) FROM STDIN', chunks: [a, big] }])).rows, 200_002);
  assert.equal(await count(), 200_002);
  const r = await client.query('SELECT s FROM t WHERE n <= 2 ORDER BY n');
  assert.deepEqual(
    r.rows.map((x) => x.s),
    ['tab\there', null],
  );
  assert.equal((await client.query('SELECT s FROM t WHERE n = 200002')).rows[0].s, 'line 199999 ü');
});

test('a COPY refused before its data is read rejects with the server error; the connection goes on', async () => {
  await client.query('TRUNCATE t');
  await assert.rejects(
    copyIn(client, [{ sql: 'COPY no_such_table (n) FROM STDIN', chunks: [Buffer.from('1\n2\n')] }]),
    (err: Error & { code?: string }) => err.code === '42P01',
  );
  // The CopyData and CopyDone that followed were skipped by the server, not taken as statements.
  assert.equal((await client.query('SELECT 41 + 1 AS x')).rows[0].x, 42);
  assert.equal((await copyIn(client, [{ sql: 'COPY t (n) FROM STDIN', chunks: [Buffer.from('7\n')] }])).rows, 1);
  assert.equal(await count(), 1);
});

test('bad data inside a transaction: rejected, nothing stored, rollback and the next COPY work', async () => {
  await client.query('TRUNCATE t');
  await client.query('BEGIN');
  await copyIn(client, [{ sql: 'COPY t (n) FROM STDIN', chunks: [Buffer.from('1\n')] }]);
  await assert.rejects(
    copyIn(client, [{ sql: 'COPY t (n) FROM STDIN', chunks: [Buffer.from('2\nnot a number\n3\n')] }]),
    (err: Error & { code?: string }) => err.code === '22P02' && /not a number/.test(err.message),
  );
  await client.query('ROLLBACK');
  assert.equal(await count(), 0);
  assert.equal((await copyIn(client, [{ sql: 'COPY t (n) FROM STDIN', chunks: [Buffer.from('4\n5\n')] }])).rows, 2);
  assert.equal(await count(), 2);
});

test('several COPYs in one call are one transaction: all land, or a failing one takes none', async () => {
  await client.query('TRUNCATE t');
  await client.query('CREATE TABLE IF NOT EXISTS u (k text PRIMARY KEY)');
  await client.query('TRUNCATE u');
  const { rows } = await copyIn(client, [
    { sql: 'COPY u (k) FROM STDIN', chunks: [Buffer.from('a\n')] },
    { sql: 'COPY t (n) FROM STDIN', chunks: [Buffer.from('1\n2\n')] },
    { sql: 'COPY t (n, s) FROM STDIN', chunks: [Buffer.from('3\tx\n')] },
  ]);
  assert.equal(rows, 4);
  // Committed at the Sync: another session sees the rows.
  const other = new pg.Client({ connectionString: server.url() });
  await other.connect();
  try {
    assert.equal((await other.query('SELECT count(*)::int AS n FROM t')).rows[0].n, 3);
  } finally {
    await other.end();
  }

  // A later COPY fails (a repeated key): the earlier one in the same call is rolled back with it.
  await assert.rejects(
    copyIn(client, [
      { sql: 'COPY t (n) FROM STDIN', chunks: [Buffer.from('9\n')] },
      { sql: 'COPY u (k) FROM STDIN', chunks: [Buffer.from('a\n')] },
      { sql: 'COPY t (n) FROM STDIN', chunks: [Buffer.from('10\n')] },
    ]),
    (err: Error & { code?: string; constraint?: string }) => err.code === '23505' && err.constraint === 'u_pkey',
  );
  // Neither an aborted transaction (this query would fail) nor an open one (now() would be older).
  assert.equal((await client.query('SELECT now() = statement_timestamp() AS fresh')).rows[0].fresh, true);
  assert.equal(await count(), 3);
  assert.equal((await client.query('SELECT count(*)::int AS n FROM u')).rows[0].n, 1);
});

test('statements after the COPYs run in their transaction, prepared once per connection; their first rows come back', async () => {
  await client.query('TRUNCATE t');
  await client.query('CREATE TABLE IF NOT EXISTS seen (id int PRIMARY KEY, names text[])');
  await client.query('TRUNCATE seen');
  const mark = (id: unknown, names: unknown) => ({
    name: 'test_mark',
    text: 'INSERT INTO seen VALUES ($1, $2::text[]) RETURNING id, array_length(names, 1) AS n',
    values: [id, names],
  });
  const total = { name: 'test_total', text: 'SELECT count(*) AS c FROM t WHERE n > $1', values: [0] };
  // Text parameters that need quoting in an array literal arrive intact.
  const hostile = ['a,b', 'quote"d', 'back\\slash', "'; DROP TABLE t; --", '{braces}', 'NULL'];
  const first = await copyIn(client, [{ sql: 'COPY t (n) FROM STDIN', chunks: [Buffer.from('1\n2\n')] }], [mark(1, hostile), total]);
  assert.deepEqual(first, { rows: 2, firstRows: [['1', String(hostile.length)], ['2']] });
  assert.deepEqual((await client.query('SELECT names FROM seen WHERE id = 1')).rows[0].names, hostile);
  const preparedCount = async (): Promise<number> =>
    (await client.query("SELECT count(*)::int AS n FROM pg_prepared_statements WHERE name IN ('test_mark', 'test_total')")).rows[0].n;
  assert.equal(await preparedCount(), 2);

  // The second statement fails after the first was executed: COPY and both statements roll back.
  await assert.rejects(
    copyIn(client, [{ sql: 'COPY t (n) FROM STDIN', chunks: [Buffer.from('3\n')] }], [mark(2, []), mark(1, [])]),
    (err: Error & { code?: string }) => err.code === '23505',
  );
  assert.equal(await count(), 2);
  assert.equal((await client.query('SELECT count(*)::int AS n FROM seen')).rows[0].n, 1);

  // A statement whose first use failed (its Parse ran, its transaction did not) still works.
  const fresh = new pg.Client({ connectionString: server.url() });
  await fresh.connect();
  try {
    await assert.rejects(copyIn(fresh, [], [mark(1, ['dup'])]), (err: Error & { code?: string }) => err.code === '23505');
    assert.deepEqual((await copyIn(fresh, [{ sql: 'COPY t (n) FROM STDIN', chunks: [Buffer.from('5\n')] }], [mark(3, null)])).firstRows, [
      ['3', null],
    ]);
    // Now known: used again without a second Parse, which would fail on the existing name.
    assert.deepEqual((await copyIn(fresh, [], [mark(4, ['x'])])).firstRows, [['4', '1']]);
  } finally {
    await fresh.end();
  }
  assert.equal(await count(), 3);
  assert.equal(await preparedCount(), 2, 'still prepared once on the first connection');
  // A parameter of the wrong type is the server's error, and nothing lands.
  await assert.rejects(
    copyIn(client, [{ sql: 'COPY t (n) FROM STDIN', chunks: [Buffer.from('6\n')] }], [mark('not a number', [])]),
    (err: Error & { code?: string }) => err.code === '22P02',
  );
  assert.equal(await count(), 3);
});

test('a rejection names the COPY or statement the server refused, by its index in the order sent', async () => {
  await client.query('CREATE TABLE IF NOT EXISTS u (k text PRIMARY KEY)');
  await client.query('TRUNCATE u');
  await client.query("INSERT INTO u VALUES ('taken')");
  const copyU = { sql: 'COPY u (k) FROM STDIN', chunks: [Buffer.from('taken\n')] };
  const copyT = { sql: 'COPY t (n) FROM STDIN', chunks: [Buffer.from('1\n')] };
  const at = async (p: Promise<unknown>): Promise<[string | undefined, number | undefined]> => {
    const err = await p.then(
      () => assert.fail('copyIn should have failed'),
      (e: unknown) => e,
    );
    return [(err as { code?: string }).code, failedStatement(err)];
  };
  assert.deepEqual(await at(copyIn(client, [copyU, copyT])), ['23505', 0]);
  assert.deepEqual(await at(copyIn(client, [copyT, copyT, copyU])), ['23505', 2]);
  const insert = { name: 'test_insert_u', text: 'INSERT INTO u VALUES ($1)', values: ['taken'] };
  assert.deepEqual(await at(copyIn(client, [copyT], [{ ...insert, values: ['free'] }, insert])), ['23505', 2]);
  assert.equal(failedStatement(new Error('not from copyIn')), undefined);
});
