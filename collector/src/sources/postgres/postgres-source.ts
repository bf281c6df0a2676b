// Collects the catalogue's families from one PostgreSQL instance over at most two connections:
//   - the instance connection (the configured URL), kept open between cycles and reopened when
//     it breaks: instance-level families and the activity sampler run on it;
//   - the hop connection, for per-database families (tables, indexes, vacuum progress): opened
//     to one database at a time and closed before the next, so nothing stays open in databases
//     between cycles and the instance never sees more than two of our sessions.
// Every query is tagged with QUERY_MARKER, runs under statement_timeout, and both connections
// say application_name = pganalytics-collector. A family that fails is skipped with a
// FamilyError (logged by the runner, counted in errorCounts); the cycle goes on.
import pg from 'pg';
import QueryStream from 'pg-query-stream';
import type { ColumnSpec, InstanceInfo, Row } from '../../../../protocol/index.ts';
import { FAMILY_BY_NAME } from '../../../../protocol/families/index.ts';
import { STATEMENT_TEXT_MAX } from '../../../../protocol/families/pg-statement-texts.ts';
import { CounterState, toNumber, type DiffOptions, type Sample } from '../../state/counters.ts';
import { ActivityWindow } from '../../state/activity-window.ts';
import { SlowColumns } from '../../state/slow-columns.ts';
import {
  CATALOG, CATALOG_BY_FAMILY, DEFAULT_LIMITS, QUERY_MARKER, firstVersion, pickSql, rowsOf, sqlFor, type CatalogEntry, type CollectLimits,
} from './catalog.ts';
import { createLogger } from '../../../../common/log.ts';
import { errorMessage, familyError, type FamilyError } from './errors.ts';
import { MIN_SUPPORTED } from './versions.ts';
import { COLLECTOR_TYPES, jsonTimestamp } from './pg-types.ts';

export type { FamilyError } from './errors.ts';

export const APPLICATION_NAME = 'pganalytics-collector';
const DEFAULT_STATEMENT_TIMEOUT_MS = 10_000;
const CONNECT_TIMEOUT_MS = 5_000;
const DEFAULT_ACTIVITY_SAMPLE_MS = 10_000;
/** A statement's text is sent again after this long, so it outlives the table's retention. */
const TEXT_RESEND_MS = 24 * 3600_000;
const MAX_REMEMBERED_TEXTS = 100_000;
/** pg_stat_statements rows read at a time: ~0.35 MB of row objects, young garbage for V8. */
const STATEMENT_CHUNK = 500;

export interface InstanceSettings {
  name: string;
  /** libpq-style URL; the role needs no more than pg_monitor. */
  url: string;
  statementTimeoutMs?: number;
  /** Caps per cycle (tables and indexes per database, statements per instance). */
  limits?: Partial<CollectLimits>;
  /** How often pg_activity and pg_blocking are sampled within an interval. */
  activitySampleMs?: number;
  /** Where what is said once goes (a family this server is too old for); the collector's log
   *  unless given. */
  notice?: (message: string, fields: Record<string, unknown>) => void;
}

export interface InstanceCollection {
  info: InstanceInfo;
  rows: Record<string, Row[]>;
  errors: FamilyError[];
}

type Db = Pick<pg.Client, 'query'>;

export class PostgresSource {
  private client: pg.Client | undefined;
  private readonly counters = new Map<string, CounterState>();
  private readonly slow = new Map<string, SlowColumns>();
  private cycle = 0;
  private readonly window = new ActivityWindow();
  private readonly sampled = new Set<string>();
  private sampler: NodeJS.Timeout | undefined;
  private inFlight: Promise<FamilyError[]> | undefined;
  private versionNum = 0;
  private lastSettings: string | undefined;
  private readonly textsSent = new Map<string, number>();
  /** Families already said to be too new for this server. */
  private readonly tooNew = new Set<string>();
  readonly limits: CollectLimits;
  /** Failures per family since start (a family skipped in a cycle counts once per database). */
  readonly errorCounts = new Map<string, number>();

