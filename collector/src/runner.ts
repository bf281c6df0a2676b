// The collector's run loop: collect → spool → send, then wait for the next cycle.
//   - every batch is spooled before it is sent, and removed only after a 2xx;
//   - sending drains the spool oldest first; a failure backs off exponentially with full
//     jitter (or as Retry-After says) and leaves the rest for later;
//   - the served config is pulled every config_pull_seconds and whenever a push response
//     shows a newer version; an invalid one is refused and the last good one kept;
//   - the client certificate is renewed when a third of its lifetime is left.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'smol-toml';
import { servedConfigSchema, type ServedConfig } from '../../protocol/collector-config.ts';
import { Agent } from './agent.ts';
import { encodeBatch } from './transform/batch-columns.ts';
import type { LocalConfig } from './config.ts';
import { loadCredentials } from './credentials.ts';
import { writeFileAtomic } from '../../common/files.ts';
import { BackendClient } from './sender/backend-client.ts';
import { Spool, SpoolCorruptError, type SpoolLimits } from './spool/spool.ts';
import { SelfMetrics } from './self-metrics.ts';
import type http from 'node:http';
import type { Logger } from '../../common/log.ts';
import { errorMessage } from '../../common/errors.ts';

export interface RunnerStatus {
  collector_id: string;
  config_version: number;
  last_cycle_at?: string;
  last_push_at?: string;
  last_push_error?: string;
  spool_batches: number;
  spool_bytes: number;
  spool_dropped: number;
}

/** One cycle in numbers, for a human (npm start prints one line per cycle). */
export interface CycleSummary {
  at: string;
  families: number;
  rows: number;
  errors: number;
  spool_batches: number;
}

const DEFAULT_SPOOL: SpoolLimits = { maxBytes: 512 * 1024 * 1024, maxAgeMs: 72 * 3600_000 };
const BACKOFF_BASE_MS = 1_000;
const BACKOFF_MAX_MS = 60_000; // a returning backend is found within a minute

export class Runner {
  readonly client: BackendClient;
  readonly spool: Spool;
  agent: Agent;
  readonly metrics = new SelfMetrics();
  private metricsServer: http.Server | undefined;
  private served: ServedConfig | undefined;
  private etag: string | undefined;
  private failures = 0;
  private nextSendAt = 0;
  /** Set by a Retry-After: not even a cycle's probe sends before it. */
  private notBefore = 0;
  private stopped = false;
  private cycleTimer: NodeJS.Timeout | undefined;
  private pullTimer: NodeJS.Timeout | undefined;
  private busy: Promise<void> = Promise.resolve();
  readonly status: RunnerStatus;
  /** Called after each cycle has been collected, spooled and (if it could be) sent. */
  onCycle: ((summary: CycleSummary) => void) | undefined;
  private lastCycle: Omit<CycleSummary, 'spool_batches'> | undefined;

  constructor(
    readonly local: LocalConfig,
    private readonly log: Logger,
  ) {
    const stateDir = local.collector.state_dir;
    const creds = loadCredentials(stateDir);
    this.client = new BackendClient(local.backend.url, creds, stateDir);
    this.served = this.loadSavedConfig();
    this.spool = new Spool(join(stateDir, 'spool'), this.spoolLimits());
    this.agent = new Agent(local, creds.collectorId, this.served, this.metrics, this.log);
    this.status = {
      collector_id: creds.collectorId,
      config_version: this.served?.config_version ?? 0,
      spool_batches: 0,
      spool_bytes: 0,
      spool_dropped: 0,
    };
  }

  private get stateDir(): string {
    return this.local.collector.state_dir;
  }

  private loadSavedConfig(): ServedConfig | undefined {
    const path = join(this.stateDir, 'served-config.toml');
    if (!existsSync(path)) return undefined;
    try {
      const cfg = servedConfigSchema.parse(parse(readFileSync(path, 'utf8')));
      this.etag = existsSync(`${path}.etag`) ? readFileSync(`${path}.etag`, 'utf8') : undefined;
      return cfg;
    } catch {
      return undefined; // a damaged copy is ignored: the next pull replaces it
    }
  }

  private spoolLimits(): SpoolLimits {
    const s = this.served?.spool;
    return {
      maxBytes: s?.max_megabytes !== undefined ? s.max_megabytes * 1024 * 1024 : DEFAULT_SPOOL.maxBytes,
      maxAgeMs: s?.max_age_hours !== undefined ? s.max_age_hours * 3600_000 : DEFAULT_SPOOL.maxAgeMs,
    };
  }

  get configVersion(): number {
    return this.served?.config_version ?? 0;
  }
  get intervalMs(): number {
    return (this.served?.collector.interval_seconds ?? this.local.collector.interval_seconds) * 1000;
  }

