// The check finds the constructs Citus refused in the dashboards before issue 22 (their shapes
// as they were), and passes their rewrites.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { citusFindings } from './citus-plannable.ts';

const OWNERS = { owners: ['server_id'] } as const;
const rules = async (sql: string, options = {}) => (await citusFindings(sql, options)).map((f) => f.rule);

test('a LATERAL … LIMIT 1 lookup after a LIMIT subquery is found; a DISTINCT ON join is not', async () => {
  const top = `SELECT m.instance_id, m.queryid, sum(m.calls) AS calls FROM metrics_pg_statements m
    WHERE m.server_id IN ('1') GROUP BY 1, 2 ORDER BY 3 DESC LIMIT 20`;
  assert.deepEqual(
    await rules(`SELECT t.*, x.query FROM (${top}) t
      LEFT JOIN LATERAL (SELECT q.query FROM metrics_pg_statement_texts q
                          WHERE q.instance_id = t.instance_id AND q.queryid = t.queryid
                          ORDER BY q.time DESC LIMIT 1) x ON true`),
    ['lateral'],
  );
  assert.deepEqual(
    await rules(`SELECT t.*, x.query FROM (${top}) t
      LEFT JOIN (SELECT DISTINCT ON (q.instance_id, q.queryid) q.instance_id, q.queryid, q.query
                   FROM metrics_pg_statement_texts q WHERE q.server_id IN ('1')
                  ORDER BY q.instance_id, q.queryid, q.time DESC) x ON x.instance_id = t.instance_id AND x.queryid = t.queryid`),
    [],
  );
  // A lateral list of values over the row reads no table: allowed.
  assert.deepEqual(
    await rules(
      `SELECT r.time FROM metrics_pg_bgwriter m CROSS JOIN LATERAL (VALUES ('a', m.bgwriter_stats_reset)) r(what, time)
      WHERE m.server_id IN ('1')`,
      OWNERS,
    ),
    [],
  );
});

test('correlated subqueries are found wherever they are: select list, WHERE, IN', async () => {
  assert.deepEqual(
    await rules(`SELECT t.queryid, (SELECT q.query FROM metrics_pg_statement_texts q WHERE q.queryid = t.queryid ORDER BY q.time DESC LIMIT 1)
      FROM (SELECT 1 AS queryid) t`),
    ['correlated'],
  );
  assert.deepEqual(
    await rules(`SELECT m.time FROM metrics_pg_plans m
      WHERE m.query_id IS NULL AND m.statement_fingerprint IN (SELECT md5(q.query) FROM metrics_pg_statement_texts q WHERE q.instance_id = m.instance_id)`),
    ['correlated'],
  );
  // The same reading its own relations only, and an alias reused inside (m within m): fine.
  assert.deepEqual(
    await rules(`SELECT m.time FROM metrics_pg_plans m
      WHERE (m.instance_id, m.statement_fingerprint) IN (SELECT q.instance_id, md5(q.query) FROM metrics_pg_statement_texts q WHERE q.instance_id IN ('1'))
        AND m.time > (SELECT max(m.time) FROM metrics_pg_plans m WHERE m.instance_id IN ('1'))`),
    [],
  );
});

test('a metric table read without its owner filter is found, in every branch and subquery', async () => {
  const watermark = (filter: string) => `SELECT m.time FROM metrics_pg_wal m
    WHERE m.server_id IN ('1', '2') AND m.time >= (SELECT coalesce(max(r.time), now()) FROM metrics_pg_wal_1h r${filter})
    UNION ALL SELECT m.time FROM metrics_pg_wal_1h m WHERE m.server_id = '1'`;
  assert.deepEqual(await rules(watermark(''), OWNERS), ['owner']);
  assert.deepEqual(await rules(watermark(" WHERE r.server_id IN ('1', '2')"), OWNERS), []);
  // Not by a subquery, not by another column, not on another alias.
  for (const where of ['m.server_id IN (SELECT id FROM servers)', "m.instance_id IN ('1')", "s.server_id IN ('1')"])
    assert.deepEqual(
      await rules(`SELECT 1 FROM metrics_cpu m JOIN servers s ON s.id = m.server_id WHERE ${where}`, OWNERS),
      ['owner'],
      where,
    );
  // A single table may be filtered without its alias; metadata tables need no filter.
  assert.deepEqual(await rules("SELECT datname FROM metrics_pg_stats_database WHERE server_id IN ('1')", OWNERS), []);
  assert.deepEqual(await rules('SELECT hostname FROM servers', OWNERS), []);
  // Without owners, only the other rules apply (fleet-wide panels read every server).
  assert.deepEqual(await rules(watermark('')), []);
});