  constructor(readonly settings: InstanceSettings) {
    this.limits = { ...DEFAULT_LIMITS, ...settings.limits };
  }

  private clientConfig(url: string): pg.ClientConfig {
    return {
      connectionString: url,
      application_name: APPLICATION_NAME,
      statement_timeout: this.settings.statementTimeoutMs ?? DEFAULT_STATEMENT_TIMEOUT_MS,
      connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
      types: COLLECTOR_TYPES,
    };
  }

  private async connect(): Promise<pg.Client> {
    if (this.client) return this.client;
    const client = new pg.Client(this.clientConfig(this.settings.url));
    // A broken connection is dropped and reopened on the next cycle.
    client.on('error', () => { if (this.client === client) this.client = undefined; });
    await client.connect();
    this.client = client;
    return client;
  }

  /** One query on the instance connection, for other sources of the same instance (logs). */
  async query(sql: string): Promise<{ rows: Array<Record<string, unknown>> }> {
    return (await this.connect()).query(`${QUERY_MARKER} ${sql}`);
  }

  /** Forgets what was sent, so the next cycle sends settings and statement texts as a first
   *  cycle does (`collector once` prints its second cycle and must show what `run` sends). */
  forgetSent(): void {
    this.lastSettings = undefined;
    this.textsSent.clear();
  }

  async close(): Promise<void> {
    clearInterval(this.sampler);
    this.sampler = undefined;
    const c = this.client;
    this.client = undefined;
    await c?.end().catch(() => undefined);
  }

