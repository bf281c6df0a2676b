// Dashboard query benchmark (npm run bench:dashboards -- [--servers 20] [--days 7] [--step-minutes 5] [--reps 5] [--citus]).
// Days of data for N servers through the real ingest path: N collectors registered with the real
// backend; one real collection cycle of a real PostgreSQL under pgbench gives the row shapes;
// each collector replays them with timestamps shifted across the days (a 5-minute step by
// default, not 60 s, to keep the run short; an hour of cycles per push), then the backend's
// maintenance job builds the rollups. Then every panel query of every dashboard (and every
// alert query) is timed for 1 h, 2 days (the widest raw read) and 30 days (rollups), the median
// and spread of a few repetitions, and its 30-day plan is checked with EXPLAIN (ANALYZE, FORMAT
// JSON): no raw partition of a family with rollups may be read except the tail (the last day),
// where rows newer than the rollups live. Annotations and alerts are timed too.
//
// --citus (or PGA_CITUS_URL set): the same rows go through a second backend into a database of its
// own made on every node of the Citus cluster whose coordinator PGA_CITUS_URL names
// (devkit/citus-database.ts; dropped at the end), in citus storage, and each query runs on both in
// interleaved rounds, native first, as the reference; for Citus, EXPLAIN says how many tasks
// (shard queries) it takes: a router query is one task, on the one node that holds the server.
import { randomUUID } from 'node:crypto';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { pgbenchInit, pgbenchRun } from '../devkit/pgbench-workload.ts';
import { startStack, registerCollector, quietLog, type Stack } from '../tests/helpers/stack.ts';
import { startMonitored } from '../tests/postgres/monitored.ts';
import { Runner } from '../collector/src/runner.ts';
import { cycleRows } from '../collector/src/agent.ts';
import { encodeBatch } from '../collector/src/transform/batch-columns.ts';
import { runMaintenance } from '../backend/src/storage/maintenance.ts';
import { toWire, type Batch } from '../protocol/index.ts';
import { DASHBOARDS } from '../grafana/src/dashboards/index.ts';
import { runPanelQueries, type RangeSpec } from '../devkit/panel-queries.ts';
import { expandMacros } from '../devkit/grafana-macros.ts';
import { ALERT_RULES, ALERT_WINDOW } from '../grafana/src/alerts/rules.ts';
import { citusTaskCounts } from '../devkit/citus.ts';
import { externalServer } from '../devkit/external-server.ts';
import { freshCitusDatabase } from '../devkit/citus-database.ts';

const { values } = parseArgs({
  options: {
    servers: { type: 'string', default: '20' },
    days: { type: 'string', default: '7' },
    'step-minutes': { type: 'string', default: '5' },
    reps: { type: 'string', default: '5' },
    citus: { type: 'boolean', default: false },
    shards: { type: 'string', default: '32' },
  },
});
const SERVERS = Number(values.servers);
const DAYS = Number(values.days);
const STEP_MS = Number(values['step-minutes']) * 60_000;
const REPS = Number(values.reps);
const CITUS_URL = process.env.PGA_CITUS_URL;
const CITUS = values.citus || CITUS_URL !== undefined;
if (CITUS && !CITUS_URL) throw new Error('--citus needs PGA_CITUS_URL: a database on a Citus coordinator whose workers are registered');
const CYCLES_PER_PUSH = Math.max(1, Math.round(3_600_000 / STEP_MS));
const TAIL_MS = 86_400_000;
const HOUR = 3_600_000;
const RANGES = [
  { name: '1h', ms: HOUR },
  { name: '2d', ms: 48 * HOUR },
  { name: '30d', ms: 30 * 24 * HOUR },
] as const;
const LONG = '30d';

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const load = (): string =>
  loadavg()
    .map((x) => x.toFixed(2))
    .join(' ');

