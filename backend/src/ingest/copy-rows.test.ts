// copyBinary writes a family's columns in COPY's binary format. Against a real PostgreSQL, every
// value must land as PostgreSQL itself reads the same value from text: the batch's JSON numbers
// and strings, timestamps in any offset and precision, hostile text and JSON, nulls, and rows
// that span many data chunks.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { bool, gauge, jsonb, text, timestamptz, type Columns, type FamilySpec } from '../../../protocol/index.ts';
import { startPostgres, type PostgresServer } from '../../../devkit/postgres-server.ts';
import { copyIn } from '../db/copy-in.ts';
import { copyBinary, jsonText, pgMicros } from './copy-rows.ts';

let server: PostgresServer;
let client: pg.Client;
before(async () => {
  server = await startPostgres();
  client = new pg.Client({ connectionString: server.url() });
  await client.connect();
  await client.query(`CREATE TABLE metrics_all (time timestamptz NOT NULL, instance_id int NOT NULL, server_id int NOT NULL, i int, b bigint,
    f double precision, ok boolean, s text, at timestamptz, j jsonb, unsent text)`);
});
after(async () => {
  await client?.end();
  await server?.stop();
});

const ALL: FamilySpec = {
  name: 'all',
  table: 'metrics_all',
  scope: 'instance',
  source: 'postgres',
  description: 'every column type',
  columns: [
    gauge('i', 'int'),
    gauge('b', 'bigint'),
    gauge('f', 'float'),
    bool('ok'),
    text('s'),
    timestamptz('at'),
    jsonb('j'),
    text('unsent'),
  ],
};

const TIMES = [
  '2026-11-28T06:45:18Z',
  '2026-11-28T06:45:18.123456Z',
  '2026-11-28T12:15:18.5+05:30',
  '2026-11-28T03:15:18.000001-03:30',
  '0001-01-01T00:00:00Z',
  '0050-06-15T12:00:00Z',
  '1850-01-01T00:00:00+00:19',
  '9999-12-31T23:59:59.999999Z',
  '1970-01-01T00:00:00Z',
  // Past the sixth digit PostgreSQL rounds half to even, and may carry into the next second.
  '2026-01-01T00:00:00.0000005Z',
  '2026-01-01T00:00:00.0000015Z',
  '2026-01-01T00:00:00.00000051Z',
  '2026-01-01T00:00:59.9999995Z',
  '2000-01-01T00:00:00.123456789012Z',
];
const INTS = [0, 1, -1, 2 ** 31 - 1, -(2 ** 31)];
const BIGS = [0, -1, 2 ** 32, -(2 ** 32) - 1, Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER, 1_234_567_890_123];
const FLOATS = [0, -0, 0.1, 1 / 3, -2.5e-300, 1.7976931348623157e308, 5e-324, 123456.789];
const TEXTS = [
  'plain',
  'tab\there',
  'new\nline',
  'back\\slash',
  'cr\r',
  'nul\0dropped',
  'ünï©ødé',
  '😀 astral',
  "'; DROP TABLE metrics_all; --",
  '\\N',
  '',
];
const JSONS = [{ a: 1 }, { nested: { list: [1, 'two', null, true] } }, { 'nul\u0000key': 'v\u0000' }, { back: '\\u0000 stays' }, {}];

function columnsOf(n: number): Columns {
  const pick = <T>(xs: readonly T[], i: number): T | null => (i % (xs.length + 1) === xs.length ? null : xs[i % (xs.length + 1)]);
  const cols: Columns = { time: [], instance: [], i: [], b: [], f: [], ok: [], s: [], at: [], j: [] };
  for (let r = 0; r < n; r++) {
    cols.time.push(TIMES[r % TIMES.length]);
    cols.instance.push('main');
    cols.i.push(pick(INTS, r));
    cols.b.push(pick(BIGS, r));
    cols.f.push(pick(FLOATS, r));
    cols.ok.push(pick([true, false], r));
    cols.s.push(pick(TEXTS, r));
    cols.at.push(pick(TIMES, r + 3));
    cols.j.push(pick(JSONS, r));
  }
  return cols;
}