  /**
   * One cycle. `enabled` is asked once per family (the agent's Schedule: enabled and due).
   * Failure to reach the instance is not fatal: it is reported as `up: false` with the error,
   * and a pg_instance row says so, so dashboards show it down; the next cycle reconnects.
   */
  async collect(now: Date, enabled: (family: string) => boolean = () => true): Promise<InstanceCollection> {
    const name = this.settings.name;
    this.cycle++;
    const due = new Set(CATALOG.filter((e) => enabled(e.family)).map((e) => e.family));
    const rows: Record<string, Row[]> = {};
    const errors: FamilyError[] = [];
    let client: pg.Client;
    let epoch: string;
    try {
      client = await this.connect();
      const r = await client.query(`${QUERY_MARKER} SELECT current_setting('server_version_num')::int AS v, pg_postmaster_start_time()::text AS started`);
      this.versionNum = r.rows[0].v;
      epoch = r.rows[0].started;
    } catch (err) {
      await this.close();
      const error = errorMessage(err).slice(0, 1024);
      if (due.has('pg_instance')) rows.pg_instance = [{ time: now.toISOString(), instance: name, ...downRow(error) }];
      return { info: { name, up: false, error }, rows, errors };
    }
    const versionNum = this.versionNum;
    const info: InstanceInfo = { name, up: true, version_num: versionNum };
    if (versionNum < MIN_SUPPORTED) return { info: { ...info, error: `server_version_num ${versionNum} is older than supported` }, rows, errors };

    const fail = (e: FamilyError): void => {
      errors.push(e);
      this.errorCounts.set(e.family, (this.errorCounts.get(e.family) ?? 0) + 1);
    };
    const emit = (entry: CatalogEntry, raw: readonly Sample[]): void => { rows[entry.family] = this.toRows(entry, raw, now); };
    const extensions = await this.extensions(client, due).catch(() => new Set<string>());
    let statementIds: string[] = [];

    for (const entry of CATALOG) {
      if (entry.scope !== 'instance' || !due.has(entry.family) || entry.kind === 'sampled') continue;
      const sql = sqlFor(entry, versionNum);
      if (!sql) {
        // Not an error: a family that starts at a later major (pg_stat_io, PG16) is skipped on
        // older servers, with nothing to send, and said once per source.
        if (!this.tooNew.has(entry.family)) {
          this.tooNew.add(entry.family);
          (this.settings.notice ?? defaultNotice)('family not collected: the server is older than its first version',
            { instance: name, family: entry.family, server_version_num: versionNum, first_version_num: firstVersion(entry) });
        }
        emit(entry, []);
        continue;
      }
      if (entry.requiresExtension && !extensions.has(entry.requiresExtension)) {
        fail({ family: entry.family, reason: 'ExtensionMissing', error: `${entry.requiresExtension} is not installed in the monitored database (CREATE EXTENSION ${entry.requiresExtension})` });
        continue;
      }
      try {
        switch (entry.kind) {
          case 'snapshot':
            emit(entry, this.diff(entry, await this.select(client, '', entry, sql), now, epoch));
            break;
          case 'on-change': {
            const raw = rowsOf(entry, await client.query(sql));
            const fingerprint = JSON.stringify(raw);
            // Unchanged: an empty list, so the family shows as collected with nothing to send.
            emit(entry, fingerprint === this.lastSettings ? [] : raw);
            this.lastSettings = fingerprint;
            break;
          }
          case 'top-statements': {
            const top = await this.topStatements(client, entry, sql, now, epoch);
            statementIds = top.map((r) => String(r.queryid));
            emit(entry, top);
            break;
          }
          case 'statement-texts': {
            const at = now.getTime();
            const wanted = [...new Set(statementIds)].filter((id) => !(at - (this.textsSent.get(id) ?? -Infinity) < TEXT_RESEND_MS));
            if (wanted.length === 0) { emit(entry, []); break; }
            const texts = rowsOf(entry, await client.query(sql, [wanted, STATEMENT_TEXT_MAX]));
            if (this.textsSent.size > MAX_REMEMBERED_TEXTS) this.textsSent.clear();
            for (const t of texts) this.textsSent.set(String(t.queryid), at);
            emit(entry, texts);
            break;
          }
        }
      } catch (err) {
        // Skipped with a reason: one family failing (a timeout, a missing privilege) must not
        // cost the others. A lost connection ends the cycle for this instance.
        fail(familyError(entry.family, err));
        if (!this.client) break;
      }
    }

    // Sampled families: one last sample now, then the interval's aggregate.
    const sampledDue = CATALOG.filter((e) => e.kind === 'sampled' && due.has(e.family));
    if (sampledDue.length > 0 && this.client) {
      for (const e of sampledDue) this.sampled.add(e.family);
      for (const e of await this.sample()) fail(e);
      for (const e of sampledDue) {
        const drained = e.family === 'pg_activity' ? this.window.drainActivity() : this.window.drainBlocking();
        emit(e, drained);
      }
      this.startSampler();
    }

    const perDatabase = CATALOG.filter((e) => e.scope === 'database' && due.has(e.family));
    if (perDatabase.length > 0 && this.client) {
      const raw = await this.collectDatabases(client, perDatabase, fail);
      for (const e of perDatabase) if (raw.has(e.family)) emit(e, this.diff(e, raw.get(e.family)!, now, epoch));
    }
    return { info, rows, errors };
  }

  /** Extensions installed in the connected database, asked only when a due family needs one. */
  private async extensions(client: Db, due: ReadonlySet<string>): Promise<Set<string>> {
    if (!CATALOG.some((e) => e.requiresExtension && due.has(e.family))) return new Set();
    const r = await client.query(`${QUERY_MARKER} SELECT extname FROM pg_extension`);
    return new Set(r.rows.map((x) => String(x.extname)));
  }