/** A copy of a batch's rows with every time moved from the batch's creation to `at`. */
function shifted(batch: Batch, at: number): Batch['families'] {
  const base = Date.parse(batch.created_at);
  const out: Batch['families'] = {};
  for (const [family, rows] of Object.entries(batch.families)) {
    out[family] = (rows ?? []).map((r) => ({ ...r, time: new Date(Date.parse(r.time) - base + at).toISOString() }));
  }
  return out;
}

/** One storage the dashboards are measured on: a backend over its database, its collectors. */
interface Target {
  readonly name: string;
  readonly stack: Stack;
  readonly runners: Runner[];
  grafana?: pg.Client;
}

async function startTarget(name: string, monitorUrl: string, stack: Stack, serverIdsFrom: number): Promise<Target> {
  // Both backends run in this process, and ingest caches instance ids by server id: the targets'
  // server ids must differ, or one backend would write the other's instance ids.
  await stack.db.query("SELECT setval(pg_get_serial_sequence('servers', 'id'), $1, false)", [serverIdsFrom]);
  const runners: Runner[] = [];
  for (let i = 0; i < SERVERS; i++) {
    const { local } = await registerCollector(stack, {
      name: `c${i}`,
      hostname: `db-${String(i).padStart(2, '0')}`,
      targetUrl: monitorUrl,
    });
    runners.push(new Runner(local, quietLog('collector')));
  }
  return { name, stack, runners };
}

/** Pushes the sample's rows, replayed from `start` to `end`, as each target's collectors. */
async function replay(target: Target, sample: Batch, start: number, end: number): Promise<{ pushes: number; rows: number }> {
  // Daily partitions for the whole replay made up front: concurrent first pushes into a new day
  // race in the backend's partition creation ("relation ... already exists", a 500).
  await target.stack.db.query('SELECT pga_ensure_partitions(family, $1, $2) FROM metric_families', [new Date(start), new Date(end)]);
  let pushes = 0;
  let rows = 0;
  await Promise.all(
    target.runners.map(async (runner) => {
      for (let at = start; at <= end; at += STEP_MS * CYCLES_PER_PUSH) {
        const families: Batch['families'] = {};
        for (let k = 0; k < CYCLES_PER_PUSH && at + k * STEP_MS <= end; k++) {
          for (const [f, rs] of Object.entries(shifted(sample, at + k * STEP_MS))) {
            const list = families[f] ?? [];
            list.push(...(rs ?? []));
            families[f] = list;
          }
        }
        const batch: Batch = {
          ...sample,
          batch_id: randomUUID(),
          collector_id: runner.agent.collectorId,
          hostname: runner.local.collector.hostname,
          created_at: new Date(at).toISOString(),
          families,
        };
        const outcome = await runner.client.push(encodeBatch(toWire(batch)));
        if (outcome.kind !== 'accepted') throw new Error(`${target.name}: push refused: ${JSON.stringify(outcome)}`);
        pushes++;
        rows += Object.values(families).reduce((n, r) => n + (r?.length ?? 0), 0);
      }
    }),
  );
  return { pushes, rows };
}

interface Query {
  readonly name: string;
  readonly range: string;
  /** The SQL per target (variables resolve on each target's own rows). */
  readonly sql: string[];
  readonly error?: string;
  /** An annotation: its families are read raw by design (restarts need every uptime sample). */
  readonly annotation?: boolean;
}

/** Every panel, variable and annotation query of every dashboard for each range, and every
 *  alert query over its window, as Grafana would send them to each target. */
