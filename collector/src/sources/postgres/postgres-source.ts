// Collects the catalogue's families from one PostgreSQL instance:
//   - the instance connection (the configured URL), kept open between cycles and reopened when
//     it breaks: instance-level families and the activity sampler run on it, and the
//     per-database families of its own database;
//   - one session per other database for the per-database families (tables, indexes, vacuum
//     progress, bloat), kept open between cycles too, at most MAX_DATABASE_SESSIONS of them;
//     closed when its database is no longer listed (dropped, or no longer connectable) and
//     reopened when it breaks. A session opened each cycle started with cold caches: measuring
//     the sizes of 2,000 tables and 4,000 indexes built their relations' cache entries again
//     (a fifth of the server's CPU for those reads). Databases past the bound get a session
//     for the cycle only, as every database did before.
// Every query is tagged with QUERY_MARKER (catalog.ts tagged), runs under statement_timeout, and
// every session says application_name = pganalytics-collector. A family that fails is skipped with a
// CollectError (logged by the runner, counted in errorCounts); the cycle goes on.
// The source only reads: what it reads goes, as it comes, into the instance's state
// (state/instance-state.ts), which owns every earlier reading (counters, fingerprints, texts
// sent, slow columns) and gives the samples to send.
import pg from 'pg';
import type { InstanceInfo } from '../../../../protocol/index.ts';
import { STATEMENT_TEXT_MAX } from '../../../../protocol/families/pg-statement-texts.ts';
import type { InstanceState } from '../../state/instance-state.ts';
import type { Reading, Sample } from '../../state/sample.ts';
import {
  CATALOG,
  DEFAULT_LIMITS,
  tagged,
  firstVersion,
  pickSql,
  readingOf,
  sqlFor,
  type CatalogEntry,
  type CollectLimits,
} from './catalog.ts';
import { familyError } from './errors.ts';
import { errorMessage, type CollectError } from '../../collect-error.ts';
import { createLogger } from '../../../../common/log.ts';
import { MIN_SUPPORTED } from './versions.ts';
import { COLLECTOR_TYPES } from './pg-types.ts';

export const APPLICATION_NAME = 'pganalytics-collector';
const DEFAULT_STATEMENT_TIMEOUT_MS = 10_000;
const CONNECT_TIMEOUT_MS = 5_000;
const DEFAULT_ACTIVITY_SAMPLE_MS = 10_000;
/** Background samples kept per family until the next cycle takes them (a cycle far longer than
 *  the sampling period, or none at all while the instance is disabled). */
const MAX_PENDING_SAMPLES = 720;
/** Per-database sessions kept open between cycles. Each is an idle backend on the server (a
 *  connection slot, and its caches: DEPLOYMENT.md "Sizing" has what one cost there). */
export const MAX_DATABASE_SESSIONS = 10;

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

/** What one cycle read from an instance besides the rows, which went into its state. */
export interface InstanceReading {
  info: InstanceInfo;
  errors: CollectError[];
}

type Db = Pick<pg.Client, 'query'>;

