// pg_stat_io end to end on the collector side: collected as pg_monitor from a PostgreSQL 16 or
// later (this machine's, or the embedded PG18 when this machine's is older), diffed into valid
// protocol rows; on an older server, skipped without an error and said once.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { FAMILY_BY_NAME, rowSchema } from '../../protocol/index.ts';
import { embeddedBinDir } from '../../devkit/postgres-server.ts';
import { InstanceUnderTest } from '../../collector/src/testing/stages.ts';
import { PG16 } from '../../collector/src/sources/postgres/versions.ts';
import { startMonitored, type Monitored } from './monitored.ts';

let local: Monitored;
let recent: Monitored | undefined;

before(async () => {
  local = await startMonitored();
  if (local.server.versionNum < PG16) recent = await startMonitored({ binDir: await embeddedBinDir() });
});
after(async () => {
  await local?.stop();
  await recent?.stop();
});

const onlyIo = (f: string): boolean => f === 'pg_stat_io' || f === 'pg_instance';

test('pg_stat_io on PostgreSQL 16+: a row per process type, object and context; client reads counted as deltas', {
  timeout: 120_000,
}, async () => {
  const m = recent ?? local;
  assert.ok(m.server.versionNum >= PG16);
  await m.admin('CREATE TABLE io_probe AS SELECT g, repeat(md5(g::text), 4) AS pad FROM generate_series(1, 20000) g');
  const src = new InstanceUnderTest({ name: 'io', url: m.monitorUrl(), notice: () => assert.fail('nothing to say on PG16+') });
  try {
    const first = await src.collect(new Date(Date.now() - 60_000), onlyIo);
    assert.deepEqual(first.errors, []);
    assert.ok(first.rows.pg_stat_io.length > 5, `${first.rows.pg_stat_io.length} rows`);
    assert.ok(
      first.rows.pg_stat_io.every((r) => r.reads === null && r.interval_s === null),
      'no deltas on a first sample',
    );
    for (let i = 0; i < 5; i++) await m.admin('SELECT count(*) FROM io_probe');
    await m.admin('SELECT pg_stat_force_next_flush()');
    const second = await src.collect(new Date(), onlyIo);
    assert.deepEqual(second.errors, []);
    const schema = rowSchema(FAMILY_BY_NAME.get('pg_stat_io')!);
    for (const r of second.rows.pg_stat_io) assert.ok(schema.safeParse(r).success, JSON.stringify(r));
    const keys = second.rows.pg_stat_io.map((r) => `${r.backend_type}/${r.object}/${r.context}`);
    assert.equal(new Set(keys).size, keys.length, 'one row per process type, object and context');
    const client = second.rows.pg_stat_io.find(
      (r) => r.backend_type === 'client backend' && r.object === 'relation' && r.context === 'normal',
    );
    assert.ok(client, keys.join(', '));
    assert.ok(Number(client.interval_s) > 0);
    // The five scans read the table's pages: from shared buffers (hits) or from the kernel (reads).
    assert.ok(Number(client.hits ?? 0) + Number(client.reads ?? 0) >= 5 * 100, `hits ${client.hits}, reads ${client.reads}`);
    assert.ok(Number(client.hits) < 1e9, 'a delta, not the cumulative count');
    if (client.reads !== null && Number(client.reads) > 0) assert.ok(Number(client.read_bytes) >= Number(client.reads) * 8192);
  } finally {
    await src.close();
  }
});

test('pg_stat_io on PostgreSQL 15 or older: not collected, no family error, said once', { timeout: 60_000 }, async (t) => {
  if (local.server.versionNum >= PG16) {
    t.skip(`this machine's PostgreSQL is ${local.server.versionNum}: nothing older to try`);
    return;
  }
  const said: Array<Record<string, unknown>> = [];
  const src = new InstanceUnderTest({
    name: 'old',
    url: local.monitorUrl(),
    notice: (message, fields) => said.push({ message, ...fields }),
  });
  try {
    for (let cycle = 0; cycle < 2; cycle++) {
      const r = await src.collect(new Date(Date.now() + cycle * 60_000), onlyIo);
      assert.deepEqual(r.errors, []);
      assert.deepEqual(r.rows.pg_stat_io, [], 'nothing to send');
      assert.equal(r.rows.pg_instance[0]!.up, true, 'the rest goes on');
    }
    assert.deepEqual(said, [
      {
        message: 'family not collected: the server is older than its first version',
        instance: 'old',
        family: 'pg_stat_io',
        server_version_num: local.server.versionNum,
        first_version_num: PG16,
      },
    ]);
  } finally {
    await src.close();
  }
});
