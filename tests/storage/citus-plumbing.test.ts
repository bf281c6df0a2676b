// The citus storage mode's parts that run on plain PostgreSQL (citus.test.ts runs the rest on a
// real Citus cluster): how the mode is chosen and configured, that the partition functions serve
// it, and that a repeated batch is recognised whatever its key's constraint is called (Citus
// reports a shard's constraint, its name suffixed with the shard id, or none at all).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { chooseStorage, migrate } from '../../backend/src/storage/migrate.ts';
import { markLateRows } from '../../backend/src/storage/metric-families.ts';
import { settingsFromEnv } from '../../backend/src/settings.ts';
import { registerCollector, startStack, type Stack } from '../helpers/stack.ts';
import { push, simpleBatch } from '../backend/api.ts';

const TIMEOUT = { timeout: 120_000 };

test('auto picks citus where the extension is created, and never TimescaleDB there', () => {
  const ts = { available: true, created: false, preloaded: true };
  assert.deepEqual(chooseStorage('auto', { ...ts, citus: true }), { mode: 'citus' });
  assert.deepEqual(chooseStorage('citus', { ...ts, citus: true }), { mode: 'citus' });
  assert.deepEqual(chooseStorage('native', { ...ts, citus: true }), { mode: 'native' });
  assert.throws(() => chooseStorage('timescaledb', { ...ts, citus: true }), /citus extension, which TimescaleDB cannot run beside/);
  assert.throws(() => chooseStorage('citus', { ...ts, citus: false }), /citus extension is not created in this database/);
  assert.deepEqual(chooseStorage('auto', { ...ts, citus: false }), { mode: 'timescaledb' });
});

test('PGA_STORAGE=citus and its settings are read and checked', () => {
  const saved = { ...process.env };
  try {
    process.env.PGA_STORAGE = 'citus';
    process.env.PGA_CITUS_SHARD_COUNT = '48';
    process.env.PGA_CITUS_COLUMNAR_AFTER_DAYS = '3';
    const s = settingsFromEnv();
    assert.deepEqual([s.storage, s.citusShardCount, s.citusColumnarAfterDays], ['citus', 48, 3]);
    process.env.PGA_CITUS_SHARD_COUNT = '0';
    assert.throws(() => settingsFromEnv(), /PGA_CITUS_SHARD_COUNT must be an integer from 1 to 64000/);
    delete process.env.PGA_CITUS_SHARD_COUNT;
    assert.equal(settingsFromEnv().citusShardCount, 32);
    process.env.PGA_STORAGE = 'cituss';
    assert.throws(() => settingsFromEnv(), /PGA_STORAGE must be one of auto, timescaledb, native, citus/);
  } finally {
    process.env = saved;
  }
});

test('late rows on citus mark their hours as on native (the same maintenance job rolls them up)', () => {
  const now = Date.parse('2026-12-05T12:30:00Z');
  const from = new Date('2026-12-05T09:10:00Z');
  const to = new Date('2026-12-05T12:10:00Z');
  assert.deepEqual(markLateRows('citus', ['sysstat'], from, to, now), markLateRows('native', ['sysstat'], from, to, now));
  assert.notEqual(markLateRows('citus', ['sysstat'], from, to, now), null);
});

let stack: Stack | undefined;
before(async () => {
  stack = await startStack();
});
after(async () => {
  await stack?.stop();
});

test('storage_settings admits citus, and the partition functions serve it', TIMEOUT, async () => {
  const day = new Date(Date.now() + 30 * 86_400_000);
  const c = await stack!.db.connect();
  try {
    // On plain PostgreSQL nothing is distributed: only what the functions do for the mode is tested.
    await c.query('BEGIN');
    await c.query("UPDATE storage_settings SET mode = 'citus'");
    assert.equal((await c.query("SELECT pga_ensure_partitions('cpu', $1, $1) AS n", [day])).rows[0].n, 1);
    assert.equal((await c.query("SELECT pga_drop_expired_partitions('cpu') AS n")).rows[0].n, 0);
    await c.query('ROLLBACK');
    assert.equal((await migrate(c, { storage: 'auto' })).mode, 'native', 'a database keeps the mode its schema was made with');
  } finally {
    c.release();
  }
});

test('a repeated batch is acknowledged as a repeat whatever its key constraint is called', TIMEOUT, async () => {
  const s = stack!;
  // As a Citus worker reports it: the shard's constraint, named with the shard id.
  await s.db.query('ALTER TABLE ingested_batches RENAME CONSTRAINT ingested_batches_pkey TO ingested_batches_pkey_102008');
  try {
    const { creds } = await registerCollector(s, { name: 'repeat' });
    const batch = simpleBatch(creds.collectorId, { cpu: [{ time: new Date().toISOString(), cpu: 'all', user_pct: 1 }] });
    const first = await push(s.backend, creds, batch);
    assert.equal(first.status, 201, first.text);
    const again = await push(s.backend, creds, batch);
    assert.equal(again.status, 200, again.text);
    assert.equal(again.body.status, 'duplicate');
    assert.equal(
      (
        await s.db.query('SELECT count(*)::int AS n FROM metrics_cpu WHERE server_id = (SELECT server_id FROM collectors WHERE id = $1)', [
          creds.collectorId,
        ])
      ).rows[0].n,
      1,
    );
  } finally {
    await s.db.query('ALTER TABLE ingested_batches RENAME CONSTRAINT ingested_batches_pkey_102008 TO ingested_batches_pkey');
  }
});
