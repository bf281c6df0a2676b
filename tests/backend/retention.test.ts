// Retention per family (environment and admin API) and hourly rollups for every family that has
// one: rows of every family pushed through the real endpoint come out of the maintenance job
// rolled up, and a shortened retention drops rows at ingest and in maintenance.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startStack, registerCollector, type Stack } from '../helpers/stack.ts';
import { runMaintenance } from '../../backend/src/storage/maintenance.ts';
import { parseRetention, retentionFromEnv } from '../../backend/src/storage/retention.ts';
import { benchBatch } from '../../bench/ingest-batch.ts';
import type { Credentials } from '../../collector/src/credentials.ts';
import { call, push, simpleBatch, userWithRole, type LoggedIn } from './api.ts';

let stack: Stack;
let a: Credentials;
let admin: LoggedIn;
before(async () => {
  stack = await startStack({ backend: { retention: { disk_usage: 60 * 86_400, cpu: 14 * 86_400 } } });
  a = (await registerCollector(stack, { name: 'a' })).creds;
  admin = await userWithRole(stack.backend, 'admin');
});
after(async () => {
  await stack?.stop();
});

const retentionOf = async (family: string): Promise<number> =>
  Number((await stack.db.query('SELECT extract(epoch FROM retention) AS s FROM metric_families WHERE family = $1', [family])).rows[0].s);

test('PGA_RETENTION_<FAMILY> parsing and its effect at start', async () => {
  assert.equal(parseRetention('14d'), 14 * 86_400);
  assert.equal(parseRetention('36h'), 36 * 3600);
  assert.equal(parseRetention('2w'), 14 * 86_400);
  for (const bad of ['14', '0d', '14 days', '-1d', '99999w', '1d; DROP TABLE x']) assert.equal(parseRetention(bad), undefined, bad);
  assert.deepEqual(retentionFromEnv({ PGA_RETENTION_DISK_USAGE: '60d', PGA_OTHER: 'x' }), { disk_usage: 60 * 86_400 });
  assert.throws(() => retentionFromEnv({ PGA_RETENTION_CPU: 'forever' }), /PGA_RETENTION_CPU/);
  assert.equal(await retentionOf('disk_usage'), 60 * 86_400);
  assert.equal(await retentionOf('cpu'), 14 * 86_400);
  assert.equal(await retentionOf('sysstat'), 7 * 86_400, 'defaults stay');
});

test('admin API changes retention; ingest then drops rows past it, maintenance drops partitions', async () => {
  const r = await call(stack.backend, '/api/v1/families/sysstat/retention', {
    method: 'PUT',
    token: admin.access,
    json: { retention: '2d' },
  });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.body.changed, true);
  assert.equal(await retentionOf('sysstat'), 2 * 86_400);
  const old = new Date(Date.now() - 3 * 86_400_000).toISOString();
  const now = new Date().toISOString();
  const p = await push(
    stack.backend,
    a,
    simpleBatch(a.collectorId, {
      sysstat: [
        { time: old, load1: 1 },
        { time: now, load1: 2 },
      ],
    }),
  );
  assert.equal(p.status, 201);
  assert.equal(p.body.rows, 1, 'the row past retention was not stored');
  for (const bad of [{ retention: '0h' }, { retention: "1d'; DROP TABLE users; --" }, { retention: 5 }, {}]) {
    const b = await call(stack.backend, '/api/v1/families/sysstat/retention', { method: 'PUT', token: admin.access, json: bad });
    assert.equal(b.status, 400, JSON.stringify(bad));
  }
  assert.equal(
    (await call(stack.backend, '/api/v1/families/nope/retention', { method: 'PUT', token: admin.access, json: { retention: '1d' } }))
      .status,
    404,
  );
  await stack.db.query('SELECT pga_ensure_partitions($1, $2, $2)', ['sysstat', new Date(Date.now() - 4 * 86_400_000)]);
  const report = await runMaintenance(stack.backend.pool);
  assert.ok(report.partitionsDropped >= 1, 'the old partition was dropped');
});

