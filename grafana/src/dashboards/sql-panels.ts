// Panel builders with the settings every pgAnalytics panel shares, so dashboards read as a list
// of titles, units and queries.
import * as common from '@grafana/grafana-foundation-sdk/common';
import * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import * as stat from '@grafana/grafana-foundation-sdk/stat';
import * as table from '@grafana/grafana-foundation-sdk/table';
import * as timeseries from '@grafana/grafana-foundation-sdk/timeseries';
import type * as cog from '@grafana/grafana-foundation-sdk/cog';
import { POSTGRES_DATASOURCE } from '../datasources.ts';
import { SqlQueryBuilder } from '../query.ts';
import { unitPlan } from './units.ts';

export interface PanelOptions {
  readonly title: string;
  readonly description: string;
  /** SQL panels take their units from column names (units.ts); this picks the left axis. */
  readonly unit?: string;
  readonly width?: number;
  readonly height?: number;
  readonly bars?: boolean;
  /** Stack the series (CPU states add up to 100 %). */
  readonly stacked?: boolean;
  readonly max?: number;
  readonly links?: readonly cog.Builder<dashboard.DashboardLink>[];
}

const legend = () =>
  new common.VizLegendOptionsBuilder().showLegend(true).displayMode(common.LegendDisplayMode.List).placement(common.LegendPlacement.Bottom);

export function timeSeries(o: PanelOptions, target: cog.Builder<cog.Dataquery>): timeseries.PanelBuilder {
  const p = new timeseries.PanelBuilder()
    .title(o.title)
    .description(o.description)
    .unit(o.unit ?? 'short')
    .span(o.width ?? 12)
    .height(o.height ?? 8)
    .legend(legend())
    .drawStyle(o.bars ? common.GraphDrawStyle.Bars : common.GraphDrawStyle.Line)
    .fillOpacity(o.stacked ? 70 : 10)
    // A missing sample is a gap, not a line drawn across it.
    .spanNulls(false)
    .withTarget(target);
  if (o.stacked) p.stacking(new common.StackingConfigBuilder().mode(common.StackingMode.Normal)).lineWidth(0);
  if (o.max !== undefined) p.max(o.max);
  if (o.links) p.links([...o.links]);
  return p;
}

const unitProperty = (unit: string): dashboard.DynamicConfigValue => ({ id: 'unit', value: unit });
const byNames = (names: readonly string[]): dashboard.MatcherConfig => ({ id: 'byNames', options: { mode: 'include', names: [...names] } });

/** A time_series panel over the PostgreSQL datasource: one unit on the left axis, a second on
 *  the right (Grafana gives each unit its own axis; the right side keeps them apart). */
export function sqlTimeSeries(o: PanelOptions, rawSql: string): timeseries.PanelBuilder {
  const plan = unitPlan(rawSql, o.unit);
  const p = timeSeries({ ...o, unit: plan.unit }, new SqlQueryBuilder(rawSql, 'time_series')).datasource({ ...POSTGRES_DATASOURCE });
  for (const other of plan.others) {
    p.withOverride({
      matcher: byNames(other.names),
      properties: [
        unitProperty(other.unit),
        ...(other.unit === 'none' ? [] : [{ id: 'custom.axisPlacement', value: common.AxisPlacement.Right }]),
      ],
    });
  }
  return p;
}

export interface TableOptions extends Omit<PanelOptions, 'bars'> {
  /** Data links on every cell, e.g. to a drill-down with ${__data.fields.<column>} in the URL. */
  readonly dataLinks?: readonly cog.Builder<dashboard.DashboardLink>[];
}

export function sqlTable(o: TableOptions, rawSql: string): table.PanelBuilder {
  const plan = unitPlan(rawSql, o.unit);
  const p = new table.PanelBuilder()
    .title(o.title)
    .description(o.description)
    .unit(plan.unit)
    .span(o.width ?? 24)
    .height(o.height ?? 8)
    .datasource({ ...POSTGRES_DATASOURCE })
    .withTarget(new SqlQueryBuilder(rawSql, 'table'));
  for (const other of plan.others) p.withOverride({ matcher: byNames(other.names), properties: [unitProperty(other.unit)] });
  if (o.dataLinks) p.dataLinks([...o.dataLinks]);
  if (o.links) p.links([...o.links]);
  return p;
}

/** A single number (the last value of the query's first numeric column). */
export function sqlStat(o: Omit<PanelOptions, 'bars'>, rawSql: string): stat.PanelBuilder {
  return new stat.PanelBuilder()
    .title(o.title)
    .description(o.description)
    .unit(unitPlan(rawSql, o.unit).unit)
    .span(o.width ?? 6)
    .height(o.height ?? 4)
    .datasource({ ...POSTGRES_DATASOURCE })
    .reduceOptions(new common.ReduceDataOptionsBuilder().calcs(['lastNotNull']).values(false))
    .withTarget(new SqlQueryBuilder(rawSql, 'table'));
}

/** A link to another dashboard that carries the time range and, per cell, the given URL params. */
export function drillDown(title: string, url: string): dashboard.DashboardLinkBuilder {
  return new dashboard.DashboardLinkBuilder(title).type(dashboard.DashboardLinkType.Link).url(url).targetBlank(false);
}

/** A query variable over the PostgreSQL datasource (its query returns __text and __value). */
export function sqlVariable(
  name: string,
  label: string,
  sql: string,
  opts: { multi: boolean; refresh: dashboard.VariableRefresh; sort?: dashboard.VariableSort },
): dashboard.QueryVariableBuilder {
  return new dashboard.QueryVariableBuilder(name)
    .label(label)
    .datasource({ ...POSTGRES_DATASOURCE })
    .query(sql)
    .definition(sql)
    .refresh(opts.refresh)
    .sort(opts.sort ?? dashboard.VariableSort.AlphabeticalAsc)
    .multi(opts.multi)
    .includeAll(opts.multi);
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
