// Dashboard query benchmark (npm run bench:dashboards -- [--servers 20] [--days 7] [--step-minutes 5] [--reps 5]).
// Seven days of data for 20 servers through the real ingest path: 20 collectors registered with
// the real backend; one real collection cycle of a real PostgreSQL under pgbench gives the row
// shapes; each collector replays them with timestamps shifted across the days (a 5-minute step
// by default, not 60 s, to keep the run short; an hour of cycles per push), then the backend's
// maintenance job builds the rollups. Then every panel query of every dashboard (and every
// alert query) is timed for 1 h, 24 h and 7 d, p95 over a few repetitions, and its 7 d plan is
// checked with EXPLAIN (ANALYZE, FORMAT JSON): no raw metrics_* partition may be read except
// the tail (the last day), where rows newer than the rollups live.
import { randomUUID } from 'node:crypto';
import { pgbenchInit, pgbenchRun } from '../devkit/pgbench-workload.ts';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { startStack, registerCollector, quietLog } from '../tests/helpers/stack.ts';
import { startMonitored } from '../tests/postgres/monitored.ts';
import { Runner } from '../collector/src/runner.ts';
import { cycleRows } from '../collector/src/agent.ts';
import { encodeBatch } from '../collector/src/transform/batch-columns.ts';
import { runMaintenance } from '../backend/src/storage/maintenance.ts';
import { toWire, type Batch } from '../protocol/index.ts';
import { DASHBOARDS } from '../grafana/src/dashboards/index.ts';
import { defaultRanges, runPanelQueries } from '../devkit/panel-queries.ts';
import { expandMacros } from '../devkit/grafana-macros.ts';
import { ALERT_RULES, ALERT_WINDOW } from '../grafana/src/alerts/rules.ts';

const { values } = parseArgs({
  options: {
    servers: { type: 'string', default: '20' },
    days: { type: 'string', default: '7' },
    'step-minutes': { type: 'string', default: '5' },
    reps: { type: 'string', default: '5' },
  },
});
const SERVERS = Number(values.servers);
const DAYS = Number(values.days);
const STEP_MS = Number(values['step-minutes']) * 60_000;
const REPS = Number(values.reps);
const CYCLES_PER_PUSH = Math.max(1, Math.round(3_600_000 / STEP_MS));
const TAIL_MS = 86_400_000;

const p95 = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.ceil(0.95 * xs.length) - 1)]!;

/** A copy of `rows` with every time moved by `shift` ms. */
function shifted(batch: Batch, at: number): Batch['families'] {
  const base = Date.parse(batch.created_at);
  const out: Batch['families'] = {};
  for (const [family, rows] of Object.entries(batch.families)) {
    out[family] = (rows ?? []).map((r) => ({ ...r, time: new Date(Date.parse(r.time) - base + at).toISOString() }));
  }
  return out;
}

