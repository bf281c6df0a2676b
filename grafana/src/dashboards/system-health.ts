// "System health": host CPU (overall and per CPU), load, memory, disk I/O and network for the
// chosen servers, from the host families the collector reads in /proc.
import type * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import { assignPanelIds, sqlTimeSeries } from './sql-panels.ts';
import { avgOf, avgParts, maxPart, seriesSql } from './range-aware-sql.ts';
import { dashboardLink, DASHBOARD_UIDS, pgaDashboard } from './links.ts';
import { BY_SERVER, serverVariable } from './variables.ts';
import { t } from './families.ts';

const base = { rawTable: t.sysstat.table, ...BY_SERVER, labels: { host: 's.hostname' } } as const;
const avgCol = (column: string) => avgParts(column, `m.${column}`);

// Every CPU state, so the stack adds up to 100 % (a niced PostgreSQL is busy too). The hourly
// rollup keeps user, system, iowait, steal and idle: there, nice holds nice + irq + softirq.
const CPU_STATES = ['user', 'nice', 'system', 'iowait', 'irq', 'softirq', 'steal', 'idle'] as const;
const ROLLUP_OTHER = `greatest(100 - ${t.sysstat.m.cpu_user_pct} - ${t.sysstat.m.cpu_system_pct} - ${t.sysstat.m.cpu_iowait_pct} - ${t.sysstat.m.cpu_steal_pct} - ${t.sysstat.m.cpu_idle_pct}, 0)`;
const cpuSql = seriesSql({
  ...base,
  parts: CPU_STATES.flatMap((st) =>
    avgParts(
      st,
      `m.cpu_${st}_pct`,
      st === 'nice' ? ROLLUP_OTHER : st === 'irq' || st === 'softirq' ? 'NULL::double precision' : `m.cpu_${st}_pct`,
    ),
  ),
  values: CPU_STATES.map((st) => avgOf(st, `${st}_pct`)),
});

const loadSql = seriesSql({
  ...base,
  parts: ['load1', 'load5', 'load15'].flatMap(avgCol),
  values: [avgOf('load1'), avgOf('load5'), avgOf('load15')],
});

const memorySql = seriesSql({
  ...base,
  parts: [...avgCol('mem_used_bytes'), maxPart('total', t.sysstat.m.mem_total_bytes)],
  values: [avgOf('mem_used_bytes', 'used_bytes'), 'max(total)::double precision AS total_bytes'],
});

const perCpuSql = seriesSql({
  rawTable: t.cpu.table,
  ...BY_SERVER,
  labels: { cpu: `s.hostname || ' ' || ${t.cpu.m.cpu}` },
  parts: avgParts('busy', `100 - ${t.cpu.m.idle_pct}`, `100 - ${t.cpu.m.idle_pct}`),
  values: [avgOf('busy', 'busy_pct')],
});

const disks = { rawTable: t.diskIo.table, ...BY_SERVER, labels: { device: `s.hostname || ' ' || ${t.diskIo.m.device}` } } as const;
const diskBytesSql = seriesSql({
  ...disks,
  parts: [...avgParts('r', t.diskIo.m.read_bytes_per_s), ...avgParts('w', t.diskIo.m.write_bytes_per_s)],
  values: [avgOf('r', 'read_bytes_per_s'), avgOf('w', 'write_bytes_per_s')],
});
const diskUtilSql = seriesSql({
  ...disks,
  parts: [...avgParts('u', t.diskIo.m.util_pct), ...avgParts('ra', t.diskIo.m.read_await_ms), ...avgParts('wa', t.diskIo.m.write_await_ms)],
  values: [avgOf('u', 'util_pct'), avgOf('ra', 'read_await_ms'), avgOf('wa', 'write_await_ms')],
});
const networkSql = seriesSql({
  rawTable: t.network.table,
  ...BY_SERVER,
  labels: { interface: `s.hostname || ' ' || ${t.network.m.interface}` },
  parts: [...avgParts('rx', t.network.m.rx_bytes_per_s), ...avgParts('tx', t.network.m.tx_bytes_per_s)],
  values: [avgOf('rx', 'rx_bytes_per_s'), avgOf('tx', 'tx_bytes_per_s')],
});

const swapSql = seriesSql({
  ...base,
  parts: [maxPart('used', t.sysstat.m.swap_used_bytes), maxPart('total', t.sysstat.m.swap_total_bytes, 'NULL::bigint')],
  values: ['max(used)::double precision AS swap_used_bytes', 'max(total)::double precision AS swap_total_bytes'],
});
const schedulerSql = seriesSql({
  ...base,
  parts: [...avgCol('ctxt_per_s'), ...avgCol('forks_per_s'), maxPart('blocked', t.sysstat.m.procs_blocked, 'm.procs_blocked_max')],
  values: [avgOf('ctxt_per_s', 'context_switches_per_s'), avgOf('forks_per_s'), 'max(blocked)::double precision AS blocked_processes'],
});

export function systemHealth(): dashboard.Dashboard {
  const d = pgaDashboard(
    'System health',
    DASHBOARD_UIDS.systemHealth,
    'CPU, load, memory, disk I/O and network of the hosts running monitored PostgreSQL instances.',
    ['system'],
  )
    .withVariable(serverVariable(true))
    .link(dashboardLink('PostgreSQL Overview', DASHBOARD_UIDS.postgresqlOverview))
    .link(dashboardLink('Disk usage trends', DASHBOARD_UIDS.diskUsage))
    .withPanel(
      sqlTimeSeries(
        {
          title: 'CPU',
          width: 24,
          stacked: true,
          max: 100,
          description:
            'Share of all CPUs in each state, stacked to 100 % (idle on top), averaged per time bucket. On ranges over 2 days nice includes irq and softirq.',
        },
        cpuSql,
      ),
    )
    .withPanel(sqlTimeSeries({ title: 'Load average', description: '1, 5 and 15 minute load averages from /proc/loadavg.' }, loadSql))
    .withPanel(sqlTimeSeries({ title: 'Memory', description: 'Used memory (total minus available) and total memory.' }, memorySql))
    .withPanel(
      sqlTimeSeries(
        {
          title: 'CPU busy per CPU',
          width: 24,
          description: 'Busy share (100 - idle) of each CPU: one saturated CPU hides in the average.',
        },
        perCpuSql,
      ),
    )
    .withPanel(
      sqlTimeSeries(
        { title: 'Disk throughput per second', description: 'Bytes read and written per second per block device.' },
        diskBytesSql,
      ),
    )
    .withPanel(
      sqlTimeSeries(
        { title: 'Disk utilisation and latency', description: 'Busy percent and average read/write wait (ms) per block device.' },
        diskUtilSql,
      ),
    )
    .withPanel(
      sqlTimeSeries({ title: 'Swap', description: 'Swap in use and swap size: a database server that swaps is short of memory.' }, swapSql),
    )
    .withPanel(
      sqlTimeSeries(
        {
          title: 'Context switches and forks per second',
          description: 'Context switches and process forks per second (new connections fork), and processes blocked on I/O (right axis).',
        },
        schedulerSql,
      ),
    )
    .withPanel(
      sqlTimeSeries(
        { title: 'Network per second', width: 24, description: 'Bytes received and sent per second per interface.' },
        networkSql,
      ),
    );
  return assignPanelIds(d.build());
}