  /** Runs the per-database families in every database the role may connect to, one at a time. */
  private async collectDatabases(client: Db, entries: readonly CatalogEntry[], fail: (e: FamilyError) => void): Promise<Map<string, Sample[]>> {
    const out = new Map<string, Sample[]>();
    const dbs = (await client.query(`${QUERY_MARKER} SELECT datname FROM pg_database
      WHERE datallowconn AND NOT datistemplate AND has_database_privilege(oid, 'CONNECT') ORDER BY datname`)).rows.map((r) => String(r.datname));
    for (const db of dbs) {
      let hop: pg.Client | undefined;
      try {
        hop = new pg.Client(this.clientConfig(databaseUrl(this.settings.url, db)));
        hop.on('error', () => undefined); // surfaces as the failing query's error
        await hop.connect();
      } catch (err) {
        // Skipped: a database dropped since the listing, or one that refuses us, costs only itself.
        for (const e of entries) fail(familyError(e.family, err, { database: db, reason: 'DatabaseUnreachable' }));
        await hop?.end().catch(() => undefined);
        continue;
      }
      try {
        for (const entry of entries) {
          const sql = sqlFor(entry, this.versionNum);
          if (!sql) { fail({ family: entry.family, reason: 'NoSqlForVersion', error: `no SQL for server_version_num ${this.versionNum}` }); continue; }
          try {
            const rows = await this.select(hop, db, entry, sql);
            const list = out.get(entry.family) ?? [];
            for (const r of rows) list.push(r);
            out.set(entry.family, list);
          } catch (err) {
            fail(familyError(entry.family, err, { database: db }));
          }
        }
      } finally {
        await hop.end().catch(() => undefined);
      }
    }
    return out;
  }

  /** An entry's rows in the connected database: its selection first when it has one (the ids
   *  are $1), and for slow columns the ids due for a new measurement ($2); the other rows get
   *  their last measurement. */
  private async select(client: Db, db: string, entry: CatalogEntry, sql: string): Promise<Sample[]> {
    if (!entry.selection) return rowsOf(entry, await client.query(sql));
    const { limit } = entry.selection;
    const sel = await client.query(pickSql(entry.selection.sql, this.versionNum)!, limit ? [this.limits[limit]] : []);
    const ids: unknown[] = sel.rows[0]?.oids ?? [];
    if (!entry.slow) return rowsOf(entry, await client.query(sql, [ids]));
    const slow = this.slowColumns(entry);
    const measured = new Set(slow.due(db, ids.map(String), this.cycle));
    const rows = rowsOf(entry, await client.query(sql, [ids, [...measured]]));
    slow.fill(db, rows, entry.slow.idColumn, measured, this.cycle);
    return rows;
  }

  private slowColumns(entry: CatalogEntry): SlowColumns {
    let s = this.slow.get(entry.family);
    if (!s) this.slow.set(entry.family, (s = new SlowColumns(entry.slow!.columns, entry.slow!.refreshCycles)));
    return s;
  }

  /** Takes one sample of each sampled family in use (after any sample in flight); returns what failed. */
  private async sample(): Promise<FamilyError[]> {
    await this.inFlight;
    const run = this.sampleOnce();
    this.inFlight = run;
    return run;
  }

  private async sampleOnce(): Promise<FamilyError[]> {
    const client = this.client;
    if (!client) return [];
    const errors: FamilyError[] = [];
    for (const family of this.sampled) {
      const entry = CATALOG_BY_FAMILY.get(family)!;
      const sql = sqlFor(entry, this.versionNum);
      if (!sql) { errors.push({ family, reason: 'NoSqlForVersion', error: `no SQL for server_version_num ${this.versionNum}` }); continue; }
      try {
        const rows = rowsOf(entry, await client.query(sql));
        if (family === 'pg_activity') this.window.addActivity(rows);
        else this.window.addBlocking(rows);
      } catch (err) {
        errors.push(familyError(family, err));
      }
    }
    return errors;
  }

  /** Background samples between cycles; failures there are not reported (the cycle's own sample is). */
  private startSampler(): void {
    if (this.sampler) return;
    const every = this.settings.activitySampleMs ?? DEFAULT_ACTIVITY_SAMPLE_MS;
    this.sampler = setInterval(() => { void this.sample().catch(() => undefined); }, every);
    this.sampler.unref();
  }

  private counterState(entry: CatalogEntry): CounterState {
    let state = this.counters.get(entry.family);
    if (!state) this.counters.set(entry.family, (state = new CounterState()));
    return state;
  }

