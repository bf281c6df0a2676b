// Runs every PostgreSQL query of the dashboards the way Grafana would: variable queries first (in
// dashboard order, each seeing the values chosen before it), then every panel target, each
// expanded by grafana-macros.ts for the given time ranges. Tests assert on the returned rows and columns.
import type * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import { DASHBOARDS } from '../grafana/src/dashboards/index.ts';
import { POSTGRES_DATASOURCE } from '../grafana/src/datasources.ts';
import { expandMacros, type IntervalOptions, type VariableValue } from './grafana-macros.ts';
import type { SqlDataquery } from '../grafana/src/query.ts';
import { errorMessage } from '../common/errors.ts';

/** The part of a pg.Client (or pool) the harness needs. */
export interface SqlRunner {
  query(sql: string): Promise<{ rows: unknown[]; fields: ReadonlyArray<{ name: string; dataTypeID: number }> }>;
}

export interface RangeSpec {
  readonly name: string;
  readonly from: Date;
  readonly to: Date;
}

export interface RunPanelQueriesOptions {
  /** Default: the last 1 h, 24 h and 7 d before `now`. */
  readonly ranges?: readonly RangeSpec[];
  readonly now?: Date;
  /** Default: every dashboard in dashboards/index.ts. */
  readonly dashboards?: readonly dashboard.Dashboard[];
  /** The datasource's jsonData.timescaledb. */
  readonly timescaledb?: boolean;
  /** Default: the provisioned datasource's timeInterval (1m) and 1000 data points. */
  readonly interval?: IntervalOptions;
  /** Values for custom variables (default: each one's current value), e.g. { ownqueries: 'include' }. */
  readonly custom?: Readonly<Record<string, VariableValue>>;
}

export interface ColumnInfo {
  readonly name: string;
  readonly dataTypeID: number;
  /** PostgreSQL type name for the common OIDs, else "oid:<n>". */
  readonly type: string;
}

export interface QueryRun {
  readonly dashboardUid: string;
  readonly range: string;
  /** The SQL as sent, after expansion. */
  readonly sql: string;
  readonly rows: readonly Record<string, unknown>[];
  readonly columns: readonly ColumnInfo[];
  /** Expansion or execution error; rows and columns are empty then. */
  readonly error?: string;
}

export interface VariableRun extends QueryRun {
  readonly variable: string;
  /** The values chosen for the panels: all options for multi/All variables, else the first. */
  readonly value: VariableValue;
}

export interface PanelRun extends QueryRun {
  readonly panelId: number;
  readonly panelTitle: string;
  readonly panelType: string;
  readonly refId: string;
  readonly format: 'time_series' | 'table';
}

export interface AnnotationRun extends QueryRun {
  readonly name: string;
}

export interface PanelQueriesReport {
  readonly variables: readonly VariableRun[];
  readonly panels: readonly PanelRun[];
  readonly annotations: readonly AnnotationRun[];
}

const TYPE_NAMES: Readonly<Record<number, string>> = {
  16: 'bool',
  19: 'name',
  20: 'int8',
  21: 'int2',
  23: 'int4',
  25: 'text',
  26: 'oid',
  700: 'float4',
  701: 'float8',
  1043: 'varchar',
  1082: 'date',
  1114: 'timestamp',
  1184: 'timestamptz',
  1186: 'interval',
  1700: 'numeric',
};
export const NUMERIC_TYPES: ReadonlySet<string> = new Set(['int2', 'int4', 'int8', 'float4', 'float8', 'numeric', 'oid']);
export const typeName = (oid: number): string => TYPE_NAMES[oid] ?? `oid:${oid}`;

export function defaultRanges(now: Date = new Date()): RangeSpec[] {
  const ago = (ms: number): Date => new Date(now.getTime() - ms);
  return [
    { name: '1h', from: ago(3_600_000), to: now },
    { name: '24h', from: ago(86_400_000), to: now },
    { name: '7d', from: ago(7 * 86_400_000), to: now },
  ];
}

