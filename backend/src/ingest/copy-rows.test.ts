// copyIn sends COPY statements, their data and ends in one write, without waiting for the
// server's CopyInResponse. Against a real PostgreSQL: rows land exactly, in every table of a
// multi-COPY query; a COPY the server refuses (before or while reading its data) rejects with the
// server's error, stores nothing, and leaves the connection usable for the next statement.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { startPostgres, type PostgresServer } from '../storage/postgres-server.ts';
import { copyIn } from './copy-rows.ts';

let server: PostgresServer;
let client: pg.Client;
before(async () => {
  server = await startPostgres();
  client = new pg.Client({ connectionString: server.url() });
  await client.connect();
  await client.query('CREATE TABLE t (n int, s text)');
});
after(async () => { await client?.end(); await server?.stop(); });

const count = async (): Promise<number> => (await client.query('SELECT count(*)::int AS n FROM t')).rows[0].n;

test('rows land exactly, across several data chunks, and the row count is returned', async () => {
  await client.query('TRUNCATE t');
  const a = Buffer.from('1\ttab\\there\n2\t\\N\n');
  // Several MB: more than a socket buffer holds, so the write completes only as the server reads.
  const big = Buffer.from(Array.from({ length: 200_000 }, (_, i) => `${i + 3}\tline ${i} ü\n`).join(''));
  assert.equal(await copyIn(client, [{ sql: 'COPY t (n, s) FROM STDIN', chunks: [a, big] }]), 200_002);
  assert.equal(await count(), 200_002);
  const r = await client.query('SELECT s FROM t WHERE n <= 2 ORDER BY n');
  assert.deepEqual(r.rows.map((x) => x.s), ['tab\there', null]);
  assert.equal((await client.query("SELECT s FROM t WHERE n = 200002")).rows[0].s, 'line 199999 ü');
});

test('a COPY refused before its data is read rejects with the server error; the connection goes on', async () => {
  await client.query('TRUNCATE t');
  await assert.rejects(copyIn(client, [{ sql: 'COPY no_such_table (n) FROM STDIN', chunks: [Buffer.from('1\n2\n')] }]),
    (err: Error & { code?: string }) => err.code === '42P01');
  // The CopyData and CopyDone that followed were skipped by the server, not taken as statements.
  assert.equal((await client.query('SELECT 41 + 1 AS x')).rows[0].x, 42);
  assert.equal(await copyIn(client, [{ sql: 'COPY t (n) FROM STDIN', chunks: [Buffer.from('7\n')] }]), 1);
  assert.equal(await count(), 1);
});

test('bad data inside a transaction: rejected, nothing stored, rollback and the next COPY work', async () => {
  await client.query('TRUNCATE t');
  await client.query('BEGIN');
  await copyIn(client, [{ sql: 'COPY t (n) FROM STDIN', chunks: [Buffer.from('1\n')] }]);
  await assert.rejects(copyIn(client, [{ sql: 'COPY t (n) FROM STDIN', chunks: [Buffer.from('2\nnot a number\n3\n')] }]),
    (err: Error & { code?: string }) => err.code === '22P02' && /not a number/.test(err.message));
  await client.query('ROLLBACK');
  assert.equal(await count(), 0);
  assert.equal(await copyIn(client, [{ sql: 'COPY t (n) FROM STDIN', chunks: [Buffer.from('4\n5\n')] }]), 2);
  assert.equal(await count(), 2);
});

test('several COPYs after BEGIN in one query: all land in the open transaction; a failing one takes none', async () => {
  await client.query('TRUNCATE t');
  await client.query('CREATE TABLE IF NOT EXISTS u (k text PRIMARY KEY)');
  await client.query('TRUNCATE u');
  const rows = await copyIn(client, [
    { sql: 'COPY u (k) FROM STDIN', chunks: [Buffer.from('a\n')] },
    { sql: 'COPY t (n) FROM STDIN', chunks: [Buffer.from('1\n2\n')] },
    { sql: 'COPY t (n, s) FROM STDIN', chunks: [Buffer.from('3\tx\n')] },
  ], { begin: true });
  assert.equal(rows, 4);
  assert.equal((await client.query('SELECT 1')).rowCount, 1); // still usable, still in the transaction
  await client.query('COMMIT');
  assert.equal(await count(), 3);

  // The first COPY fails (a repeated key): the ones after it are skipped, with their data.
  await assert.rejects(copyIn(client, [
    { sql: 'COPY u (k) FROM STDIN', chunks: [Buffer.from('a\n')] },
    { sql: 'COPY t (n) FROM STDIN', chunks: [Buffer.from('9\n')] },
  ], { begin: true }), (err: Error & { code?: string; constraint?: string }) => err.code === '23505' && err.constraint === 'u_pkey');
  await client.query('ROLLBACK');
  assert.equal(await count(), 3);
  assert.equal((await client.query('SELECT count(*)::int AS n FROM u')).rows[0].n, 1);
});