export class PostgresSource {
  private client: pg.Client | undefined;
  private sampler: NodeJS.Timeout | undefined;
  private inFlight: Promise<CollectError[]> | undefined;
  private versionNum = 0;
  /** The instance connection's database: its per-database families are read on it. */
  private database = '';
  /** Sessions kept open in the other databases, by name. */
  private readonly sessions = new Map<string, pg.Client>();
  /** Sampled families the sampler reads, and its samples since the last cycle took them. */
  private readonly pending = new Map<CatalogEntry, Reading[]>();
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
    client.on('error', () => {
      if (this.client === client) this.client = undefined;
    });
    await client.connect();
    this.client = client;
    return client;
  }

  /** One query on the instance connection, for other sources of the same instance (logs). */
  async query(sql: string): Promise<{ rows: Array<Record<string, unknown>> }> {
    return (await this.connect()).query(tagged(sql));
  }

  /** A session in another database; errors surface as the failing query's error. */
  private async open(database: string): Promise<pg.Client> {
    const c = new pg.Client(this.clientConfig(databaseUrl(this.settings.url, database)));
    c.on('error', () => undefined);
    try {
      await c.connect();
    } catch (err) {
      await c.end().catch(() => undefined);
      throw err;
    }
    return c;
  }

  /** The kept session in a database, opened (and kept while fewer than MAX_DATABASE_SESSIONS
   *  are) when there is none; `kept` false: the caller ends it after the cycle. A kept session
   *  the server ends (idle_session_timeout, a restart, pg_terminate_backend) is forgotten, and
   *  the next cycle opens another. */
  private async session(database: string): Promise<{ client: pg.Client; kept: boolean }> {
    const had = this.sessions.get(database);
    if (had) return { client: had, kept: true };
    const client = await this.open(database);
    if (this.sessions.size >= MAX_DATABASE_SESSIONS) return { client, kept: false };
    this.sessions.set(database, client);
    const forget = (): void => {
      if (this.sessions.get(database) === client) this.sessions.delete(database);
    };
    client.on('error', forget);
    client.on('end', forget);
    return { client, kept: true };
  }

  private async endSession(database: string): Promise<void> {
    const c = this.sessions.get(database);
    this.sessions.delete(database);
    await c?.end().catch(() => undefined);
  }

  async close(): Promise<void> {
    clearInterval(this.sampler);
    this.sampler = undefined;
    const c = this.client;
    this.client = undefined;
    await Promise.all([c?.end().catch(() => undefined), ...[...this.sessions.keys()].map((db) => this.endSession(db))]);
  }

  /**
   * Reads one cycle into `state`. `enabled` is asked once per family (the agent's Schedule:
   * enabled and due). Failure to reach the instance is not fatal: it is reported as `up: false`
   * with the error, and a pg_instance row says so, so dashboards show it down; the next cycle
   * reconnects.
   */
  async read(now: Date, state: InstanceState, enabled: (family: string) => boolean = () => true): Promise<InstanceReading> {
    const name = this.settings.name;
    const at = now.getTime();
    state.nextCycle();
    const due = CATALOG.filter((e) => enabled(e.family));
    const errors: CollectError[] = [];
    const into = (entry: CatalogEntry, rows: Reading, epoch = ''): void => {
      const s = state.of(entry);
      s.begin(at, epoch);
      s.add(rows);
      state.finish(entry);
    };
    let client: pg.Client;
    let epoch: string;
    try {
      client = await this.connect();
      const r = await client.query(
        tagged(`SELECT current_setting('server_version_num')::int AS v, pg_postmaster_start_time()::text AS started,
         current_database() AS db`),
      );
      this.versionNum = r.rows[0].v;
      this.database = r.rows[0].db;
      epoch = r.rows[0].started;
    } catch (err) {
      await this.close();
      const error = errorMessage(err).slice(0, 1024);
      const instance = due.find((e) => e.family === 'pg_instance');
      if (instance) into(instance, [downRow(error)]);
      return { info: { name, up: false, error }, errors };
    }
    const versionNum = this.versionNum;
    const info: InstanceInfo = { name, up: true, version_num: versionNum };
    if (versionNum < MIN_SUPPORTED) return { info: { ...info, error: `server_version_num ${versionNum} is older than supported` }, errors };

    const fail = (e: CollectError): void => {
      errors.push(e);
      this.errorCounts.set(e.family, (this.errorCounts.get(e.family) ?? 0) + 1);
    };
    const extensions = await this.extensions(client, due).catch(() => new Set<string>());

    for (const entry of due) {
      if (entry.scope !== 'instance' || entry.kind === 'sampled') continue;
      const sql = sqlFor(entry, versionNum);
      if (!sql) {
        // Not an error: a family that starts at a later major (pg_stat_io, PG16) is skipped on
        // older servers, with nothing to send, and said once per source.
        if (!this.tooNew.has(entry.family)) {
          this.tooNew.add(entry.family);
          (this.settings.notice ?? defaultNotice)('family not collected: the server is older than its first version', {
            instance: name,
            family: entry.family,
            server_version_num: versionNum,
            first_version_num: firstVersion(entry),
          });
        }
        into(entry, [], epoch);
        continue;
      }
      if (entry.requiresExtension && !extensions.has(entry.requiresExtension)) {
        fail({
          family: entry.family,
          reason: 'ExtensionMissing',
          error: `${entry.requiresExtension} is not installed in the monitored database (CREATE EXTENSION ${entry.requiresExtension})`,
        });
        continue;
      }
      try {
        switch (entry.kind) {
          case 'top-statements':
            into(entry, readingOf(entry, await client.query(sql, state.statements(entry).unchanged(epoch))), epoch);
            break;
          case 'statement-texts': {
            const wanted = state.texts(entry).wanted(at);
            into(entry, wanted.length === 0 ? [] : readingOf(entry, await client.query(sql, [wanted, STATEMENT_TEXT_MAX])), epoch);
            break;
          }
          default:
            into(entry, await this.select(client, '', entry, sql, state), epoch);
        }
      } catch (err) {
        // Skipped with a reason: one family failing (a timeout, a missing privilege) must not
        // cost the others. A lost connection ends the cycle for this instance.
        fail(familyError(entry.family, err));
        if (!this.client) break;
      }
    }

    // Sampled families: one last sample now, then the interval's samples go to the state.
    const sampledDue = due.filter((e) => e.kind === 'sampled');
    if (sampledDue.length > 0 && this.client) {
      for (const e of sampledDue) if (!this.pending.has(e)) this.pending.set(e, []);
      for (const e of await this.sample()) fail(e);
      for (const e of sampledDue) {
        const s = state.of(e);
        s.begin(at, epoch);
        for (const rows of this.pending.get(e)!) s.add(rows);
        this.pending.set(e, []);
        state.finish(e);
      }
      this.startSampler();
    }

    const perDatabase = due.filter((e) => e.scope === 'database');
    if (perDatabase.length > 0 && this.client) {
      for (const e of await this.readDatabases(client, perDatabase, state, at, epoch, fail)) state.finish(e);
    }
    return { info, errors };
  }

  /** Extensions installed in the connected database, asked only when a due family needs one. */
  private async extensions(client: Db, due: readonly CatalogEntry[]): Promise<Set<string>> {
    if (!due.some((e) => e.requiresExtension)) return new Set();
    const r = await client.query(tagged('SELECT extname FROM pg_extension'));
    return new Set(r.rows.map((x) => String(x.extname)));
  }

  /** Reads the per-database families in every database the role may connect to, one at a
   *  time; returns those read in at least one database. */
  private async readDatabases(
    client: pg.Client,
    entries: readonly CatalogEntry[],
    state: InstanceState,
    at: number,
    epoch: string,
    fail: (e: CollectError) => void,
  ): Promise<CatalogEntry[]> {
    const read = new Set<CatalogEntry>();
    const dbs = (
      await client.query(
        tagged(`SELECT datname FROM pg_database
      WHERE datallowconn AND NOT datistemplate AND has_database_privilege(oid, 'CONNECT') ORDER BY datname`),
      )
    ).rows.map((r) => String(r.datname));
    for (const e of entries) state.of(e).begin(at, epoch);
    const listed = new Set(dbs);
    for (const db of this.sessions.keys()) if (!listed.has(db)) await this.endSession(db);
    for (const db of dbs) {
      let session: { client: pg.Client; kept: boolean };
      try {
        session = db === this.database ? { client, kept: true } : await this.session(db);
      } catch (err) {
        // Skipped: a database dropped since the listing, or one that refuses us, costs only itself.
        for (const e of entries) fail(familyError(e.family, err, { database: db, reason: 'DatabaseUnreachable' }));
        continue;
      }
      try {
        for (const entry of entries) {
          const sql = sqlFor(entry, this.versionNum);
          if (!sql) {
            fail(noSql(entry, this.versionNum));
            continue;
          }
          try {
            state.of(entry).add(await this.select(session.client, db, entry, sql, state));
            read.add(entry);
          } catch (err) {
            fail(familyError(entry.family, err, { database: db }));
          }
        }
      } finally {
        if (!session.kept) await session.client.end().catch(() => undefined);
      }
    }
    return [...read];
  }

  /** An entry's rows in the connected database: its selection first when it has one (the ids
   *  are $1), and for slow columns the ids not due for a new measurement ($2); those rows get
   *  their last measurement. The ids travel as the array's text, `{1,2,3}`, both ways: as an
   *  oid[] the driver parsed 6,000 of them character by character and wrote them back one by
   *  one (~25 ms of the collector's CPU a cycle at 2,000 tables and 4,000 indexes). */
  private async select(client: Db, db: string, entry: CatalogEntry, sql: string, state: InstanceState): Promise<Reading> {
    if (!entry.selection) return readingOf(entry, await client.query(sql));
    const { limit, whole } = entry.selection;
    const max = limit && this.limits[limit];
    // While the last reading held fewer objects than the limit, the main query reads them all
    // without a selection (at most max + 1 rows: one more means the database outgrew the limit,
    // and the selection picks the biggest again).
    if (whole && max && entry.slow && state.slowColumns({ ...entry, slow: entry.slow }).count(db) < max) {
      const rows = await this.readSelected(client, db, entry, sql, state, null, max + 1);
      if (rows.length <= max) return rows;
    }
    const sel = await client.query(pickSql(entry.selection.sql, this.versionNum)!, max ? [max] : []);
    const ids: string = sel.rows[0]?.oids ?? '{}';
    const selected = ids.length > 2 ? ids.slice(1, -1).split(',') : [];
    return this.readSelected(client, db, entry, sql, state, ids, null, selected);
  }

  /** The main query of a selection: `ids` ($1) the selected ones, or null for every one (at
   *  most `rowLimit`, $3); the slow columns are read for the ids not in $2. */
  private async readSelected(
    client: Db,
    db: string,
    entry: CatalogEntry,
    sql: string,
    state: InstanceState,
    ids: string | null,
    rowLimit: number | null,
    selected?: readonly string[],
  ): Promise<Reading> {
    if (!entry.slow) return readingOf(entry, await client.query(sql, [ids]));
    const slow = state.slowColumns({ ...entry, slow: entry.slow });
    const candidates = selected ?? slow.known(db);
    const due = new Set(slow.due(db, candidates, state.cycle));
    const fresh = candidates.filter((id) => !due.has(id));
    const params = [ids, `{${fresh.join(',')}}`, ...(entry.selection?.whole ? [rowLimit] : [])];
    const rows = readingOf(entry, await client.query(sql, params));
    slow.fill(db, rows, entry.slow.idColumn, due, state.cycle);
    return rows;
  }

  /** Takes one sample of each sampled family in use (after any sample in flight); returns what failed. */
  private async sample(): Promise<CollectError[]> {
    await this.inFlight;
    const run = this.sampleOnce();
    this.inFlight = run;
    return run;
  }

  private async sampleOnce(): Promise<CollectError[]> {
    const client = this.client;
    if (!client) return [];
    const errors: CollectError[] = [];
    for (const [entry, samples] of this.pending) {
      const sql = sqlFor(entry, this.versionNum);
      if (!sql) {
        errors.push(noSql(entry, this.versionNum));
        continue;
      }
      try {
        samples.push(readingOf(entry, await client.query(sql)));
        if (samples.length > MAX_PENDING_SAMPLES) samples.shift();
      } catch (err) {
        errors.push(familyError(entry.family, err));
      }
    }
    return errors;
  }

  /** Background samples between cycles; failures there are not reported (the cycle's own sample is). */
  private startSampler(): void {
    if (this.sampler) return;
    const every = this.settings.activitySampleMs ?? DEFAULT_ACTIVITY_SAMPLE_MS;
    this.sampler = setInterval(() => {
      void this.sample().catch(() => undefined);
    }, every);
    this.sampler.unref();
  }
}

function noSql(entry: CatalogEntry, versionNum: number): CollectError {
  return { family: entry.family, reason: 'NoSqlForVersion', error: `no SQL for server_version_num ${versionNum}` };
}

let noticeLog: ReturnType<typeof createLogger> | undefined;
function defaultNotice(message: string, fields: Record<string, unknown>): void {
  noticeLog ??= createLogger('collector');
  noticeLog.warn(message, fields);
}

function downRow(error: string): Sample {
  return {
    up: false,
    error,
    version: null,
    version_num: null,
    uptime_s: null,
    is_in_recovery: null,
    max_connections: null,
    connections: null,
  };
}

/** The instance URL pointed at another database (same host, role and options). */
export function databaseUrl(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${encodeURIComponent(database)}`;
  return u.toString();
}
