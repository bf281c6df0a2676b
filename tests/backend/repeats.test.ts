// Repeats of one batch sent at the same moment (a collector retrying while its first push is
// still being written) store the rows once, and an instance first named by such a batch gets
// one row whose id every later batch uses.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startStack, registerCollector, type Stack } from '../helpers/stack.ts';
import type { Credentials } from '../../collector/src/credentials.ts';
import { push, simpleBatch } from './api.ts';
import type { Row } from '../../protocol/index.ts';

let stack: Stack;
let a: Credentials;
before(async () => {
  // Five pushes of one collector at once: its in-hand limit (2 by default) is raised so that all
  // five reach the store; hostile-pushes.test.ts tests the limit itself.
  stack = await startStack({ backend: { collectorPushRate: 1000, collectorPushBurst: 1000, collectorMaxInFlight: 5 } });
  a = (await registerCollector(stack, { name: 'a' })).creds;
});
after(async () => {
  await stack?.stop();
});

const tableRows = (n: number, instance: string, time: string): Row[] =>
  Array.from({ length: n }, (_, i) => ({ time, instance, datname: 'app', schemaname: 'public', relname: `t${i}`, seq_scan: i }));

test('the same batch pushed five times at once is stored once, with one new instance row', async () => {
  const time = new Date().toISOString();
  // 60 rows: the family goes by COPY.
  const batch = simpleBatch(a.collectorId, { pg_stats_table: tableRows(60, 'fresh-1', time), cpu: [{ time, cpu: 'all', user_pct: 1 }] });
  batch.instances.push({ name: 'fresh-1', up: true, version_num: 150000 });
  const replies = await Promise.all(Array.from({ length: 5 }, () => push(stack.backend, a, batch)));
  assert.deepEqual(replies.map((r) => r.status).sort(), [200, 200, 200, 200, 201], replies.map((r) => r.text).join('\n'));
  assert.equal(replies.filter((r) => r.body.status === 'duplicate').length, 4);
  const q = async (sql: string, params: unknown[]): Promise<number> => (await stack.db.query(sql, params)).rows[0].n;
  assert.equal(await q('SELECT count(*)::int AS n FROM metrics_pg_stats_table WHERE time = $1', [time]), 60);
  assert.equal(await q('SELECT count(*)::int AS n FROM metrics_cpu WHERE time = $1', [time]), 1);
  assert.equal(await q('SELECT count(*)::int AS n FROM ingested_batches WHERE batch_id = $1', [batch.batch_id]), 1);
  const inst = (await stack.db.query("SELECT id, version_num FROM postgresql_instances WHERE name = 'fresh-1'")).rows;
  assert.equal(inst.length, 1);
  assert.equal(inst[0].version_num, 150000);

  // A later batch reuses that id and refreshes the instance's version.
  const later = new Date(Date.now() + 1000).toISOString();
  const next = simpleBatch(a.collectorId, { pg_stats_table: tableRows(60, 'fresh-1', later) });
  next.instances = [{ name: 'fresh-1', up: true, version_num: 150001 }];
  assert.equal((await push(stack.backend, a, next)).status, 201);
  const owners = (await stack.db.query('SELECT DISTINCT instance_id FROM metrics_pg_stats_table WHERE time IN ($1, $2)', [time, later]))
    .rows;
  assert.deepEqual(
    owners.map((r) => r.instance_id),
    [inst[0].id],
  );
  assert.equal(
    (await stack.db.query('SELECT version_num FROM postgresql_instances WHERE id = $1', [inst[0].id])).rows[0].version_num,
    150001,
  );
});