async function queriesOf(targets: readonly Target[], now: Date): Promise<Query[]> {
  const ranges: RangeSpec[] = RANGES.map((r) => ({ name: r.name, from: new Date(now.getTime() - r.ms), to: now }));
  const reports = await Promise.all(
    targets.map((t) => runPanelQueries(t.grafana!, { now, ranges, dashboards: DASHBOARDS.map((d) => d()) })),
  );
  const short = (uid: string) => uid.replace('pga-', '');
  const first = reports[0]!;
  const out: Query[] = [
    ...first.panels.map((p, i) => ({
      name: `${short(p.dashboardUid)} / ${p.panelTitle}`,
      range: p.range,
      sql: reports.map((r) => r.panels[i]!.sql),
      error: reports.map((r) => r.panels[i]!.error).find((e) => e),
    })),
    ...first.variables.map((v, i) => ({
      name: `${short(v.dashboardUid)} / $${v.variable}`,
      range: v.range,
      sql: reports.map((r) => r.variables[i]!.sql),
      error: reports.map((r) => r.variables[i]!.error).find((e) => e),
    })),
    ...first.annotations.map((a, i) => ({
      name: `${short(a.dashboardUid)} / @${a.name}`,
      range: a.range,
      sql: reports.map((r) => r.annotations[i]!.sql),
      error: reports.map((r) => r.annotations[i]!.error).find((e) => e),
      annotation: true,
    })),
  ];
  for (const rule of ALERT_RULES) {
    const range = { from: new Date(now.getTime() - rule.windowMinutes * 60_000), to: now };
    const sql = expandMacros(rule.sql(ALERT_WINDOW), { range });
    out.push({ name: `alert / ${rule.uid} (${rule.windowMinutes} min)`, range: 'alert', sql: targets.map(() => sql) });
  }
  return out;
}

interface Result {
  readonly name: string;
  readonly range: string;
  /** Per target: median and spread (max - min) of the repetitions, ms; NaN after an error. */
  readonly ms: number[];
  readonly spread: number[];
  readonly rows: number;
  /** Raw partitions before the tail read by the native plan of a long range. */
  readonly rawScans: string[];
  /** Citus: the tasks of each distributed step of the plan (one element per step). */
  readonly tasks?: number[];
  readonly error?: string;
}

async function measure(targets: readonly Target[], q: Query, now: Date, rolledUp: ReadonlySet<string>): Promise<Result> {
  if (q.error)
    return {
      name: q.name,
      range: q.range,
      ms: targets.map(() => NaN),
      spread: targets.map(() => NaN),
      rows: 0,
      rawScans: [],
      error: q.error,
    };
  const times: number[][] = targets.map(() => []);
  let rows = 0;
  for (let i = 0; i < REPS; i++) {
    // Interleaved: each round runs the query on every target, so a busy moment of the shared
    // machine falls on both.
    for (const [k, t] of targets.entries()) {
      const s = performance.now();
      const res = await t.grafana!.query(q.sql[k]!);
      times[k]!.push(performance.now() - s);
      if (k === 0) rows = res.rowCount ?? 0;
    }
  }
  const rawScans: string[] = [];
  if (q.range === LONG && !q.annotation) {
    const plan = (await targets[0]!.grafana!.query(`EXPLAIN (ANALYZE, FORMAT JSON) ${q.sql[0]}`)).rows[0]['QUERY PLAN'];
    const rawPartition = /^(metrics_[a-z0-9_]+)_p(\d{8})$/;
    const tailFrom = new Date(now.getTime() - TAIL_MS).toISOString().slice(0, 10).replaceAll('-', '');
    const walk = (node: Record<string, unknown>): void => {
      const rel = node['Relation Name'] as string | undefined;
      const match = rel ? rawPartition.exec(rel) : null;
      const day = match && rolledUp.has(match[1]!) ? match[2] : undefined;
      // A node the executor never started (Actual Loops 0) read nothing; the tail is allowed.
      if (day && Number(node['Actual Loops'] ?? 0) > 0 && day < tailFrom) rawScans.push(rel!);
      for (const child of (node.Plans as Record<string, unknown>[] | undefined) ?? []) walk(child);
    };
    walk(plan[0].Plan);
  }
  const citus = targets.findIndex((t) => t.name === 'citus');
  const tasks = citus >= 0 ? await citusTaskCounts(targets[citus]!.grafana!, q.sql[citus]!) : undefined;
  return {
    name: q.name,
    range: q.range,
    ms: times.map(median),
    spread: times.map((t) => Math.max(...t) - Math.min(...t)),
    rows,
    rawScans,
    tasks,
  };
}

