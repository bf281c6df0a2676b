// The bloat estimates (pg_table_bloat, pg_index_bloat) against a real server: freshly loaded
// tables and indexes estimate near zero (fillfactor and null bitmaps included), and tables and
// indexes bloated by deletes and updates without vacuum estimate what pgstattuple measures.
//
// Tolerance: 5 percentage points of the relation's size. The estimate packs average widths;
// on the fresh tables here it is within 3 points of the real packing (variable-width rows pad
// to 8 bytes by a varying amount, fixed-width columns pad inside the row). pgstattuple counts the
// bytes of dead rows and free space; a VACUUM FULL also gives back the dead rows' line pointers
// (4 bytes each), added to the measurement, and their alignment padding (up to 7 bytes each),
// which the remaining points allow for.
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import type { Row } from '../../protocol/index.ts';
import { InstanceUnderTest } from '../../collector/src/testing/stages.ts';
import { Schedule } from '../../collector/src/agent.ts';
import { MONITOR_ROLE, startMonitored, type Monitored } from './monitored.ts';

const TOLERANCE_PCT = 5;
const BLOAT = (f: string): boolean => f === 'pg_table_bloat' || f === 'pg_index_bloat';

describe('bloat estimates on a real server', { timeout: 180_000 }, () => {
  let m: Monitored;
  let pgstattuple = false;
  const sql = async (text: string): Promise<Array<Record<string, unknown>>> => (await m.admin(text, 'shop')).rows;
  const collect = async (): Promise<{ tables: Map<string, Row>; indexes: Map<string, Row> }> => {
    const src = new InstanceUnderTest({ name: 'db1', url: m.monitorUrl() });
    try {
      const r = await src.collect(new Date(), BLOAT);
      assert.deepEqual(r.errors, []);
      const shop = (rows: Row[] | undefined, name: string): Map<string, Row> =>
        new Map((rows ?? []).filter((x) => x.datname === 'shop').map((x) => [String(x[name]), x]));
      return { tables: shop(r.rows.pg_table_bloat, 'relname'), indexes: shop(r.rows.pg_index_bloat, 'indexrelname') };
    } finally {
      await src.close();
    }
  };

  before(async () => {
    m = await startMonitored();
    await m.admin('CREATE DATABASE shop');
    pgstattuple = (await sql("SELECT 1 FROM pg_available_extensions WHERE name = 'pgstattuple'")).length > 0;
    if (pgstattuple) await sql('CREATE EXTENSION pgstattuple');
    // Autovacuum off on every table: the bloat must stay until measured.
    const load = (name: string, opts = ''): string => `
      CREATE TABLE ${name} (id bigint PRIMARY KEY, name text, qty int, note text) WITH (autovacuum_enabled = false${opts});
      INSERT INTO ${name} SELECT g, 'name ' || g, g % 100, CASE WHEN g % 3 = 0 THEN NULL ELSE repeat('x', g % 50) END
        FROM generate_series(1, 100000) g;`;
    await sql(`${load('fresh')} ${load('ff70', ', fillfactor = 70')} ${load('deleted')} ${load('updated')}
      CREATE INDEX fresh_qty_name ON fresh (qty, name);
      CREATE INDEX fresh_lower ON fresh (lower(name));
      CREATE TABLE wide (a int, b int, c int, d int, e int, f int, g int, h int, i int, j text, k text, l timestamptz)
        WITH (autovacuum_enabled = false);
      INSERT INTO wide SELECT g, g, g, NULL, g, g, g, g, g, md5(g::text), NULL, now() FROM generate_series(1, 50000) g;
      DELETE FROM deleted WHERE id % 5 <> 0;
      UPDATE updated SET qty = qty + 1;
      ANALYZE`);
  });
  after(async () => {
    await m?.stop();
  });

  test('a role that may not read the tables sees no statistics: no rows, no error', async () => {
    const { tables, indexes } = await collect();
    assert.equal(tables.size, 0, 'pg_stats hides the columns of tables pg_monitor may not SELECT');
    assert.equal(indexes.size, 0);
    await m.admin(`GRANT pg_read_all_data TO ${MONITOR_ROLE}`);
  });

  test('freshly loaded tables and indexes estimate near zero; bloated ones as pgstattuple measures', async (t) => {
    const { tables, indexes } = await collect();
    for (const name of ['fresh', 'ff70', 'wide']) {
      const row = tables.get(name);
      assert.ok(row, `${name} estimated`);
      assert.ok(Number(row.bloat_pct) < TOLERANCE_PCT, `${name} freshly loaded: ${row.bloat_pct} % estimated`);
      assert.ok(Number(row.table_bytes) > 1_000_000, `${name} size ${row.table_bytes}`);
    }
    assert.equal(tables.get('ff70')!.fillfactor, 70);
    for (const name of ['fresh_pkey', 'ff70_pkey', 'fresh_qty_name', 'fresh_lower']) {
      const row = indexes.get(name);
      assert.ok(row, `${name} estimated (expression indexes from the index's own statistics)`);
      assert.ok(Number(row.bloat_pct) < TOLERANCE_PCT, `${name} freshly built: ${row.bloat_pct} % estimated`);
    }
    // Four in five rows deleted; every row updated once (the old versions stay dead).
    assert.ok(Number(tables.get('deleted')!.bloat_pct) > 70, `deleted: ${tables.get('deleted')!.bloat_pct} %`);
    assert.ok(Number(tables.get('updated')!.bloat_pct) > 40, `updated: ${tables.get('updated')!.bloat_pct} %`);
    for (const name of ['deleted', 'updated', 'fresh', 'wide']) {
      const row = tables.get(name)!;
      assert.ok(
        Math.abs((100 * Number(row.bloat_bytes)) / Number(row.table_bytes) - Number(row.bloat_pct)) < 0.01,
        `${name}: bytes and share agree`,
      );
    }
    if (!pgstattuple) {
      t.skip('contrib pgstattuple is not installed with this PostgreSQL: no measurement to compare with');
      return;
    }
    for (const name of ['deleted', 'updated', 'fresh', 'ff70', 'wide']) {
      const [s] = await sql(`SELECT table_len, free_space, dead_tuple_len, dead_tuple_count FROM pgstattuple('${name}')`);
      const measured = (100 * (Number(s.free_space) + Number(s.dead_tuple_len) + 4 * Number(s.dead_tuple_count))) / Number(s.table_len);
      // ff70 keeps 30 % free by design: that is not bloat, and the estimate knows it.
      const expected = name === 'ff70' ? measured - 30 : measured;
      const estimated = Number(tables.get(name)!.bloat_pct);
      assert.ok(Math.abs(estimated - expected) <= TOLERANCE_PCT, `${name}: estimated ${estimated} %, pgstattuple ${expected.toFixed(2)} %`);
    }
  });

  test('an index emptied by deletes and vacuum estimates what pgstatindex measures', async (t) => {
    await sql('VACUUM deleted');
    await sql('ANALYZE deleted');
    const { indexes } = await collect();
    const estimated = Number(indexes.get('deleted_pkey')!.bloat_pct);
    assert.ok(estimated > 70, `deleted_pkey: ${estimated} %`);
    if (!pgstattuple) {
      t.skip('contrib pgstattuple is not installed with this PostgreSQL: no measurement to compare with');
      return;
    }
    // What the live entries take at the default leaf fillfactor (90), the internal pages and the
    // meta page, against the index's size.
    const [s] = await sql(`SELECT index_size, leaf_pages, internal_pages, avg_leaf_density FROM pgstatindex('deleted_pkey')`);
    const needed = (Number(s.leaf_pages) * Number(s.avg_leaf_density)) / 90 + Number(s.internal_pages) + 1;
    const measured = 100 * (1 - (needed * 8192) / Number(s.index_size));
    assert.ok(
      Math.abs(estimated - measured) <= TOLERANCE_PCT,
      `deleted_pkey: estimated ${estimated} %, pgstatindex ${measured.toFixed(2)} %`,
    );
  });

  test('collected hourly by default whatever the cycle, unless the served config sets the interval', () => {
    const s = new Schedule(undefined, 60);
    assert.equal(s.interval('db1', 'pg_table_bloat'), 3600);
    assert.equal(s.interval('db1', 'pg_stats_table'), 60);
    s.update({ config_version: 1, collector: {}, spool: {}, instances: {}, families: { pg_table_bloat: { interval_seconds: 600 } } }, 60);
    assert.equal(s.interval('db1', 'pg_table_bloat'), 600);
  });
});
