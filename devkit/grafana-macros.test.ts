// Reproduces the macro table of GRAFANA-SQL.md (from Grafana's own macros_test.go cases) and the
// quirks we rely on or must avoid.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { calculateInterval, expandMacros, MacroError, type ExpandOptions } from './grafana-macros.ts';

const from = new Date('2018-04-12T18:00:00Z');
const to = new Date(from.getTime() + 5 * 60_000);
const base: ExpandOptions = { range: { from, to } };
const x = (sql: string, opts: Partial<ExpandOptions> = {}): string => expandMacros(sql, { ...base, ...opts });

test('macro table: every row', () => {
  const rows: Array<[string, string]> = [
    ['$__time(c)', 'c AS "time"'],
    ['$__timeEpoch(c)', 'extract(epoch from c) as "time"'],
    ['$__timeFilter(c)', "c BETWEEN '2018-04-12T18:00:00Z' AND '2018-04-12T18:05:00Z'"],
    ['$__timeFrom()', "'2018-04-12T18:00:00Z'"],
    ['$__timeTo()', "'2018-04-12T18:05:00Z'"],
    ["$__timeGroup(c,'5m')", 'floor(extract(epoch from c)/300)*300'],
    ["$__timeGroupAlias(c,'5m')", 'floor(extract(epoch from c)/300)*300 AS "time"'],
    ['$__unixEpochFilter(c)', 'c >= 1523556000 AND c <= 1523556300'],
    ['$__unixEpochFrom()', '1523556000'],
    ['$__unixEpochTo()', '1523556300'],
    ["$__unixEpochGroup(c,'5m')", 'floor((c)/300)*300'],
    ["$__unixEpochGroupAlias(c,'5m')", 'floor((c)/300)*300 AS "time"'],
    ['$__unixEpochNanoFilter(c)', 'c >= 1523556000000000000 AND c <= 1523556300000000000'],
    ['$__unixEpochNanoFrom()', '1523556000000000000'],
    ['$__unixEpochNanoTo()', '1523556300000000000'],
  ];
  for (const [macro, want] of rows) assert.equal(x(`select ${macro}`), `select ${want}`, macro);
});

test('timescaledb: $__timeGroup becomes time_bucket with seconds to 3 decimals', () => {
  assert.equal(x("$__timeGroup(c,'5m')", { timescaledb: true }), "time_bucket('300.000s',c)");
  assert.equal(x("$__timeGroupAlias(c,'500ms')", { timescaledb: true }), 'time_bucket(\'0.500s\',c) AS "time"');
});

test('$__interval and $__interval_ms: floor to panel min interval, datasource timeInterval, 1m', () => {
  // 5 minutes over 1000 points would be 300ms; the SQL datasources never go below 1m by default.
  assert.equal(x("'$__interval'::interval, $__interval_ms"), "'1m'::interval, 60000");
  assert.equal(x('$__interval', { interval: { datasourceTimeInterval: '10s' } }), '10s');
  assert.equal(x('$__interval', { interval: { datasourceTimeInterval: '10s', panelMinInterval: '5m' } }), '5m');
  assert.equal(x('$__interval', { interval: { panelMinInterval: '>2m' } }), '2m');
  const week = { from: new Date(to.getTime() - 7 * 86_400_000), to };
  assert.deepEqual(calculateInterval(week, { maxDataPoints: 1000 }), { intervalMs: 600_000, text: '10m' });
  assert.equal(x('${__interval}', { range: week }), '10m');
  assert.equal(x('$__timeGroup(time, $__interval)', { range: week }), 'floor(extract(epoch from time)/600)*600');
});

test('quirk: $__timeGroup followed by "," is $__timeGroupAlias; later copies of the same text share the first one\'s fate', () => {
  assert.equal(x("SELECT $__timeGroup(c,'5m'), v FROM t"), 'SELECT floor(extract(epoch from c)/300)*300 AS "time", v FROM t');
  assert.equal(
    x("SELECT $__timeGroup(c,'5m') AS t, v GROUP BY $__timeGroup(c,'5m'), v"),
    'SELECT floor(extract(epoch from c)/300)*300 AS t, v GROUP BY floor(extract(epoch from c)/300)*300, v',
  );
  assert.equal(
    x("SELECT $__timeGroup(c,'5m'), v GROUP BY $__timeGroup(c,'5m')"),
    'SELECT floor(extract(epoch from c)/300)*300 AS "time", v GROUP BY floor(extract(epoch from c)/300)*300 AS "time"',
  );
});