async function main(): Promise<void> {
  const t0 = Date.now();
  const [stack, m] = await Promise.all([
    startStack({ backend: { storage: 'native', collectorPushRate: 10_000, collectorPushBurst: 10_000 } }),
    startMonitored(),
  ]);
  try {
    await m.admin('CREATE DATABASE benchdb');
    await pgbenchInit(m.server.url('benchdb'), 1); // pgbench -i -s 1, by our own code: no client tools needed

    // Real row shapes: two real cycles (the second has counter deltas).
    const runners: Runner[] = [];
    for (let i = 0; i < SERVERS; i++) {
      const { local } = await registerCollector(stack, {
        name: `c${i}`,
        hostname: `db-${String(i).padStart(2, '0')}`,
        targetUrl: m.monitorUrl(),
      });
      runners.push(new Runner(local, quietLog('collector')));
    }
    await runners[0]!.agent.collect(new Date(Date.now() - 60_000));
    await pgbenchRun(m.server.url('benchdb'), { clients: 2, transactions: 200 });
    const cycle = await runners[0]!.agent.collect(new Date());
    const sample: Batch = { ...cycle.batch, families: cycleRows(cycle) };
    const rowsPerCycle = Object.values(sample.families).reduce((n, r) => n + (r?.length ?? 0), 0);

    // Replay across the days, oldest first, one push per collector per hour of cycles.
    const end = Math.floor(Date.now() / STEP_MS) * STEP_MS - STEP_MS;
    const start = end - DAYS * 86_400_000 + 3_600_000; // inside retention
    // Daily partitions for the whole replay made up front: concurrent first pushes into a new day
    // race in the backend's partition creation ("relation ... already exists", a 500).
    await stack.db.query('SELECT pga_ensure_partitions(family, $1, $2) FROM metric_families', [new Date(start), new Date(end)]);
    let pushes = 0;
    let rows = 0;
    await Promise.all(
      runners.map(async (runner) => {
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
          if (outcome.kind !== 'accepted') throw new Error(`push refused: ${JSON.stringify(outcome)}`);
          pushes++;
          rows += Object.values(families).reduce((n, r) => n + (r?.length ?? 0), 0);
        }
      }),
    );
    const loaded = Date.now();
    const maint = await runMaintenance(stack.db);
    await stack.db.query('ANALYZE');
    console.log(
      `loaded ${rows.toLocaleString()} rows (${rowsPerCycle} per cycle, ${SERVERS} servers, ${DAYS} days, ${STEP_MS / 60_000}-minute step) in ${pushes} pushes, ${((loaded - t0) / 1000).toFixed(0)} s; maintenance rolled up ${maint.hoursRolledUp} family-hours in ${((Date.now() - loaded) / 1000).toFixed(0)} s`,
    );

    const grafana = new pg.Client({ host: stack.pg.host, port: stack.pg.port, user: 'pganalytics_grafana', database: 'pganalytics' });
    await grafana.connect();
    const now = new Date(end + 60_000);
    const ranges = defaultRanges(now);

    // Every panel query, expanded as Grafana would; the first run also gives the SQL to time.
    const report = await runPanelQueries(grafana, { now, dashboards: DASHBOARDS.map((d) => d()) });
    const queries = [
      ...report.panels.map((p) => ({
        name: `${p.dashboardUid.replace('pga-', '')} / ${p.panelTitle}`,
        range: p.range,
        sql: p.sql,
        error: p.error,
      })),
      ...report.variables.map((v) => ({
        name: `${v.dashboardUid.replace('pga-', '')} / $${v.variable}`,
        range: v.range,
        sql: v.sql,
        error: v.error,
      })),
      ...ALERT_RULES.flatMap((r) =>
        ranges
          .filter((x) => x.name === '1h')
          .map(() => ({
            name: `alert / ${r.uid}`,
            range: `${r.windowMinutes}m`,
            sql: expandMacros(r.sql(ALERT_WINDOW), { range: { from: new Date(now.getTime() - r.windowMinutes * 60_000), to: now } }),
            error: undefined as string | undefined,
          })),
      ),
    ];
    const results: Array<{ name: string; range: string; p95: number; rows: number; rawScans: string[] }> = [];
    const rawPartition = /^metrics_[a-z0-9_]+_p(\d{8})$/;
    const tailFrom = new Date(now.getTime() - TAIL_MS).toISOString().slice(0, 10).replaceAll('-', '');
    for (const q of queries) {
      if (q.error) {
        results.push({ name: q.name, range: q.range, p95: NaN, rows: 0, rawScans: [`ERROR ${q.error}`] });
        continue;
      }
      const times: number[] = [];
      let n = 0;
      for (let i = 0; i < REPS; i++) {
        const s = performance.now();
        n = (await grafana.query(q.sql)).rowCount ?? 0;
        times.push(performance.now() - s);
      }
      const rawScans: string[] = [];
      if (q.range === '7d') {
        const plan = (await grafana.query(`EXPLAIN (ANALYZE, FORMAT JSON) ${q.sql}`)).rows[0]['QUERY PLAN'];
        const walk = (node: Record<string, unknown>): void => {
          const rel = node['Relation Name'] as string | undefined;
          const day = rel ? rawPartition.exec(rel)?.[1] : undefined;
          // A node the executor never started (Actual Loops 0) read nothing; the tail is allowed.
          if (day && Number(node['Actual Loops'] ?? 0) > 0 && day < tailFrom) rawScans.push(rel!);
          for (const child of (node.Plans as Record<string, unknown>[] | undefined) ?? []) walk(child);
        };
        walk(plan[0].Plan);
      }
      results.push({ name: q.name, range: q.range, p95: p95(times), rows: n, rawScans });
    }
    await grafana.end();

    const w = Math.max(...results.map((r) => r.name.length));
    console.log(`\n${'query'.padEnd(w)}  range  p95 ms   rows  raw partitions read (7d, before the tail)`);
    for (const r of results)
      console.log(
        `${r.name.padEnd(w)}  ${r.range.padEnd(5)}  ${r.p95.toFixed(1).padStart(6)}  ${String(r.rows).padStart(5)}  ${r.rawScans.join(' ')}`,
      );
    console.log('\nper range: queries, p95 of p95s, worst');
    for (const range of [...new Set(results.map((r) => r.range))]) {
      const rs = results.filter((r) => r.range === range && !Number.isNaN(r.p95));
      const worst = rs.reduce((a, b) => (b.p95 > a.p95 ? b : a));
      console.log(
        `  ${range.padEnd(5)} ${String(rs.length).padStart(4)}  ${p95(rs.map((r) => r.p95))
          .toFixed(1)
          .padStart(7)} ms  worst ${worst.p95.toFixed(1)} ms (${worst.name})`,
      );
    }
    const slow = results.filter((r) => !(r.p95 < 200));
    const raw = results.filter((r) => r.rawScans.length > 0);
    console.log(
      `\nover 200 ms at p95: ${slow.length}${slow.length ? ` — ${slow.map((r) => `${r.name} (${r.range}) ${r.p95.toFixed(0)} ms`).join('; ')}` : ''}`,
    );
    console.log(
      `7 d queries reading raw partitions before the tail: ${raw.length}${raw.length ? ` — ${raw.map((r) => r.name).join('; ')}` : ''}`,
    );
    for (const r of runners) await r.stop();
  } finally {
    await stack.stop();
    await m.stop();
  }
}

await main();