/** A router query: every distributed step of its plan is one task. */
const isRouter = (r: Result): boolean => r.tasks !== undefined && r.tasks.length > 0 && r.tasks.every((n) => n === 1);

function report(targets: readonly Target[], results: readonly Result[]): void {
  const w = Math.max(...results.map((r) => r.name.length));
  const names = targets.map((t) => t.name);
  console.log(
    `\n${'query'.padEnd(w)}  range  ${names.map((n) => `${n} ms (spread)`.padStart(20)).join('  ')}   rows${CITUS ? '  citus tasks' : ''}  raw partitions of rolled-up families read (${LONG}, before the tail)`,
  );
  for (const r of results) {
    const cells = r.ms.map((m, k) => `${m.toFixed(1)} (${r.spread[k]!.toFixed(1)})`.padStart(20)).join('  ');
    const tasks = CITUS ? `  ${(r.tasks ?? []).join('+').padStart(11)}` : '';
    console.log(
      `${r.name.padEnd(w)}  ${r.range.padEnd(5)}  ${cells}  ${String(r.rows).padStart(5)}${tasks}  ${r.error ? `ERROR ${r.error}` : r.rawScans.join(' ')}`,
    );
  }
  console.log(`\nper range: queries, median of medians per target${CITUS ? ', router queries on Citus (one task)' : ''}, slowest`);
  for (const range of [...new Set(results.map((r) => r.range))]) {
    const rs = results.filter((r) => r.range === range && !r.error);
    if (rs.length === 0) continue;
    const medians = names.map((n, k) => `${n} ${median(rs.map((r) => r.ms[k]!)).toFixed(1)} ms`).join(', ');
    const router = CITUS ? `, router ${rs.filter(isRouter).length}/${rs.length}` : '';
    const last = names.length - 1;
    const worst = rs.reduce((a, b) => (b.ms[last]! > a.ms[last]! ? b : a));
    console.log(
      `  ${range.padEnd(5)} ${String(rs.length).padStart(4)}  ${medians}${router}; slowest on ${names[last]}: ${worst.ms[last]!.toFixed(1)} ms (${worst.name})`,
    );
  }
  const errors = results.filter((r) => r.error);
  const slow = results.filter((r) => !(r.ms[0]! < 200));
  const raw = results.filter((r) => r.rawScans.length > 0);
  console.log(
    `\nerrors: ${errors.length}${errors.length ? ` — ${errors.map((r) => `${r.name} (${r.range}): ${r.error}`).join('; ')}` : ''}`,
  );
  console.log(
    `over 200 ms (median, ${names[0]}): ${slow.length}${slow.length ? ` — ${slow.map((r) => `${r.name} (${r.range}) ${r.ms[0]!.toFixed(0)} ms`).join('; ')}` : ''}`,
  );
  console.log(
    `${LONG} queries reading raw partitions of rolled-up families before the tail: ${raw.length}${raw.length ? ` — ${raw.map((r) => r.name).join('; ')}` : ''}`,
  );
  if (CITUS) {
    const multi = results.filter((r) => !r.error && r.tasks !== undefined && !isRouter(r));
    console.log(
      `not router queries on Citus: ${multi.length}${multi.length ? ` — ${multi.map((r) => `${r.name} (${r.range}) ${(r.tasks ?? []).join('+')} tasks`).join('; ')}` : ''}`,
    );
  }
  console.log(`load average (1, 5, 15 min): ${load()}`);
}