  /** Pulls the served config; applies it when valid and changed. */
  async pullConfig(): Promise<void> {
    let got;
    try {
      got = await this.client.pullConfig(this.etag);
    } catch (err) {
      this.metrics.configPulls.inc({ result: 'failed' });
      this.log.warn('config pull failed', { error: errorMessage(err) });
      return;
    }
    if (!got) {
      this.metrics.configPulls.inc({ result: 'unchanged' });
      return;
    }
    let cfg: ServedConfig;
    try {
      cfg = servedConfigSchema.parse(parse(got.toml));
    } catch (err) {
      this.metrics.configPulls.inc({ result: 'refused' });
      this.log.error('served config refused, keeping the last good one', { error: errorMessage(err).slice(0, 500) });
      return;
    }
    this.served = cfg;
    this.etag = got.etag;
    const path = join(this.stateDir, 'served-config.toml');
    writeFileAtomic(path, got.toml, 0o600);
    if (got.etag) writeFileAtomic(`${path}.etag`, got.etag, 0o600);
    this.agent.schedule.update(cfg, this.local.collector.interval_seconds);
    this.spool.setLimits(this.spoolLimits());
    this.status.config_version = cfg.config_version;
    this.metrics.configVersion.set(cfg.config_version);
    this.metrics.configPulls.inc({ result: 'applied' });
    this.log.info('config applied', { config_version: cfg.config_version });
  }

  /** Collects one cycle and spools it. If the spool cannot take it (disk full, read-only),
   *  says so, counts it, and sends the batch straight away instead. */
  async collectAndSpool(now = new Date()): Promise<void> {
    this.metrics.setSpool(this.spool.stats(now.getTime()));
    const cycle = await this.agent.collect(now, this.configVersion);
    for (const e of cycle.errors)
      this.log.warn('family skipped', { family: e.family, ...(e.reason ? { reason: e.reason } : {}), error: e.error });
    for (const i of cycle.batch.instances) if (!i.up) this.log.warn('instance down', { instance: i.name, error: i.error });
    const gz = encodeBatch(cycle.batch);
    this.status.last_cycle_at = now.toISOString();
    const counts = [...cycle.rowCounts.values()].filter((n) => n > 0);
    this.lastCycle = {
      at: this.status.last_cycle_at,
      families: counts.length,
      rows: counts.reduce((a, b) => a + b, 0),
      errors: cycle.errors.length,
    };
    const droppedBefore = this.spool.dropped;
    try {
      this.spool.write(cycle.batch.batch_id, gz, now.getTime());
      this.log.debug('batch spooled', { batch_id: cycle.batch.batch_id });
      await cycle.commit();
    } catch (err) {
      this.metrics.countBatch('spool_failed');
      this.log.error('cannot write to the spool; sending this batch without a safety copy', {
        spool: this.spool.dir,
        error: errorMessage(err),
      });
      const outcome = await this.client.push(gz);
      if (outcome.kind === 'accepted') {
        this.metrics.countBatch('sent');
        await cycle.commit();
      } else this.log.error('batch lost: neither spooled nor accepted', { batch_id: cycle.batch.batch_id, reason: outcome.reason });
    }
    const dropped = this.spool.dropped - droppedBefore;
    if (dropped > 0) {
      this.metrics.countDropped(dropped);
      this.log.error('spool over its limit: oldest batches dropped', { dropped, limits: this.spoolLimits() });
    }
  }

