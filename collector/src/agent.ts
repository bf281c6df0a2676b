// One collection cycle, stage by stage: each source reads (PostgreSQL instances, their logs,
// the host) → state/ turns the readings into samples (counters into deltas) → transform/ puts
// them into the batch's columns. The served config decides which families run and how often.
import { randomUUID } from 'node:crypto';
import { FAMILY_BY_NAME, rowsOfColumns, type ColumnBatch, type InstanceInfo, type Row, type ServedConfig } from '../../protocol/index.ts';
import { errorMessage, type CollectError } from './collect-error.ts';
import type { LocalConfig } from './config.ts';
import { PostgresSource } from './sources/postgres/postgres-source.ts';
import { CATALOG_BY_FAMILY } from './sources/postgres/catalog.ts';
import { SystemSource } from './sources/system/index.ts';
import type { SelfMetrics } from './self-metrics.ts';
import type { Logger } from '../../common/log.ts';
import { InstanceLogs } from './sources/logs/instance-logs.ts';
import { HostState } from './state/host-state.ts';
import { InstanceState } from './state/instance-state.ts';
import { BatchColumns } from './transform/batch-columns.ts';

export const COLLECTOR_VERSION = '0.1.0';

export interface Cycle {
  batch: ColumnBatch;
  /** Rows per family collected, 0 for one collected with nothing to send (settings unchanged). */
  rowCounts: ReadonlyMap<string, number>;
  errors: CollectError[];
  /** Persist what this batch consumed (log positions); call once the batch is durable. */
  commit(): Promise<void>;
}

/** The families of a cycle as rows, every family collected included (collector once). */
export function cycleRows(cycle: Cycle): Record<string, Row[]> {
  const out: Record<string, Row[]> = {};
  for (const family of cycle.rowCounts.keys()) {
    const cols = cycle.batch.families[family];
    const spec = FAMILY_BY_NAME.get(family);
    out[family] = !cols ? [] : spec ? rowsOfColumns(spec, cols) : (cols as unknown as Row[]);
  }
  return out;
}

/** Decides whether a family is due on an instance (or on the host, instance = undefined). */
export class Schedule {
  private readonly last = new Map<string, number>();
  constructor(
    private served: ServedConfig | undefined,
    private defaultInterval: number,
  ) {}

  private minimums = true;

  update(served: ServedConfig | undefined, defaultInterval: number): void {
    this.served = served;
    this.defaultInterval = defaultInterval;
  }

  /** Every family due at every cycle, slow ones too (`collector once` prints a second cycle with
   *  everything `run` may send). */
  allDue(): void {
    this.update(undefined, 0);
    this.minimums = false;
  }

  servedLogs(instance: string): NonNullable<ServedConfig['instances'][string]['logs']> | undefined {
    return this.served?.instances[instance]?.logs;
  }

  instanceEnabled(instance: string): boolean {
    return this.served?.instances[instance]?.enabled !== false;
  }

  enabled(instance: string | undefined, family: string): boolean {
    const s = this.served;
    if (!s) return true;
    if (instance !== undefined && !this.instanceEnabled(instance)) return false;
    const inst = instance ? s.instances[instance] : undefined;
    return (inst?.families?.[family]?.enabled ?? s.families[family]?.enabled) !== false;
  }

  /** The family's own setting (served, per instance first), else the instance's or collector's
   *  cycle, but not more often than the family's minIntervalSeconds (the bloat estimates). */
  interval(instance: string | undefined, family: string): number {
    const s = this.served;
    const inst = instance ? s?.instances[instance] : undefined;
    const own = inst?.families?.[family]?.interval_seconds ?? s?.families[family]?.interval_seconds;
    if (own !== undefined) return own;
    const cycle = inst?.interval_seconds ?? s?.collector.interval_seconds ?? this.defaultInterval;
    return this.minimums ? Math.max(cycle, CATALOG_BY_FAMILY.get(family)?.minIntervalSeconds ?? 0) : cycle;
  }

  /** True when enabled and its interval has passed (with a little slack for timer jitter). */
  due(instance: string | undefined, family: string, now: number): boolean {
    if (!this.enabled(instance, family)) return false;
    const key = `${instance ?? ''}\u0000${family}`;
    const prev = this.last.get(key);
    if (prev !== undefined && now - prev < this.interval(instance, family) * 1000 * 0.9) return false;
    this.last.set(key, now);
    return true;
  }
}

/** A PostgreSQL instance: its source and everything its families remember. */
export interface Instance {
  readonly source: PostgresSource;
  readonly state: InstanceState;
}

export function instanceOf(source: PostgresSource): Instance {
  return { source, state: new InstanceState(() => source.limits) };
}

/** An instance through the stages: read → state → columns. */
export async function collectInstance(
  p: Instance,
  now: Date,
  due: (family: string) => boolean,
  out: BatchColumns,
): Promise<{ info: InstanceInfo; errors: CollectError[] }> {
  const reading = await p.source.read(now, p.state, due);
  const time = now.toISOString();
  for (const [family, reading] of p.state.takeReadings()) out.add(family, reading, time, p.source.settings.name);
  return { info: reading.info, errors: reading.errors };
}

/** The host through the stages; `enabled` filters per family and instance. */
export async function collectHost(
  source: SystemSource,
  state: HostState,
  now: Date,
  out: BatchColumns,
  enabled: (instance: string | undefined, family: string) => boolean = () => true,
): Promise<CollectError[]> {
  const reading = await source.read();
  const time = now.toISOString();
  for (const [family, samples] of Object.entries(state.diff(reading))) {
    out.add(
      family,
      samples.filter((s) => enabled(s.instance as string | undefined, family)),
      time,
    );
  }
  return reading.errors;
}