test('quirk: quotes stripped from the interval; units ms s m h d w M y; Go float formatting', () => {
  const now = new Date('2018-04-12T18:00:00Z'); // April has 30 days; 2018 is not a leap year
  const g = (iv: string): string => x(`$__timeGroup(c,${iv})`, { now });
  assert.equal(g('5m'), 'floor(extract(epoch from c)/300)*300');
  assert.equal(g("'500ms'"), 'floor(extract(epoch from c)/0.5)*0.5');
  assert.equal(g("'90s'"), 'floor(extract(epoch from c)/90)*90');
  assert.equal(g("'1h30m'"), 'floor(extract(epoch from c)/5400)*5400');
  assert.equal(g("'1d'"), 'floor(extract(epoch from c)/86400)*86400');
  assert.equal(g("'1w'"), 'floor(extract(epoch from c)/604800)*604800');
  assert.equal(g("'2w'"), 'floor(extract(epoch from c)/1.2096e+06)*1.2096e+06');
  assert.equal(g("'1M'"), 'floor(extract(epoch from c)/2.592e+06)*2.592e+06');
  assert.equal(g("'1y'"), 'floor(extract(epoch from c)/3.1536e+07)*3.1536e+07');
  assert.equal(x("$__timeGroup(c,'1M')", { now, timescaledb: true }), "time_bucket('2592000.000s',c)");
});

test('quirk: the third $__timeGroup argument is a fill mode and never reaches the SQL', () => {
  for (const fill of ['0', 'NULL', 'previous', '1.5']) {
    assert.equal(x(`$__timeGroup(c, '5m', ${fill})`), 'floor(extract(epoch from c)/300)*300');
  }
  assert.throws(() => x("$__timeGroup(c,'5m',bogus)"), /error parsing fill value bogus/);
});

test('errors: unknown macro, missing interval, bad interval', () => {
  assert.throws(
    () => x('SELECT $__nope(c)'),
    (e: unknown) => e instanceof MacroError && /unknown macro "__nope"/.test(e.message),
  );
  assert.throws(() => x('SELECT $__timeGroup(c)'), /needs time column and interval/);
  assert.throws(() => x("SELECT $__timeGroup(c,'5 minutes')"), /error parsing interval/);
  // Anything shaped like $name(...) is a macro to Grafana, so this is an error too.
  assert.throws(() => x('SELECT $foo(1)'), /unknown macro "foo"/);
});

test('arguments are split on "," and trimmed; an argument cannot contain ")"', () => {
  assert.equal(x('$__timeFilter(  m.time  )'), "m.time BETWEEN '2018-04-12T18:00:00Z' AND '2018-04-12T18:05:00Z'");
  // The pattern stops at the first ')', so a call inside the argument breaks the SQL as in Grafana.
  assert.equal(x("$__time(date_trunc('hour', t))"), 'date_trunc(\'hour\' AS "time")');
});

test('fractional seconds appear in RFC 3339 form only when present', () => {
  const r = { from: new Date('2018-04-12T18:00:00.250Z'), to: new Date('2018-04-12T18:05:00.5Z') };
  assert.equal(x('$__timeFilter(t)', { range: r }), "t BETWEEN '2018-04-12T18:00:00.25Z' AND '2018-04-12T18:05:00.5Z'");
  assert.equal(x('$__unixEpochFrom() $__unixEpochTo()', { range: r }), '1523556000 1523556300');
});

test('template variables: single, multi, sqlstring, empty, unknown, built-ins', () => {
  const variables = { host: "db'1", ids: ['1', "o'k"], none: [] as string[], one: 'a' };
  const v = (sql: string): string => x(sql, { variables, multiVariables: ['one'] });
  assert.equal(v("WHERE h = '$host'"), "WHERE h = 'db''1'");
  assert.equal(v("WHERE h = '${host}'"), "WHERE h = 'db''1'");
  assert.equal(v("WHERE h = '[[host]]'"), "WHERE h = 'db''1'");
  assert.equal(v('WHERE id IN ($ids)'), "WHERE id IN ('1','o''k')");
  assert.equal(v('WHERE id IN (${ids:sqlstring})'), "WHERE id IN ('1','o''k')");
  assert.equal(v('WHERE h IN (${host:sqlstring})'), "WHERE h IN ('db''1')");
  assert.equal(v('WHERE id IN ($none)'), "WHERE id IN ('')");
  assert.equal(v('WHERE id IN (${none:sqlstring})'), "WHERE id IN ('')");
  assert.equal(v('WHERE x IN ($one)'), "WHERE x IN ('a')"); // single value of a multi variable
  assert.equal(v('${ids:csv}'), "1,o'k");
  assert.equal(v('WHERE h = $unknown'), 'WHERE h = $unknown');
  assert.equal(v('$__from $__to $__range_s'), '1523556000000 1523556300000 300');
  // Variables are replaced before macros, so they may feed a macro's arguments.
  assert.equal(
    x('$__timeFilter($col)', { variables: { col: 'm.time' } }),
    "m.time BETWEEN '2018-04-12T18:00:00Z' AND '2018-04-12T18:05:00Z'",
  );
});