async function main(): Promise<void> {
  const t0 = Date.now();
  console.log(`load average (1, 5, 15 min) at the start: ${load()}`);
  const citus = CITUS ? await freshCitusDatabase(CITUS_URL!, 'pga_bench_dashboards') : undefined;
  const [native, m] = await Promise.all([
    startStack({ backend: { storage: 'native', collectorPushRate: 10_000, collectorPushBurst: 10_000 } }),
    startMonitored(),
  ]);
  const stacks: Stack[] = [native];
  const targets: Target[] = [];
  try {
    if (citus)
      stacks.push(
        await startStack({
          server: externalServer(citus.url),
          backend: { storage: 'citus', citusShardCount: Number(values.shards), collectorPushRate: 10_000, collectorPushBurst: 10_000 },
        }),
      );
    await m.admin('CREATE DATABASE benchdb');
    await pgbenchInit(m.server.url('benchdb'), 1); // pgbench -i -s 1, by our own code: no client tools needed
    for (const [i, s] of stacks.entries()) targets.push(await startTarget(i === 0 ? 'native' : 'citus', m.monitorUrl(), s, 1 + i * 1000));

    // Real row shapes: two real cycles (the second has counter deltas).
    const collector = targets[0]!.runners[0]!.agent;
    await collector.collect(new Date(Date.now() - 60_000));
    await pgbenchRun(m.server.url('benchdb'), { clients: 2, transactions: 200 });
    const cycle = await collector.collect(new Date());
    const sample: Batch = { ...cycle.batch, families: cycleRows(cycle) };
    const rowsPerCycle = Object.values(sample.families).reduce((n, r) => n + (r?.length ?? 0), 0);

    // Replay across the days, oldest first, one push per collector per hour of cycles.
    const end = Math.floor(Date.now() / STEP_MS) * STEP_MS - STEP_MS;
    const start = end - DAYS * 86_400_000 + HOUR; // inside retention
    for (const target of targets) {
      const began = Date.now();
      const { pushes, rows } = await replay(target, sample, start, end);
      const loaded = Date.now();
      // Three maintenance runs, timed apart: the catch-up (partitions, rollups) with conversion to
      // columnar held back, then the conversion of every day already old enough (Citus; a one-off
      // here, one partition per family a day in service), then a run with nothing left to do,
      // which is what every PGA_MAINTENANCE_INTERVAL costs in steady state.
      const seconds = (since: number): string => ((Date.now() - since) / 1000).toFixed(1);
      const maint = await runMaintenance(target.stack.db, { columnarAfterDays: DAYS + 365 });
      const rolled = Date.now();
      const columnar = await runMaintenance(target.stack.db);
      const converted = Date.now();
      await runMaintenance(target.stack.db);
      const steady = seconds(converted);
      await target.stack.db.query('ANALYZE');
      console.log(
        `${target.name}: loaded ${rows.toLocaleString()} rows (${rowsPerCycle} per cycle, ${SERVERS} servers, ${DAYS} days, ${STEP_MS / 60_000}-minute step) in ${pushes} pushes, ${((loaded - began) / 1000).toFixed(0)} s; maintenance: ${maint.partitionsCreated} partitions made and ${maint.hoursRolledUp} family-hours rolled up in ${((rolled - loaded) / 1000).toFixed(1)} s, ${columnar.partitionsCompressed} partitions made columnar in ${((converted - rolled) / 1000).toFixed(1)} s, a run with nothing to do ${steady} s`,
      );
      const pgUrl = new URL(target.stack.settings.databaseUrl);
      target.grafana = new pg.Client({
        host: pgUrl.hostname,
        port: Number(pgUrl.port),
        user: 'pganalytics_grafana',
        password: decodeURIComponent(pgUrl.password),
        database: pgUrl.pathname.slice(1),
      });
      await target.grafana.connect();
    }

    const now = new Date(end + 60_000);
    const results: Result[] = [];
    // Families without rollups (texts, settings, plans, bloat estimates) are read raw at any range.
    const rolledUp = new Set(
      (await native.db.query<{ raw_table: string }>('SELECT raw_table FROM metric_families WHERE rollup_table IS NOT NULL')).rows.map(
        (r) => r.raw_table,
      ),
    );
    for (const q of await queriesOf(targets, now)) results.push(await measure(targets, q, now, rolledUp));
    report(targets, results);
    console.log(`total ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  } finally {
    for (const t of targets) {
      await t.grafana?.end();
      for (const r of t.runners) await r.stop();
    }
    for (const s of stacks) await s.stop();
    await citus?.drop();
    await m.stop();
  }
}

await main();