export class Agent {
  readonly postgres: Instance[];
  readonly system: SystemSource;
  readonly host = new HostState();
  readonly schedule: Schedule;
  readonly logs: Map<string, InstanceLogs>;

  /** `log`: where the sources' notices go (said once); without it, a logger of their own. */
  constructor(
    readonly local: LocalConfig,
    readonly collectorId: string,
    served?: ServedConfig,
    private readonly metrics?: SelfMetrics,
    log?: Pick<Logger, 'warn'>,
  ) {
    this.postgres = local.instances.map((i) =>
      instanceOf(
        new PostgresSource({
          name: i.name,
          url: i.url,
          statementTimeoutMs: i.statement_timeout_ms,
          limits: { maxTables: i.max_tables, maxIndexes: i.max_indexes, maxStatements: i.max_statements },
          activitySampleMs: i.activity_sample_seconds * 1000,
          notice: log && ((message, fields) => log.warn(message, fields)),
        }),
      ),
    );
    const paths = local.instances.flatMap((i) =>
      i.data_directory
        ? [
            { role: `${i.name}:data`, path: i.data_directory },
            { role: `${i.name}:wal`, path: `${i.data_directory}/pg_wal` },
          ]
        : [],
    );
    this.system = new SystemSource({
      paths,
      instances: local.instances.filter((i) => i.data_directory).map((i) => ({ name: i.name, dataDir: i.data_directory })),
    });
    this.schedule = new Schedule(served, local.collector.interval_seconds);
    this.logs = new Map(local.instances.filter((i) => i.logs.enabled).map((i) => [i.name, new InstanceLogs(i, local.collector.state_dir)]));
  }

  /** Log rows for each instance; the tailers' positions are committed with the batch. */
  private async collectLogs(up: Set<string>, errors: CollectError[], out: BatchColumns): Promise<Array<() => Promise<void>>> {
    const commits: Array<() => Promise<void>> = [];
    for (const { source } of this.postgres) {
      const name = source.settings.name;
      const logs = this.logs.get(name);
      const served = this.schedule.servedLogs(name);
      if (!logs || served?.enabled === false || !this.schedule.enabled(name, 'pg_log')) continue;
      try {
        const r = await logs.collect(up.has(name) ? source : undefined, served);
        // No log found: said once per instance (and again only if the reason changes).
        const problem = logs.newProblem();
        if (problem) errors.push({ family: 'pg_log', error: `${name}: ${problem}` });
        if (!r) continue;
        out.addRows('pg_log', r.rows);
        if (this.schedule.enabled(name, 'pg_plans')) out.addRows('pg_plans', r.plans);
        commits.push(r.commit);
        this.metrics?.countLogBytes(r.bytesRead);
        if (r.parseErrors > 0) this.metrics?.logParseErrors.inc(r.parseErrors);
      } catch (err) {
        // Skipped with a reason (unreadable directory, odd settings); the other sources go on.
        errors.push({ family: 'pg_log', error: `${name}: ${errorMessage(err)}` });
      }
    }
    return commits;
  }

  async collect(now = new Date(), configVersion = 0): Promise<Cycle> {
    const started = performance.now();
    const t = now.getTime();
    const out = new BatchColumns();
    const errors: CollectError[] = [];
    const timed = async <T>(source: string, fn: () => Promise<T>): Promise<T> => {
      const end = this.metrics?.sourceDuration.startTimer({ source });
      try {
        return await fn();
      } finally {
        end?.();
      }
    };

    const collected = await Promise.all(
      this.postgres.map((p) => {
        const name = p.source.settings.name;
        return !this.schedule.instanceEnabled(name)
          ? undefined
          : timed(`postgres:${name}`, () => collectInstance(p, now, (family) => this.schedule.due(name, family, t), out));
      }),
    );
    const instances = collected.flatMap((c) => (c ? [c.info] : []));
    for (const c of collected) if (c) errors.push(...c.errors);
    const commits = await timed('logs', () => this.collectLogs(new Set(instances.filter((i) => i.up).map((i) => i.name)), errors, out));
    // Host families follow the collection cycle (their rates span the time since the previous
    // cycle, so thinning them by a longer interval would misstate them); they can be disabled.
    errors.push(
      ...(await timed('system', () =>
        collectHost(this.system, this.host, now, out, (instance, family) => this.schedule.enabled(instance, family)),
      )),
    );

    for (const e of errors) this.metrics?.familyErrors.inc({ family: e.family });
    if (this.metrics) {
      out.addRows('collector', [
        this.metrics.report(now.toISOString(), {
          version: COLLECTOR_VERSION,
          configVersion,
          cycleMs: performance.now() - started,
          familyErrors: errors.length,
          instancesDown: instances.filter((i) => !i.up).length,
        }),
      ]);
    }
    const batch = out.finish({
      batch_id: randomUUID(),
      collector_id: this.collectorId,
      collector_version: COLLECTOR_VERSION,
      config_version: configVersion,
      created_at: now.toISOString(),
      hostname: this.local.collector.hostname,
      instances,
    });
    return {
      batch,
      rowCounts: out.rowCounts(),
      errors,
      commit: async () => {
        for (const c of commits) await c();
      },
    };
  }

  async close(): Promise<void> {
    await Promise.all(this.postgres.map((p) => p.source.close()));
  }
}
