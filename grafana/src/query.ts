// The foundation SDK has no PostgreSQL query builder; this is the small one GRAFANA-SQL.md asks for.
import type * as cog from '@grafana/grafana-foundation-sdk/cog';
import type { DataSourceRef } from '@grafana/grafana-foundation-sdk/common';
import { POSTGRES_DATASOURCE } from './datasources.ts';

export type SqlFormat = 'time_series' | 'table';

/** A panel target of the grafana-postgresql-datasource, as stored in dashboard JSON. */
export interface SqlDataquery extends cog.Dataquery {
  refId: string;
  datasource: DataSourceRef;
  rawSql: string;
  format: SqlFormat;
  rawQuery: true;
  editorMode: 'code';
}

export class SqlQueryBuilder implements cog.Builder<cog.Dataquery> {
  private readonly internal: Omit<SqlDataquery, '_implementsDataqueryVariant'>;

  constructor(rawSql: string, format: SqlFormat = 'time_series') {
    this.internal = { refId: 'A', datasource: { ...POSTGRES_DATASOURCE }, rawSql, format, rawQuery: true, editorMode: 'code' };
  }

  refId(refId: string): this {
    this.internal.refId = refId;
    return this;
  }

  format(format: SqlFormat): this {
    this.internal.format = format;
    return this;
  }

  build(): SqlDataquery {
    // Dataquery is a marker interface; the method must exist at runtime but stays out of the JSON.
    const q = { ...this.internal } as SqlDataquery;
    Object.defineProperty(q, '_implementsDataqueryVariant', { value: () => undefined, enumerable: false });
    return q;
  }
}
