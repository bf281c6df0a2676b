// The whole catalogue against real servers — this machine's PostgreSQL and the embedded PG18 —
// collected as a pg_monitor-only role: no family errors, rows valid for the protocol, and the
// migrations' tables have exactly the families' columns.
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { FAMILY_BY_NAME, rowSchema, type ColumnType } from '../../protocol/index.ts';
import { embeddedBinDir } from '../../devkit/postgres-server.ts';
import { migrate } from '../../backend/src/storage/migrate.ts';
import { InstanceUnderTest } from '../../collector/src/testing/stages.ts';
import { CATALOG } from '../../collector/src/sources/postgres/catalog.ts';
import { isoTimestamp, jsonTimestamp } from '../../collector/src/sources/postgres/pg-types.ts';
import { startMonitored, superClient, type Monitored } from './monitored.ts';

/** Families that have rows on any healthy standalone server after two cycles. */
const ALWAYS_ROWS = [
  'pg_instance',
  'pg_stats_database',
  'pg_statements',
  'pg_statement_texts',
  'pg_activity',
  'pg_locks',
  'pg_bgwriter',
  'pg_wal',
  'pg_archiver',
  'pg_stats_table',
  'pg_stats_index',
];

const SQL_TYPE: Record<ColumnType, string> = {
  text: 'text',
  int: 'integer',
  bigint: 'bigint',
  float: 'double precision',
  bool: 'boolean',
  timestamptz: 'timestamp with time zone',
  jsonb: 'jsonb',
};

