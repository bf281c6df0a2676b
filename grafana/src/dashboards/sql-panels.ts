// Panel builders with the settings every pgAnalytics panel shares, so dashboards read as a list
// of titles, units and queries.
import * as common from '@grafana/grafana-foundation-sdk/common';
import * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import * as table from '@grafana/grafana-foundation-sdk/table';
import * as timeseries from '@grafana/grafana-foundation-sdk/timeseries';
import type * as cog from '@grafana/grafana-foundation-sdk/cog';
import { POSTGRES_DATASOURCE } from '../datasources.ts';
import { SqlQueryBuilder } from '../query.ts';

export interface PanelOptions {
  readonly title: string;
  readonly description: string;
  readonly unit: string;
  readonly width?: number;
  readonly height?: number;
  readonly bars?: boolean;
  readonly links?: readonly cog.Builder<dashboard.DashboardLink>[];
}

const legend = () => new common.VizLegendOptionsBuilder()
  .showLegend(true).displayMode(common.LegendDisplayMode.List).placement(common.LegendPlacement.Bottom);

export function timeSeries(o: PanelOptions, target: cog.Builder<cog.Dataquery>): timeseries.PanelBuilder {
  const p = new timeseries.PanelBuilder()
    .title(o.title).description(o.description).unit(o.unit)
    .span(o.width ?? 12).height(o.height ?? 8)
    .legend(legend())
    .drawStyle(o.bars ? common.GraphDrawStyle.Bars : common.GraphDrawStyle.Line)
    .fillOpacity(10)
    .withTarget(target);
  if (o.links) p.links([...o.links]);
  return p;
}

/** A time_series panel over the PostgreSQL datasource. */
export function sqlTimeSeries(o: PanelOptions, rawSql: string): timeseries.PanelBuilder {
  return timeSeries(o, new SqlQueryBuilder(rawSql, 'time_series')).datasource({ ...POSTGRES_DATASOURCE });
}

export function sqlTable(o: Omit<PanelOptions, 'bars'>, rawSql: string): table.PanelBuilder {
  return new table.PanelBuilder()
    .title(o.title).description(o.description).unit(o.unit)
    .span(o.width ?? 24).height(o.height ?? 8)
    .datasource({ ...POSTGRES_DATASOURCE })
    .withTarget(new SqlQueryBuilder(rawSql, 'table'));
}

/** A query variable over the PostgreSQL datasource (its query returns __text and __value). */
export function sqlVariable(name: string, label: string, sql: string, opts: { multi: boolean; refresh: dashboard.VariableRefresh }): dashboard.QueryVariableBuilder {
  return new dashboard.QueryVariableBuilder(name)
    .label(label)
    .datasource({ ...POSTGRES_DATASOURCE })
    .query(sql).definition(sql)
    .refresh(opts.refresh)
    .sort(dashboard.VariableSort.AlphabeticalAsc)
    .multi(opts.multi).includeAll(opts.multi);
}

/** The SDK leaves panel ids unset; Grafana needs them unique per dashboard (links, repeats). */
export function assignPanelIds(d: dashboard.Dashboard): dashboard.Dashboard {
  let next = 1;
  for (const p of d.panels ?? []) {
    p.id = next++;
    if ('panels' in p) for (const child of p.panels) child.id = next++;
  }
  return d;
}
