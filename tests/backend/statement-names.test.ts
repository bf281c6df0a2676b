// The per-batch statement is prepared (named) so each database connection plans it once. A
// collector sending ever new combinations of families must not make a connection hold ever
// more prepared statements: the families travel as COPY, which is not prepared.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startStack, registerCollector, type Stack } from '../helpers/stack.ts';
import type { Credentials } from '../../collector/src/credentials.ts';
import { push, simpleBatch } from './api.ts';
import type { Row } from '../../protocol/index.ts';

let stack: Stack;
let a: Credentials;
before(async () => {
  // One database connection: every push goes through it, so its prepared statements add up.
  stack = await startStack({ backend: { dbPoolSize: 1, collectorPushRate: 1000, collectorPushBurst: 1000 } });
  a = (await registerCollector(stack, { name: 'a' })).creds;
});
after(async () => {
  await stack?.stop();
});

test('prepared statements per connection stay bounded however many family combinations arrive', async () => {
  const now = new Date().toISOString();
  const rowsOf: Record<string, Row> = {
    sysstat: { time: now, load1: 1 },
    cpu: { time: now, cpu: 'all' },
    network: { time: now, interface: 'eth0' },
    disk_io: { time: now, device: 'sda' },
    pg_locks: { time: now, instance: 'main', locktype: 'relation', mode: 'AccessShareLock', granted: 1 },
    pg_settings: { time: now, instance: 'main', name: 'work_mem' },
    pg_stats_database: { time: now, instance: 'main', datname: 'postgres' },
  };
  const names = Object.keys(rowsOf);
  const combinations = 100;
  for (let mask = 1; mask <= combinations; mask++) {
    const families: Record<string, Row[]> = {};
    names.forEach((n, i) => {
      if (mask & (1 << i)) families[n] = [rowsOf[n]];
    });
    const r = await push(stack.backend, a, simpleBatch(a.collectorId, families));
    assert.equal(r.status, 201, r.text);
  }
  const stored = await stack.db.query('SELECT count(*)::int AS n FROM ingested_batches');
  assert.equal(stored.rows[0].n, combinations);
  // The backend's only connection: what it holds now.
  const held = (await stack.backend.pool.query('SELECT count(*)::int AS n FROM pg_prepared_statements')).rows[0].n;
  assert.ok(held <= 5, `${held} prepared statements on one connection`);
  const prepared = (await stack.backend.pool.query('SELECT name FROM pg_prepared_statements')).rows.map((r) => r.name as string);
  assert.ok(prepared.includes('pga_store_seen') && prepared.includes('pga_active_collector'), `prepared: ${prepared.join(', ')}`);
});