test('every column type lands as PostgreSQL reads the same value from text; absent columns are null', async () => {
  await client.query('TRUNCATE metrics_all');
  const n = 240; // every combination of the lists above, several times over
  const cols = columnsOf(n);
  const owners = Array.from({ length: n }, (_, r) => r);
  const { rows } = await copyIn(client, [copyBinary(ALL, cols, 7, owners)]);
  assert.equal(rows, n);
  const stored = (await client.query('SELECT * FROM metrics_all ORDER BY instance_id')).rows;
  assert.equal(stored.length, n);
  const mismatches: string[] = [];
  for (let r = 0; r < n; r++) {
    const text = (v: unknown): string | null => (v === null ? null : String(v));
    const expected = (
      await client.query(
        `SELECT $1::timestamptz AS time, $2::int AS i, $3::bigint AS b, $4::float8 AS f, $5::boolean AS ok, $6::text AS s,
              $7::timestamptz AS at, $8::jsonb AS j`,
        [
          cols.time[r],
          text(cols.i[r]),
          text(cols.b[r]),
          cols.f[r] === null ? null : Object.is(cols.f[r], -0) ? '-0' : String(cols.f[r]),
          cols.ok[r],
          cols.s[r] === null ? null : (cols.s[r] as string).replaceAll('\0', ''),
          cols.at[r],
          cols.j[r] === null ? null : jsonText(cols.j[r]),
        ],
      )
    ).rows[0];
    for (const k of Object.keys(expected)) {
      const got = stored[r][k];
      const same = k === 'f' ? Object.is(got, expected[k]) : JSON.stringify(got) === JSON.stringify(expected[k]);
      if (!same) mismatches.push(`row ${r} ${k}: stored ${JSON.stringify(got)}, text gives ${JSON.stringify(expected[k])}`);
    }
    if (stored[r].unsent !== null) mismatches.push(`row ${r}: unsent is not null`);
    if (stored[r].server_id !== 7) mismatches.push(`row ${r}: server_id ${stored[r].server_id}, not the server given`);
  }
  assert.deepEqual(mismatches, []);
  // Timestamps to the microsecond, compared by PostgreSQL itself (a JS Date keeps milliseconds only).
  const micro = await client.query(
    `SELECT count(*)::int AS n FROM metrics_all m, unnest($1::text[]) WITH ORDINALITY AS t(iso, k)
    WHERE m.instance_id = k - 1 AND m.time = iso::timestamptz`,
    [cols.time],
  );
  assert.equal(micro.rows[0].n, n);
});

test('pgMicros: microseconds since 2000-01-01 UTC, exact beyond 2^53 microseconds', () => {
  assert.equal(pgMicros('2000-01-01T00:00:00Z'), 0);
  assert.equal(pgMicros('2000-01-01T01:00:00.000001+01:00'), 1);
  assert.equal(pgMicros('1999-12-31T23:59:59.999999Z'), -1);
  assert.equal(pgMicros('9999-12-31T23:59:59.999999Z'), 252_455_615_999_999_999n);
  assert.equal(pgMicros('0001-01-01T00:00:00Z'), -63_082_281_600_000_000n);
});

test('rows larger than a data chunk, and a value larger than one, arrive whole', async () => {
  await client.query('TRUNCATE metrics_all');
  const n = 5000;
  const cols: Columns = { time: [], instance: [], s: [], j: [] };
  const big = { blob: 'x'.repeat(300_000), more: 'ü'.repeat(50_000) };
  for (let r = 0; r < n; r++) {
    cols.time.push('2026-11-28T06:45:18.123456Z');
    cols.instance.push('main');
    cols.s.push(`row ${r} ${'é'.repeat(r % 200)}`);
    cols.j.push(r === 2500 ? big : { r });
  }
  const copy = copyBinary(
    ALL,
    cols,
    7,
    Array.from({ length: n }, (_, r) => r),
  );
  assert.ok(copy.chunks.length > 10, `${copy.chunks.length} chunks`);
  assert.equal((await copyIn(client, [copy])).rows, n);
  const r =
    await client.query(`SELECT count(*)::int AS n, count(*) FILTER (WHERE s = 'row ' || instance_id || ' ' || repeat('é', instance_id % 200))::int AS same,
    max(length(j->>'blob')) AS blob, max(length(j->>'more')) AS more FROM metrics_all`);
  assert.deepEqual(r.rows[0], { n, same: n, blob: 300_000, more: 50_000 });
});
