// Renders every dashboard to a PNG without Grafana (npm run dashboards:render), so anyone can look
// at what a DBA would see: each panel's SQL is expanded as Grafana would (devkit/grafana-macros.ts)
// and run for one range, then drawn as SVG (lines, stacks, bars, tables, stats, with the units of
// units.ts) and turned into PNG by rsvg-convert (Debian's librsvg2-bin: apt-get install librsvg2-bin).
// Not part of npm test: it is for looking, not for checking.
//
//   npm run dashboards:render                       a throwaway stack: a real collector pushes 40
//                                                   minutes of a pgbench workload, rendered over 45 min
//   npm run dashboards:render -- --database-url URL --minutes 360   an existing pgAnalytics database
//                                                   (read as pganalytics_grafana would)
//   options: --out DIR (default .scratch/dashboards), --only UID[,UID], --zoom 0.6 (smaller PNGs)
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import type * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import { DASHBOARDS } from '../grafana/src/dashboards/index.ts';
import { NUMERIC_TYPES, runPanelQueries, type PanelRun } from '../devkit/panel-queries.ts';

const { values: args } = parseArgs({
  options: {
    'database-url': { type: 'string' },
    minutes: { type: 'string' },
    out: { type: 'string', default: '.scratch/dashboards' },
    only: { type: 'string' },
    zoom: { type: 'string', default: '1' },
  },
});

// Layout: Grafana's 24-column grid, a grid row 30 px high.
const COL = 50;
const ROW = 30;
const WIDTH = 24 * COL;
const COLORS = [
  '#7eb26d',
  '#eab839',
  '#6ed0e0',
  '#ef843c',
  '#e24d42',
  '#1f78c1',
  '#ba43a9',
  '#705da0',
  '#508642',
  '#cca300',
  '#447ebc',
  '#c15c17',
];

const esc = (s: string): string => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);
const clip = (s: string, n: number): string => (s.length > n ? `${s.slice(0, n - 1)}…` : s);