  /** Diffs the query's rows in place (see CounterState.diff). */
  private diff(entry: CatalogEntry, raw: Sample[], now: Date, epoch: string): Sample[] {
    if (entry.counters.length === 0) return raw;
    return this.counterState(entry).diff(raw, now.getTime(), diffOptions(entry, epoch));
  }

  /** The statements that ran in the interval, most execution time first, at most maxStatements.
   *  pg_stat_statements holds up to pg_stat_statements.max entries (5,000 by default): they come
   *  from a cursor STATEMENT_CHUNK at a time and are diffed as they come, so the cycle holds one
   *  chunk and the leaders, not every entry. Read as one result, ~3.5 MB of row objects lived
   *  long enough for V8 to move them to its old space each cycle, and that set the peak RSS. */
  private async topStatements(client: Db, entry: CatalogEntry, sql: string, now: Date, epoch: string): Promise<Sample[]> {
    const max = this.limits.maxStatements;
    const byTime = (a: Sample, b: Sample): number => (toNumber(b.total_exec_time_ms) ?? 0) - (toNumber(a.total_exec_time_ms) ?? 0);
    const state = this.counterState(entry);
    state.begin(now.getTime(), diffOptions(entry, epoch));
    const ran: Sample[] = [];
    for await (const row of client.query(new QueryStream(sql, [], { batchSize: STATEMENT_CHUNK })) as AsyncIterable<Sample>) {
      state.row(row);
      if (!((toNumber(row.calls) ?? 0) > 0)) continue;
      ran.push(row);
      if (ran.length > 2 * max) { ran.sort(byTime); ran.length = max; }
    }
    state.end();
    return ran.sort(byTime).slice(0, max)
      .map((r) => ({ ...r, mean_exec_time_ms: Math.round(((toNumber(r.total_exec_time_ms) ?? 0) / toNumber(r.calls)!) * 1000) / 1000 }));
  }

  private toRows(entry: CatalogEntry, raw: readonly Sample[], now: Date): Row[] {
    const time = now.toISOString();
    const { columns } = FAMILY_BY_NAME.get(entry.family)!;
    // Copies of one object holding every column (made by fromEntries, so V8 keeps it a fast
    // object): a row is one allocation. Adding ~40 properties one by one had turned every row
    // into a hash table, ~1.6 kB each.
    const template: Row = Object.fromEntries([['time', time], ['instance', this.settings.name], ...columns.map((c) => [c.name, null])]);
    return raw.map((r) => {
      const row = { ...template };
      for (const c of columns) row[c.name] = normalise(r[c.name], c);
      return row;
    });
  }
}

let noticeLog: ReturnType<typeof createLogger> | undefined;
function defaultNotice(message: string, fields: Record<string, unknown>): void {
  (noticeLog ??= createLogger('collector')).warn(message, fields);
}

function diffOptions(entry: CatalogEntry, epoch: string): DiffOptions {
  return { keys: entry.keys, counters: entry.counters, epoch, newSeriesFromZero: entry.newSeriesFromZero };
}

function downRow(error: string): Sample {
  return { up: false, error, version: null, version_num: null, uptime_s: null, is_in_recovery: null, max_connections: null, connections: null };
}

/** The instance URL pointed at another database (same host, role and options). */
export function databaseUrl(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${encodeURIComponent(database)}`;
  return u.toString();
}

/** The protocol wants JSON numbers and bounded text. Rows that come as JSON (sqlFor) have
 *  numbers that are not finite as strings ("NaN"), and timestamps in PostgreSQL's JSON form
 *  (jsonTimestamp); rows that come as rows have them from pg-types.ts already. */
function normalise(v: unknown, c: ColumnSpec): unknown {
  if (v === undefined || v === null) return null;
  if ((c.type === 'bigint' || c.type === 'int' || c.type === 'float') && typeof v === 'string') return Number(v);
  if (c.type === 'timestamptz' && typeof v === 'string') return jsonTimestamp(v);
  if (c.type === 'text') {
    const s = String(v);
    const max = c.maxLength ?? 256;
    return s.length > max ? s.slice(0, max) : s;
  }
  return v;
}