for (const which of ['local', 'embedded PG18'] as const) {
  describe(`catalogue on ${which}`, () => {
    let m: Monitored;
    before(async () => {
      m = await startMonitored(which === 'local' ? {} : { binDir: await embeddedBinDir() });
      await m.admin('CREATE DATABASE shop');
      await m.admin(
        `CREATE TABLE orders (id serial PRIMARY KEY, item text, qty int);
        CREATE INDEX orders_item ON orders (item);
        INSERT INTO orders (item, qty) SELECT 'item' || g, g FROM generate_series(1, 5000) g;
        CREATE TABLE empty_one (x int)`,
        'shop',
      );
    });
    after(async () => {
      await m?.stop();
    });

    test('every family collects without an error as pg_monitor; rows are valid protocol rows', async () => {
      const src = new InstanceUnderTest({ name: 'db1', url: m.monitorUrl(), activitySampleMs: 200 });
      try {
        const first = await src.collect(new Date(Date.now() - 60_000));
        assert.deepEqual(first.errors, [], 'first cycle has no family errors');
        assert.ok(first.rows.pg_settings.length > 0, 'changed settings sent on the first cycle');
        const shop = await superClient(m.server, 'shop');
        for (let i = 0; i < 20; i++) await shop.query('SELECT count(*) FROM orders WHERE item = $1', [`item${i}`]);
        await shop.end(); // a backend's table statistics are flushed by the time it exits
        const idle = await superClient(m.server, 'shop');
        await idle.query('BEGIN');
        await idle.query('SELECT 1'); // stays idle in transaction while the sampler looks
        await new Promise((r) => setTimeout(r, 500)); // a few background activity samples
        const second = await src.collect(new Date());
        await idle.end();
        assert.deepEqual(second.errors, [], 'second cycle has no family errors');
        assert.equal(second.info.up, true);
        assert.equal(second.info.version_num, m.server.versionNum);
        for (const entry of CATALOG) assert.ok(second.rows[entry.family], `${entry.family} ran`);
        for (const f of ALWAYS_ROWS) assert.ok(second.rows[f].length > 0, `${f} has rows on ${which}`);
        for (const [family, rows] of Object.entries(second.rows)) {
          const schema = rowSchema(FAMILY_BY_NAME.get(family)!);
          for (const r of rows) {
            const res = schema.safeParse(r);
            assert.ok(res.success, `${family} row valid: ${res.success ? '' : JSON.stringify(res.error.issues[0])}`);
          }
        }
        const orders = second.rows.pg_stats_table.find((r) => r.datname === 'shop' && r.relname === 'orders')!;
        assert.ok(orders, 'orders table from the shop database');
        assert.ok(Number(orders.table_bytes) > 100_000);
        assert.equal(orders.index_count, 2);
        assert.ok(Number(orders.idx_scan) >= 20, `idx_scan delta ${orders.idx_scan}`);
        const idx = second.rows.pg_stats_index.find((r) => r.indexrelname === 'orders_item')!;
        assert.equal(idx.is_valid, true);
        assert.equal(idx.is_unused, false);
        const activity = second.rows.pg_activity;
        const idleTx = activity.find((r) => r.backend_type === 'client backend' && r.state === 'idle in transaction');
        assert.ok(idleTx, 'the idle-in-transaction session sampled');
        assert.ok(Number(idleTx.max_state_age_s) >= 0.4 && Number(idleTx.max_xact_age_s) >= 0.4, 'its ages');
        assert.ok(
          activity.every((r) => Number(r.samples) >= 2),
          'several samples aggregated',
        );
        assert.equal(second.rows.pg_settings.length, 0, 'settings unchanged: not sent again');
        assert.equal(second.rows.pg_instance[0].up, true);
        assert.ok(Number(second.rows.pg_instance[0].max_connections) > 0);
      } finally {
        await src.close();
      }
    });

    test('a database without pg_stat_statements: the statements families say so, the rest goes on', async () => {
      const src = new InstanceUnderTest({ name: 'db2', url: m.monitorUrl('shop') });
      try {
        const r = await src.collect(new Date());
        const names = r.errors.map((e) => e.family).sort();
        assert.deepEqual(names, ['pg_statement_texts', 'pg_statements']);
        assert.ok(r.errors.every((e) => e.reason === 'ExtensionMissing' && /pg_stat_statements is not installed/.test(e.error)));
        assert.ok(r.rows.pg_stats_database.length > 0);
      } finally {
        await src.close();
      }
    });

    test('caps: only the biggest N tables and indexes per database', async () => {
      const src = new InstanceUnderTest({ name: 'db3', url: m.monitorUrl(), limits: { maxTables: 1, maxIndexes: 1 } });
      try {
        const r = await src.collect(new Date());
        const shop = r.rows.pg_stats_table.filter((x) => x.datname === 'shop');
        assert.deepEqual(
          shop.map((x) => x.relname),
          ['orders'],
          'the biggest table only',
        );
        assert.equal(r.rows.pg_stats_index.filter((x) => x.datname === 'shop').length, 1);
      } finally {
        await src.close();
      }
    });

    test('database sizes: a new database is measured at once, the others a share per cycle, repeated in between', async () => {
      const src = new InstanceUnderTest({ name: 'db4', url: m.monitorUrl() });
      const onlyDatabases = (f: string): boolean => f === 'pg_stats_database';
      const t0 = Date.now();
      const sizes = async (cycle: number): Promise<Map<string, number>> => {
        const r = await src.collect(new Date(t0 + cycle * 60_000), onlyDatabases);
        assert.deepEqual(r.errors, []);
        const rows = r.rows.pg_stats_database;
        for (const row of rows)
          assert.ok(typeof row.size_bytes === 'number' && row.size_bytes > 0, `cycle ${cycle}: ${row.datname} has a size`);
        return new Map(rows.map((row) => [String(row.datname), row.size_bytes as number]));
      };
      try {
        const first = await sizes(1);
        const grow = `CREATE TABLE grown AS SELECT g, repeat('x', 100) AS pad FROM generate_series(1, 60000) g`;
        await m.admin(grow, 'postgres');
        await m.admin(grow, 'shop');
        await m.admin('CREATE DATABASE fresh');
        const grew = (now: Map<string, number>, db: string): boolean => now.get(db)! > first.get(db)! + 4_000_000;
        const second = await sizes(2);
        assert.ok(second.has('fresh'), 'a database created since the last cycle is measured at once');
        assert.ok(first.has('template0') && first.has('template1'), 'the templates are collected (their XID age matters)');
        // Four databases known (postgres, shop and the templates): a fifth of them, rounded up, is
        // one a cycle; the others repeat their last measurement.
        assert.ok(['postgres', 'shop'].filter((db) => grew(second, db)).length <= 1, 'at most one re-measured');
        for (const db of ['postgres', 'shop'].filter((x) => !grew(second, x)))
          assert.equal(second.get(db), first.get(db), `${db} repeats its last measurement`);
        let cycle = 3;
        for (let now = await sizes(cycle); !(grew(now, 'postgres') && grew(now, 'shop')); now = await sizes(++cycle)) {
          assert.ok(cycle < 7, 'both re-measured within five cycles');
        }
      } finally {
        await src.close();
        await m.admin('DROP DATABASE fresh');
      }
    });

    test('table and index sizes: measured again once a write, a TRUNCATE or a REINDEX shows, not on a timer', async () => {
      // Nine big tables first in the selection (by relpages), then the three that change: a
      // share of the tables a cycle by age alone would not reach them within two cycles.
      await m.admin('CREATE DATABASE sizes');
      for (let i = 1; i <= 12; i++) {
        const rows = i <= 9 ? 10_000 : i <= 11 ? 2_000 : 0;
        await m.admin(
          `CREATE TABLE t${i} (id int, pad text); CREATE INDEX t${i}_id ON t${i} (id);
           INSERT INTO t${i} SELECT g, repeat('x', 50) FROM generate_series(1, ${rows}) g`,
          'sizes',
        );
      }
      await m.admin('VACUUM ANALYZE', 'sizes');
      const src = new InstanceUnderTest({ name: 'db5', url: m.monitorUrl('sizes') });
      const t0 = Date.now();
      const sizes = async (cycle: number): Promise<Map<string, number>> => {
        const r = await src.collect(new Date(t0 + cycle * 60_000), (f) => f === 'pg_stats_table' || f === 'pg_stats_index');
        assert.deepEqual(r.errors, []);
        const out = new Map<string, number>();
        for (const row of r.rows.pg_stats_table.filter((x) => x.datname === 'sizes')) out.set(String(row.relname), Number(row.table_bytes));
        for (const row of r.rows.pg_stats_index.filter((x) => x.datname === 'sizes'))
          out.set(String(row.indexrelname), Number(row.size_bytes));
        return out;
      };
      try {
        const first = await sizes(1);
        await m.admin(`INSERT INTO t12 SELECT g, repeat('x', 50) FROM generate_series(1, 20000) g`, 'sizes');
        await m.admin('TRUNCATE t11', 'sizes');
        await m.admin('DELETE FROM t10', 'sizes');
        await m.admin('REINDEX INDEX t10_id', 'sizes');
        // The writers' counters reach the server when their sessions end; wait until they show.
        for (let i = 0; ; i++) {
          const { rows } = await m.admin(`SELECT n_tup_ins FROM pg_stat_user_tables WHERE relname = 't12'`, 'sizes');
          if (Number(rows[0].n_tup_ins) >= 20_000) break;
          assert.ok(i < 100, 't12 inserts show in the statistics');
          await new Promise((r) => setTimeout(r, 100));
        }
        await sizes(2); // sees the counters move
        const third = await sizes(3);
        assert.ok(third.get('t12')! > first.get('t12')! + 1_000_000, `t12 grew: ${first.get('t12')} -> ${third.get('t12')}`);
        assert.ok(third.get('t12_id')! > first.get('t12_id')! + 300_000, 't12_id grew');
        assert.equal(third.get('t11'), 0, 't11 truncated');
        assert.ok(third.get('t10_id')! < first.get('t10_id')!, `t10_id reindexed: ${first.get('t10_id')} -> ${third.get('t10_id')}`);
        for (let i = 1; i <= 9; i++) assert.equal(third.get(`t${i}`), first.get(`t${i}`), `t${i} unchanged`);
      } finally {
        await src.close();
        await m.admin('DROP DATABASE sizes WITH (FORCE)');
      }
    });

    test('under the limit, tables and indexes are read whole without a selection; a new one comes at once with its sizes, past the limit the biggest again', async () => {
      await m.admin('CREATE DATABASE whole');
      const make = (t: string, rows: number) =>
        m.admin(
          `CREATE TABLE ${t} (id int); CREATE INDEX ${t}_id ON ${t} (id); INSERT INTO ${t} SELECT generate_series(1, ${rows})`,
          'whole',
        );
      await make('t1', 0);
      await make('t2', 0);
      const src = new InstanceUnderTest({ name: 'db6', url: m.monitorUrl('whole'), limits: { maxTables: 3, maxIndexes: 3 } });
      const selections = async (): Promise<number> =>
        Number(
          (
            await m.admin(`SELECT coalesce(sum(s.calls), 0) AS n FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid
              WHERE d.datname = 'whole' AND s.query LIKE '%ORDER BY c.relpages DESC%'`)
          ).rows[0].n,
        );
      const t0 = Date.now();
      const cycle = async (n: number) => {
        const r = await src.collect(new Date(t0 + n * 60_000), (f) => f === 'pg_stats_table' || f === 'pg_stats_index');
        assert.deepEqual(r.errors, []);
        return {
          tables: new Map(r.rows.pg_stats_table.filter((x) => x.datname === 'whole').map((x) => [String(x.relname), x])),
          indexes: new Map(r.rows.pg_stats_index.filter((x) => x.datname === 'whole').map((x) => [String(x.indexrelname), x])),
        };
      };
      try {
        await cycle(1);
        await make('t3', 1000);
        const before = await selections();
        const second = await cycle(2);
        assert.equal(await selections(), before, 'no selection query while under the limit');
        assert.deepEqual([...second.tables.keys()].sort(), ['t1', 't2', 't3']);
        assert.ok(Number(second.tables.get('t3')!.table_bytes) > 0, 'the new table is measured at once');
        assert.ok(Number(second.indexes.get('t3_id')!.size_bytes) > 0, 'the new index is measured at once');
        await make('t4', 5000);
        await m.admin('ANALYZE', 'whole');
        const third = await cycle(3);
        assert.deepEqual([...third.tables.keys()].sort(), ['t1', 't3', 't4'], 'past the limit: the three biggest by relpages, then oid');
        assert.deepEqual([...third.indexes.keys()].sort(), ['t1_id', 't3_id', 't4_id']);
        assert.ok(Number(third.tables.get('t4')!.table_bytes) > 0);
        assert.ok((await selections()) > before, 'the selection picks again');
      } finally {
        await src.close();
        await m.admin('DROP DATABASE whole WITH (FORCE)');
      }
    });

    test('timestamptz arrives as ISO 8601 text for the same instant, in any session TimeZone', async () => {
      const c = await superClient(m.server);
      try {
        for (const tz of ['UTC', 'Asia/Kolkata', 'America/St_Johns', 'Europe/Amsterdam']) {
          await c.query(`SET TimeZone = '${tz}'`);
          const r = await c.query(`SELECT now()::text AS now, extract(epoch FROM now())::float8 * 1000 AS ms,
            '1850-01-01 00:00 UTC'::timestamptz::text AS lmt, 'infinity'::timestamptz::text AS inf`);
          const { now, ms, lmt, inf } = r.rows[0];
          const iso = isoTimestamp(now)!;
          assert.match(iso, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?[+-]\d{2}:\d{2}$/, `${tz}: ${now} -> ${iso}`);
          assert.equal(Math.round(Date.parse(iso)), Math.floor(ms), `${tz}: same instant`);
          assert.equal(Date.parse(isoTimestamp(lmt)!), Date.UTC(1850, 0, 1), `${tz}: ${lmt} (local mean time offsets have seconds)`);
          assert.equal(isoTimestamp(inf), null);
          // The same values as most families get them: one JSON array (catalog.ts sqlFor).
          const j = (
            await c.query(
              `SELECT $1::timestamptz AS now, (SELECT json_agg(q) FROM (SELECT $1::timestamptz AS t,
            '1850-01-01 00:00 UTC'::timestamptz AS lmt, 'infinity'::timestamptz AS inf) q) AS rows`,
              [now],
            )
          ).rows[0];
          assert.equal(jsonTimestamp(j.rows[0].t), isoTimestamp(now), `${tz}: JSON form ${j.rows[0].t}`);
          assert.equal(Date.parse(jsonTimestamp(j.rows[0].lmt)!), Date.UTC(1850, 0, 1), `${tz}: JSON ${j.rows[0].lmt}`);
          assert.equal(jsonTimestamp(j.rows[0].inf), null);
        }
      } finally {
        await c.end();
      }
    });

    test('the migrations create each family table with exactly the spec columns', async () => {
      await m.admin('CREATE DATABASE pga_schema');
      const c = new pg.Client({ connectionString: m.server.url('pga_schema') });
      await c.connect();
      try {
        await migrate(c, { storage: 'native' });
        for (const entry of CATALOG) {
          const spec = FAMILY_BY_NAME.get(entry.family)!;
          const cols = (
            await c.query(
              `SELECT column_name, data_type, is_nullable FROM information_schema.columns WHERE table_name = $1 ORDER BY ordinal_position`,
              [spec.table],
            )
          ).rows;
          const expected = [
            ['time', 'timestamp with time zone', 'NO'],
            ['instance_id', 'integer', 'NO'],
            ...spec.columns.map((col) => [col.name, SQL_TYPE[col.type], col.key ? 'NO' : 'YES']),
          ];
          // server_id too (sql/130_server_id.sql), wherever the migrations placed it.
          const got = cols.map((x) => [x.column_name, x.data_type, x.is_nullable]);
          assert.deepEqual(
            got.filter(([name]) => name === 'server_id'),
            [['server_id', 'integer', 'NO']],
            `${spec.table} has server_id`,
          );
          assert.deepEqual(
            got.filter(([name]) => name !== 'server_id'),
            expected,
            `${spec.table} matches its spec`,
          );
        }
      } finally {
        await c.end();
      }
    });
  });
}