  /** Sends spooled batches oldest first until the spool is empty or a send fails. Our own
   *  backoff is skipped when `probe` is set (each collection cycle probes once, so a returning
   *  backend is found within one interval); a Retry-After from the backend always holds. */
  async drain(probe = false): Promise<void> {
    const now = Date.now();
    if (now < this.notBefore || (!probe && now < this.nextSendAt)) return;
    for (const b of this.spool.list()) {
      if (this.stopped) break;
      let body: Buffer;
      try {
        body = this.spool.read(b);
      } catch (err) {
        if (err instanceof SpoolCorruptError) {
          this.metrics.spoolQuarantined.inc();
          this.log.error('corrupt spool file quarantined', { file: b.file, quarantine: this.spool.quarantineDir, error: err.message });
          this.spool.quarantine(b);
        } else {
          this.log.error('cannot read spool file', { file: b.file, error: errorMessage(err) });
        }
        continue;
      }
      const outcome = await this.client.push(body);
      if (outcome.kind === 'accepted') {
        this.metrics.countBatch('sent');
        this.spool.remove(b);
        this.failures = 0;
        this.status.last_push_at = new Date().toISOString();
        this.status.last_push_error = undefined;
        if (outcome.configVersion > this.configVersion) await this.pullConfig();
        continue;
      }
      if (outcome.kind === 'rejected') {
        // Sending it again would fail the same way: keep it aside for a human, go on.
        this.metrics.countBatch('dead_letter');
        this.log.error('batch refused by the backend, moved to dead-letter', { batch_id: b.batchId, reason: outcome.reason });
        this.spool.deadLetter(b, outcome.reason);
        continue;
      }
      this.failures++;
      this.metrics.countBatch('retried');
      const backoff = Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** Math.min(this.failures, 20));
      const wait = outcome.retryAfterMs ?? Math.random() * backoff; // full jitter
      this.nextSendAt = Date.now() + wait;
      this.notBefore = outcome.retryAfterMs !== undefined ? this.nextSendAt : 0;
      this.status.last_push_error = outcome.reason;
      this.log.log(
        outcome.authRefused ? 'error' : 'warn',
        outcome.authRefused ? 'backend refuses our credentials; batches stay spooled' : 'push failed, will retry',
        { reason: outcome.reason, retry_in_ms: Math.round(wait), spooled: this.spool.list().length },
      );
      if (wait > 0)
        setTimeout(() => {
          void this.serial(() => this.drain());
        }, wait).unref();
      break;
    }
    this.writeStatus();
  }

  /** When the next send may happen (epoch ms): after a failure, backoff or Retry-After. */
  get retryAt(): number {
    return this.nextSendAt;
  }

  /** Forgets the current backoff: the next drain sends at once (SIGHUP, tests). */
  retryNow(): void {
    this.nextSendAt = 0;
    this.notBefore = 0;
  }

  /** Renews the client certificate once two thirds of its lifetime have passed. */
  async renewIfDue(now = Date.now()): Promise<void> {
    const v = this.client.certificateValidity();
    if (v.notAfter - now > v.lifetimeMs / 3) return;
    try {
      await this.client.renewCertificate();
      this.log.info('client certificate renewed', { not_after: new Date(this.client.certificateValidity().notAfter).toISOString() });
    } catch (err) {
      this.log.error('certificate renewal failed; will try again next cycle', { error: errorMessage(err) });
    }
  }

  /** SIGHUP: re-read the local config (instances, paths) and pull the served one. */
  async reload(local: LocalConfig): Promise<void> {
    await this.serial(async () => {
      this.retryNow();
      const old = this.agent;
      this.agent = new Agent(local, this.status.collector_id, this.served, this.metrics, this.log);
      await old.close();
      this.log.info('local config reloaded', { instances: local.instances.map((i) => i.name) });
      await this.pullConfig();
    });
  }

  private writeStatus(): void {
    const s = this.spool.stats();
    this.metrics.setSpool(s);
    Object.assign(this.status, { spool_batches: s.batches, spool_bytes: s.bytes, spool_dropped: this.spool.dropped });
    writeFileAtomic(join(this.stateDir, 'status.json'), JSON.stringify(this.status, null, 2), 0o644);
  }

  /** Runs tasks one at a time: a cycle never overlaps a drain. */
  private serial(task: () => Promise<void>): Promise<void> {
    this.busy = this.busy.then(task).catch((err) => {
      this.log.error('task failed', { error: errorMessage(err) });
    });
    return this.busy;
  }

  async start(): Promise<void> {
    if (this.local.metrics.listen) this.metricsServer = await this.metrics.serve(this.local.metrics.listen);
    await this.pullConfig();
    await this.serial(() => this.drain()); // what an earlier run left spooled goes first
    const tick = (): void => {
      if (this.stopped) return;
      void this.serial(async () => {
        await this.collectAndSpool();
        await this.renewIfDue();
        await this.drain(true);
        if (this.onCycle && this.lastCycle) this.onCycle({ ...this.lastCycle, spool_batches: this.spool.list().length });
      });
      this.cycleTimer = setTimeout(tick, this.intervalMs);
    };
    tick();
    const pull = (): void => {
      if (this.stopped) return;
      void this.serial(() => this.pullConfig());
      this.pullTimer = setTimeout(pull, (this.served?.collector.config_pull_seconds ?? 300) * 1000);
    };
    this.pullTimer = setTimeout(pull, (this.served?.collector.config_pull_seconds ?? 300) * 1000);
  }

  /** Finishes the running cycle (its batch is spooled), then stops. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.cycleTimer);
    clearTimeout(this.pullTimer);
    await this.busy;
    await this.agent.close();
    await this.client.close();
    await new Promise<void>((resolve) => (this.metricsServer ? this.metricsServer.close(() => resolve()) : resolve()));
  }
}
