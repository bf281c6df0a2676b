// Collects the catalogue's families from one PostgreSQL instance over one connection that is
// kept open between cycles (reopened when it breaks). Every query is tagged, runs under a
// statement_timeout, and the connection's application_name says who we are.
import pg from 'pg';
import type { InstanceInfo, Row } from '../../../../protocol/index.ts';
import { FAMILY_BY_NAME } from '../../../../protocol/index.ts';
import { CounterState } from '../../state/counters.ts';
import { CATALOG, QUERY_MARKER, sqlFor, type CatalogEntry } from './catalog.ts';
import { MIN_SUPPORTED } from './versions.ts';

export interface InstanceSettings {
  name: string;
  /** libpq-style URL; the role needs no more than pg_monitor. */
  url: string;
  statementTimeoutMs?: number;
}

export interface FamilyError {
  family: string;
  error: string;
}

export interface InstanceCollection {
  info: InstanceInfo;
  rows: Record<string, Row[]>;
  errors: FamilyError[];
}

export class PostgresSource {
  private client: pg.Client | undefined;
  private readonly counters = new Map<string, CounterState>();

  constructor(readonly settings: InstanceSettings) {}

  private async connect(): Promise<pg.Client> {
    if (this.client) return this.client;
    const client = new pg.Client({
      connectionString: this.settings.url,
      application_name: 'pganalytics-collector',
      statement_timeout: this.settings.statementTimeoutMs ?? 10_000,
      connectionTimeoutMillis: 5_000,
    });
    // A broken connection is dropped and reopened on the next cycle.
    client.on('error', () => { if (this.client === client) this.client = undefined; });
    await client.connect();
    this.client = client;
    return client;
  }

  async close(): Promise<void> {
    const c = this.client;
    this.client = undefined;
    await c?.end().catch(() => undefined);
  }

  /**
   * One cycle. Failure to reach the instance is not fatal: it is reported as `up: false` with
   * the error so dashboards show it down. A family that fails is skipped with its error.
   */
  async collect(now: Date, enabled: (family: string) => boolean = () => true): Promise<InstanceCollection> {
    const name = this.settings.name;
    let client: pg.Client;
    let versionNum: number;
    let epoch: string;
    try {
      client = await this.connect();
      const r = await client.query(`${QUERY_MARKER} SELECT current_setting('server_version_num')::int AS v, pg_postmaster_start_time()::text AS started`);
      versionNum = r.rows[0].v;
      epoch = r.rows[0].started;
    } catch (err) {
      await this.close();
      return { info: { name, up: false, error: (err as Error).message.slice(0, 1024) }, rows: {}, errors: [] };
    }
    const info: InstanceInfo = { name, up: true, version_num: versionNum };
    const rows: Record<string, Row[]> = {};
    const errors: FamilyError[] = [];
    if (versionNum < MIN_SUPPORTED) return { info: { ...info, error: `server_version_num ${versionNum} is older than supported` }, rows, errors };
    for (const entry of CATALOG) {
      if (!enabled(entry.family)) continue;
      const sql = sqlFor(entry, versionNum);
      if (!sql) { errors.push({ family: entry.family, error: `no SQL for server_version_num ${versionNum}` }); continue; }
      try {
        const res = await client.query(sql);
        rows[entry.family] = this.toRows(entry, res.rows, now, epoch);
      } catch (err) {
        // Skipped with a reason: one family failing (a timeout, a missing privilege) must not
        // cost the others. A lost connection ends the cycle for this instance.
        errors.push({ family: entry.family, error: (err as Error).message });
        if (!this.client) break;
      }
    }
    return { info, rows, errors };
  }

  private toRows(entry: CatalogEntry, raw: Record<string, unknown>[], now: Date, epoch: string): Row[] {
    const time = now.toISOString();
    let state = this.counters.get(entry.family);
    if (!state) this.counters.set(entry.family, (state = new CounterState()));
    const diffed = entry.counters.length > 0 ? state.diff(raw, now.getTime(), { keys: entry.keys, counters: entry.counters, epoch }) : raw;
    const spec = FAMILY_BY_NAME.get(entry.family)!;
    return diffed.map((r) => {
      const row: Row = { time, instance: this.settings.name };
      for (const c of spec.columns) row[c.name] = normalise(r[c.name], c.type);
      return row;
    });
  }
}

/** pg returns bigint and numeric as strings; the protocol wants JSON numbers. */
function normalise(v: unknown, type: string): unknown {
  if (v === undefined || v === null) return null;
  if ((type === 'bigint' || type === 'int' || type === 'float') && typeof v === 'string') return Number(v);
  if (type === 'timestamptz' && v instanceof Date) return v.toISOString();
  return v;
}