test('every family with a rollup gets hourly rollup rows from the maintenance job', async () => {
  const twoHoursAgo = new Date(Date.now() - 2 * 3_600_000);
  const batch = benchBatch(a.collectorId, twoHoursAgo);
  const r = await push(stack.backend, a, batch);
  assert.equal(r.status, 201, r.text);
  await runMaintenance(stack.backend.pool);
  const families = (await stack.db.query('SELECT family, rollup_table FROM metric_families WHERE rollup_table IS NOT NULL ORDER BY family'))
    .rows;
  assert.ok(families.length >= 10);
  const empty: string[] = [];
  for (const f of families) {
    const n = Number((await stack.db.query(`SELECT count(*) AS n FROM ${f.rollup_table}`)).rows[0].n);
    if (n === 0) empty.push(f.family);
  }
  assert.deepEqual(empty, [], 'families whose rollup stayed empty');
});

test('a batch for an hour already rolled up marks that hour in the transaction that stores it, and the next run redoes it', async () => {
  const hour = Math.floor(Date.now() / 3_600_000) * 3_600_000 - 3 * 3_600_000;
  const at = (min: number): string => new Date(hour + min * 60_000).toISOString();
  const load1Max = async (): Promise<number | null> => {
    const r = await stack.db.query('SELECT max(load1_max) AS m FROM metrics_sysstat_1h WHERE time = $1', [new Date(hour)]);
    return r.rows[0].m === null ? null : Number(r.rows[0].m);
  };
  assert.equal((await push(stack.backend, a, simpleBatch(a.collectorId, { sysstat: [{ time: at(5), load1: 3 }] }))).status, 201);
  await runMaintenance(stack.backend.pool);
  assert.equal(await load1Max(), 3);

  // A late batch (a collector replaying its spool after an outage) for that hour.
  const late = simpleBatch(a.collectorId, { sysstat: [{ time: at(30), load1: 42 }] });
  assert.equal((await push(stack.backend, a, late)).status, 201);
  const dirty = await stack.db.query("SELECT hour FROM rollup_dirty_hours WHERE family = 'sysstat'");
  assert.deepEqual(
    dirty.rows.map((r) => r.hour.getTime()),
    [hour],
  );
  // A late batch that is refused (its batch id again) marks nothing and stores nothing.
  await stack.db.query('DELETE FROM rollup_dirty_hours');
  const again = await push(stack.backend, a, late);
  assert.equal(again.body.status, 'duplicate');
  assert.equal((await stack.db.query('SELECT count(*)::int AS n FROM rollup_dirty_hours')).rows[0].n, 0);
  await stack.db.query("INSERT INTO rollup_dirty_hours VALUES ('sysstat', $1)", [new Date(hour)]);

  await runMaintenance(stack.backend.pool);
  assert.equal(await load1Max(), 42, 'the hour was rolled up again with the late row');
  assert.equal((await stack.db.query('SELECT count(*)::int AS n FROM rollup_dirty_hours')).rows[0].n, 0);
});

test('hours marked late inside the range a run rolls up anyway are rolled up once, not again by the next run', async () => {
  // The backend was down for five hours (no maintenance ran) while collectors replayed their
  // spools: the replayed hours are marked late, and they lie inside the range since the watermark.
  const now = Math.floor(Date.now() / 3_600_000) * 3_600_000;
  const since = new Date(now - 5 * 3_600_000);
  await stack.db.query("UPDATE metric_families SET rolled_up_to = $1 WHERE family = 'sysstat'", [since]);
  await stack.db.query('DELETE FROM rollup_dirty_hours');
  const at = new Date(now - 3 * 3_600_000 + 10 * 60_000).toISOString();
  assert.equal((await push(stack.backend, a, simpleBatch(a.collectorId, { sysstat: [{ time: at, load1: 7 }] }))).status, 201);
  assert.equal((await stack.db.query("SELECT count(*)::int AS n FROM rollup_dirty_hours WHERE family = 'sysstat'")).rows[0].n, 1);

  const first = await runMaintenance(stack.backend.pool);
  const sysstatHours = async (): Promise<number> =>
    (await stack.db.query("SELECT count(*)::int AS n FROM rollup_dirty_hours WHERE family = 'sysstat'")).rows[0].n;
  assert.equal(await sysstatHours(), 0, 'the mark is spent by the run whose range covered its hour');
  const second = await runMaintenance(stack.backend.pool);
  assert.equal(second.hoursRolledUp, 0, `the next run has nothing to redo (the first rolled up ${first.hoursRolledUp} family-hours)`);
});