/** A value as Grafana would show it in that unit, roughly. */
export function formatValue(v: number, unit: string | undefined): string {
  if (!Number.isFinite(v)) return '';
  const scaled = (x: number, base: number, units: string[]): string => {
    let i = 0;
    while (Math.abs(x) >= base && i < units.length - 1) {
      x /= base;
      i++;
    }
    return `${x.toFixed(Math.abs(x) < 10 && i > 0 ? 2 : Math.abs(x) < 100 ? 1 : 0)} ${units[i]}`.trim();
  };
  switch (unit) {
    case 'bytes':
      return scaled(v, 1024, ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB']);
    case 'Bps':
      return `${scaled(v, 1024, ['B', 'KiB', 'MiB', 'GiB', 'TiB'])}/s`;
    case 'percent':
      return `${v.toFixed(1)}%`;
    case 'ms':
      return Math.abs(v) >= 1000 ? `${(v / 1000).toFixed(2)} s` : `${v.toFixed(1)} ms`;
    case 's':
      return Math.abs(v) >= 86400
        ? `${(v / 86400).toFixed(1)} day`
        : Math.abs(v) >= 3600
          ? `${(v / 3600).toFixed(1)} hour`
          : Math.abs(v) >= 60
            ? `${(v / 60).toFixed(1)} min`
            : `${v.toFixed(1)} s`;
    case 'd':
      return `${v.toFixed(1)} day`;
    case 'ops':
      return `${scaled(v, 1000, ['', 'K', 'Mil', 'Bil'])} ops/s`;
    case 'none':
      return String(Math.round(v));
    default:
      return scaled(v, 1000, ['', 'K', 'Mil', 'Bil', 'Tri']);
  }
}

/** The unit Grafana gives a field: the defaults, then byName/byNames overrides. */
function unitFor(p: dashboard.Panel, column: string): string | undefined {
  let unit = p.fieldConfig?.defaults?.unit;
  for (const o of p.fieldConfig?.overrides ?? []) {
    const names =
      o.matcher.id === 'byNames'
        ? (o.matcher.options as { names: string[] }).names
        : o.matcher.id === 'byName'
          ? [String(o.matcher.options)]
          : [];
    if (names.includes(column)) for (const prop of o.properties) if (prop.id === 'unit') unit = String(prop.value);
  }
  return unit;
}

interface Box {
  x: number;
  y: number;
  w: number;
  h: number;
}

function frame(b: Box, title: string, body: string): string {
  return `<g transform="translate(${b.x},${b.y})"><rect width="${b.w - 4}" height="${b.h - 4}" rx="3" fill="#181b1f" stroke="#2c3235"/>
<text x="8" y="17" font-size="12" font-weight="bold" fill="#d8d9da">${esc(clip(title, Math.floor(b.w / 7)))}</text>${body}</g>`;
}

function timeSeriesSvg(p: dashboard.Panel, run: PanelRun, b: Box, from: number, to: number): string {
  const labels = run.columns.filter((c) => c.type === 'text').map((c) => c.name);
  const values = run.columns.filter((c) => NUMERIC_TYPES.has(c.type)).map((c) => c.name);
  const units = [...new Set(values.map((v) => unitFor(p, v)))];
  const series = new Map<string, { unit: string | undefined; points: Array<[number, number | null]> }>();
  for (const r of run.rows) {
    const t = (r.time as Date).getTime();
    const label = labels.map((l) => String(r[l] ?? '')).join(' ');
    for (const v of values) {
      const key = values.length > 1 ? `${v}${label ? ` ${label}` : ''}` : label || v;
      if (!series.has(key)) series.set(key, { unit: unitFor(p, v), points: [] });
      const x = r[v];
      series.get(key)!.points.push([t, x === null || x === undefined ? null : Number(x)]);
    }
  }
  const custom = (p.fieldConfig?.defaults?.custom ?? {}) as { stacking?: { mode?: string }; drawStyle?: string };
  const stacked = custom.stacking?.mode === 'normal';
  const bars = custom.drawStyle === 'bars';
  const shown = [...series.entries()].slice(0, COLORS.length);
  if (stacked) {
    const base = new Map<number, number>();
    for (const [, s] of shown)
      s.points = s.points.map(([t, v]) => {
        const y = (base.get(t) ?? 0) + (v ?? 0);
        base.set(t, y);
        return [t, v === null ? null : y];
      });
  }
  const plot = { x: 60, y: 26, w: b.w - 130, h: b.h - 70 };
  const yRange = (unit: string | undefined): [number, number] => {
    const ys = shown
      .filter(([, s]) => s.unit === unit)
      .flatMap(([, s]) => s.points.map(([, v]) => v))
      .filter((v): v is number => v !== null);
    const max = p.fieldConfig?.defaults?.max ?? Math.max(0, ...ys);
    const min = Math.min(0, ...ys);
    return [min, max > min ? max : min + 1];
  };
  const ranges = new Map(units.map((u) => [u, yRange(u)]));
  const sx = (t: number) => plot.x + ((t - from) / (to - from)) * plot.w;
  const sy = (v: number, u: string | undefined) => {
    const [lo, hi] = ranges.get(u)!;
    return plot.y + plot.h - ((v - lo) / (hi - lo)) * plot.h;
  };
  let out = `<rect x="${plot.x}" y="${plot.y}" width="${plot.w}" height="${plot.h}" fill="none" stroke="#2c3235"/>`;
  units.slice(0, 2).forEach((u, i) => {
    const [lo, hi] = ranges.get(u)!;
    const x = i === 0 ? plot.x - 4 : plot.x + plot.w + 4;
    const anchor = i === 0 ? 'end' : 'start';
    for (const f of [0, 0.5, 1]) {
      out += `<text x="${x}" y="${sy(lo + f * (hi - lo), u) + 4}" font-size="9" fill="#9fa7b3" text-anchor="${anchor}">${esc(formatValue(lo + f * (hi - lo), u))}</text>`;
    }
  });
  for (const f of [0, 0.5, 1]) {
    const t = from + f * (to - from);
    out += `<text x="${sx(t)}" y="${plot.y + plot.h + 12}" font-size="9" fill="#9fa7b3" text-anchor="middle">${new Date(t).toISOString().slice(11, 16)}</text>`;
  }
  shown.forEach(([, s], i) => {
    const color = COLORS[i % COLORS.length];
    if (bars) {
      for (const [t, v] of s.points)
        if (v !== null && v !== 0)
          out += `<rect x="${sx(t) - 2}" y="${sy(v, s.unit)}" width="4" height="${Math.max(0, sy(0, s.unit) - sy(v, s.unit))}" fill="${color}"/>`;
      return;
    }
    // A null breaks the line (spanNulls off), as in Grafana.
    let d = '';
    let pen = false;
    for (const [t, v] of s.points) {
      if (v === null) {
        pen = false;
        continue;
      }
      d += `${pen ? 'L' : 'M'}${sx(t).toFixed(1)},${sy(v, s.unit).toFixed(1)}`;
      pen = true;
    }
    out += `<path d="${d}" fill="none" stroke="${color}" stroke-width="${stacked ? 1 : 1.5}"/>`;
    for (const [t, v] of s.points)
      if (v !== null && s.points.length < 3) out += `<circle cx="${sx(t)}" cy="${sy(v, s.unit)}" r="2" fill="${color}"/>`;
  });
  const legend = shown.map(([name], i) => `<tspan fill="${COLORS[i % COLORS.length]}">■</tspan> ${esc(clip(name, 40))}`).join('  ');
  out += `<text x="8" y="${b.h - 12}" font-size="9" fill="#d8d9da">${clip(legend, 4000)}</text>`;
  if (run.rows.length === 0) out += `<text x="${b.w / 2}" y="${b.h / 2}" font-size="12" fill="#9fa7b3" text-anchor="middle">No data</text>`;
  return out;
}

function tableSvg(p: dashboard.Panel, run: PanelRun, b: Box): string {
  const cols = run.columns.map((c) => c.name).slice(0, Math.max(1, Math.floor(b.w / 90)));
  const width = (b.w - 16) / cols.length;
  const chars = Math.floor(width / 6);
  let out = cols
    .map((c, i) => `<text x="${8 + i * width}" y="38" font-size="10" font-weight="bold" fill="#6ed0e0">${esc(clip(c, chars))}</text>`)
    .join('');
  const fits = Math.max(0, Math.floor((b.h - 56) / 15));
  run.rows.slice(0, fits).forEach((r, j) => {
    out += cols
      .map((c, i) => {
        const v = r[c];
        const col = run.columns.find((x) => x.name === c)!;
        const text =
          v === null || v === undefined
            ? ''
            : v instanceof Date
              ? v.toISOString().slice(5, 19).replace('T', ' ')
              : NUMERIC_TYPES.has(col.type)
                ? formatValue(Number(v), unitFor(p, c))
                : String(v).replace(/\s+/g, ' ');
        return `<text x="${8 + i * width}" y="${54 + j * 15}" font-size="10" fill="#d8d9da">${esc(clip(text, chars))}</text>`;
      })
      .join('');
  });
  if (run.rows.length === 0) out += `<text x="8" y="56" font-size="11" fill="#9fa7b3">No rows</text>`;
  return out;
}

function statSvg(p: dashboard.Panel, run: PanelRun, b: Box): string {
  const col = run.columns.find((c) => NUMERIC_TYPES.has(c.type));
  const v = col ? run.rows.at(-1)?.[col.name] : undefined;
  const text = v === null || v === undefined ? 'No data' : formatValue(Number(v), col && unitFor(p, col.name));
  return `<text x="${b.w / 2}" y="${b.h / 2 + 14}" font-size="30" fill="#73bf69" text-anchor="middle">${esc(text)}</text>`;
}

function dashboardSvg(d: dashboard.Dashboard, runs: PanelRun[], from: number, to: number): string {
  const panels = (d.panels ?? []).flatMap((p) => [p, ...((p as { panels?: dashboard.Panel[] }).panels ?? [])]) as dashboard.Panel[];
  const height = Math.max(...panels.map((p) => ((p.gridPos?.y ?? 0) + (p.gridPos?.h ?? 0)) * ROW)) + 40;
  let body = `<text x="10" y="24" font-size="16" font-weight="bold" fill="#d8d9da">${esc(d.title ?? '')}</text>
<text x="${WIDTH - 10}" y="24" font-size="11" fill="#9fa7b3" text-anchor="end">${new Date(from).toISOString().slice(0, 16)} – ${new Date(to).toISOString().slice(11, 16)} UTC</text>`;
  for (const p of panels) {
    const g = p.gridPos ?? { x: 0, y: 0, w: 12, h: 8 };
    const b: Box = { x: g.x * COL + 2, y: g.y * ROW + 36, w: g.w * COL, h: g.h * ROW };
    if (p.type === 'row') {
      body += `<text x="${b.x + 6}" y="${b.y + 20}" font-size="14" font-weight="bold" fill="#d8d9da">${esc(p.title ?? '')}</text>`;
      continue;
    }
    const run = runs.find((r) => r.panelId === p.id);
    if (!run) {
      body += frame(b, p.title ?? '', `<text x="8" y="40" font-size="11" fill="#9fa7b3">Prometheus panel: not rendered here</text>`);
      continue;
    }
    if (run.error) {
      body += frame(b, p.title ?? '', `<text x="8" y="40" font-size="11" fill="#e24d42">${esc(clip(run.error, 120))}</text>`);
      continue;
    }
    body += frame(
      b,
      p.title ?? '',
      p.type === 'timeseries' ? timeSeriesSvg(p, run, b, from, to) : p.type === 'stat' ? statSvg(p, run, b) : tableSvg(p, run, b),
    );
  }
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH + 4}" height="${height}" font-family="DejaVu Sans, sans-serif">
<rect width="100%" height="100%" fill="#111217"/>${body}</svg>`;
}

/** A throwaway stack with 40 minutes of a pgbench-like workload (our own, devkit/pgbench-workload.ts) pushed by the real collector. */
async function demoData(): Promise<{ db: pg.Client; stop: () => Promise<void> }> {
  const { startStack, registerCollector, quietLog } = await import('../tests/helpers/stack.ts');
  const { startMonitored, superClient } = await import('../tests/postgres/monitored.ts');
  const { Runner } = await import('../collector/src/runner.ts');
  const { pgbenchInit, pgbenchRun } = await import('../devkit/pgbench-workload.ts');
  const [stack, m] = await Promise.all([
    startStack({ backend: { storage: 'native' } }),
    startMonitored({
      settings: {
        logging_collector: true,
        log_destination: 'csvlog,stderr',
        log_checkpoints: true,
        log_autovacuum_min_duration: 0,
        log_min_duration_statement: 50,
        log_temp_files: 0,
        log_lock_waits: true,
        deadlock_timeout: '100ms',
        autovacuum_naptime: 5,
      },
    }),
  ]);
  const stop = async () => {
    await stack.stop();
    await m.stop();
  };
  try {
    const { local } = await registerCollector(stack, { hostname: hostname(), targetUrl: m.monitorUrl() });
    const runner = new Runner(local, quietLog('collector'));
    await runner.pullConfig();
    await m.admin('CREATE DATABASE benchdb');
    const benchUrl = m.server.url('benchdb');
    await pgbenchInit(benchUrl, 2);
    const start = Date.now();
    for (let min = 40; min >= 0; min -= 2) {
      await pgbenchRun(benchUrl, { clients: 4, transactions: 50 + 10 * (min % 7) });
      const c = await superClient(m.server, 'benchdb');
      await c.query("SET work_mem = '64kB'");
      await c.query('SELECT count(*) FROM (SELECT g FROM generate_series(1, 100000) g ORDER BY g DESC) s');
      await c.query('SELECT 1 / 0').catch(() => undefined);
      await c.end();
      await m.admin('SELECT pg_stat_force_next_flush()').catch(() => undefined);
      await runner.collectAndSpool(new Date(start - min * 60_000));
      await runner.drain();
    }
    await runner.stop();
    const db = new pg.Client({ host: stack.pg.host, port: stack.pg.port, user: 'pganalytics_grafana', database: 'pganalytics' });
    await db.connect();
    return {
      db,
      stop: async () => {
        await db.end();
        await stop();
      },
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

async function main(): Promise<void> {
  if (spawnSync('rsvg-convert', ['--version']).status !== 0) throw new Error('rsvg-convert not found: apt-get install librsvg2-bin');
  const source = args['database-url']
    ? await (async () => {
        const db = new pg.Client({ connectionString: args['database-url'] });
        await db.connect();
        return { db, stop: () => db.end() };
      })()
    : await demoData();
  try {
    const minutes = Number(args.minutes ?? (args['database-url'] ? 360 : 45));
    const to = new Date(Date.now() + 1000);
    const from = new Date(to.getTime() - minutes * 60_000);
    const only = args.only?.split(',');
    const dashboards = DASHBOARDS.map((make) => make()).filter((d) => !only || only.includes(d.uid ?? ''));
    const report = await runPanelQueries(source.db, { ranges: [{ name: 'render', from, to }], dashboards, now: to });
    mkdirSync(args.out!, { recursive: true });
    for (const d of dashboards) {
      const svg = dashboardSvg(
        d,
        report.panels.filter((r) => r.dashboardUid === d.uid),
        from.getTime(),
        to.getTime(),
      );
      const png = join(args.out!, `${d.uid}.png`);
      const res = spawnSync('rsvg-convert', ['-f', 'png', '-z', args.zoom!, '-o', png], { input: svg });
      if (res.status !== 0) throw new Error(`rsvg-convert ${d.uid}: ${res.stderr}`);
      writeFileSync(join(args.out!, `${d.uid}.svg`), svg);
      console.log(`wrote ${png}`);
    }
  } finally {
    await source.stop();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
}