const isPostgres = (ds: { uid?: string } | undefined): boolean => ds?.uid === POSTGRES_DATASOURCE.uid;

async function run(db: SqlRunner, expand: () => string): Promise<Pick<QueryRun, 'sql' | 'rows' | 'columns' | 'error'>> {
  let sql = '';
  try {
    sql = expand();
    const res = await db.query(sql);
    return {
      sql,
      rows: res.rows as Record<string, unknown>[],
      columns: res.fields.map((f) => ({ name: f.name, dataTypeID: f.dataTypeID, type: typeName(f.dataTypeID) })),
    };
  } catch (err) {
    return { sql, rows: [], columns: [], error: errorMessage(err) };
  }
}

/** Every panel (rows' nested panels included) with its PostgreSQL targets. */
function panelsOf(d: dashboard.Dashboard): dashboard.Panel[] {
  const out: dashboard.Panel[] = [];
  for (const p of d.panels ?? []) {
    if (p.type === 'row') out.push(...(p as dashboard.RowPanel).panels);
    else out.push(p as dashboard.Panel);
  }
  return out;
}

export async function runPanelQueries(db: SqlRunner, options: RunPanelQueriesOptions = {}): Promise<PanelQueriesReport> {
  const ranges = options.ranges ?? defaultRanges(options.now);
  const dashboards = options.dashboards ?? DASHBOARDS.map((make) => make());
  const interval: IntervalOptions = { datasourceTimeInterval: '1m', ...options.interval };
  const variables: VariableRun[] = [];
  const panels: PanelRun[] = [];
  const annotations: AnnotationRun[] = [];

  for (const d of dashboards) {
    const uid = d.uid ?? '';
    const varDefs = (d.templating.list ?? []).filter((v) => v.type === 'query' && isPostgres(v.datasource));
    const multiVariables = varDefs.filter((v) => v.multi || v.includeAll).map((v) => v.name);
    for (const range of ranges) {
      const values: Record<string, VariableValue> = {};
      for (const v of d.templating.list ?? []) {
        if (v.type !== 'custom') continue;
        const current = (v.current?.value ?? '') as VariableValue;
        values[v.name] = options.custom?.[v.name] ?? current;
      }
      const expand = (sql: string) => () =>
        expandMacros(sql, {
          range,
          variables: values,
          multiVariables,
          interval,
          timescaledb: options.timescaledb,
          now: options.now,
        });
      for (const v of varDefs) {
        const sql = typeof v.query === 'string' ? v.query : String(v.query?.rawSql ?? '');
        const res = await run(db, expand(sql));
        const options_ = res.rows.map((r) => String(r.__value ?? Object.values(r)[0]));
        const multi = Boolean(v.multi || v.includeAll);
        // Like a dashboard opened with "All" selected (multi) or the first option (single).
        values[v.name] = multi ? options_ : (options_[0] ?? '');
        variables.push({ dashboardUid: uid, range: range.name, variable: v.name, value: values[v.name]!, ...res });
      }
      for (const a of d.annotations?.list ?? []) {
        const target = a.target as unknown as SqlDataquery | undefined;
        if (!target?.rawSql || !isPostgres(a.datasource)) continue;
        annotations.push({ dashboardUid: uid, range: range.name, name: a.name, ...(await run(db, expand(target.rawSql))) });
      }
      for (const p of panelsOf(d)) {
        for (const t of (p.targets ?? []) as unknown as SqlDataquery[]) {
          if (!isPostgres(t.datasource ?? p.datasource)) continue;
          const res = await run(db, expand(t.rawSql));
          panels.push({
            dashboardUid: uid,
            range: range.name,
            panelId: p.id ?? 0,
            panelTitle: p.title ?? '',
            panelType: p.type,
            refId: t.refId,
            format: t.format,
            ...res,
          });
        }
      }
    }
  }
  return { variables, panels, annotations };
}
