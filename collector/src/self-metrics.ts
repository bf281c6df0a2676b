// The collector's own metrics: served in Prometheus format on a local port when configured
// ([metrics] listen = "127.0.0.1:9187"; off by default), and summarised as one `collector` row
// in every batch so the backend sees a collector's health even where nobody scrapes it.
import http from 'node:http';
import client from 'prom-client';
import type { Row } from '../../protocol/index.ts';

export class SelfMetrics {
  readonly registry = new client.Registry();
  readonly sourceDuration = new client.Histogram({
    name: 'pga_collector_source_duration_seconds',
    help: 'Time to collect one source (postgres:<instance>, system, logs:<instance>)',
    labelNames: ['source'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });
  readonly familyErrors = new client.Counter({
    name: 'pga_collector_family_errors_total',
    help: 'Families skipped because they failed',
    labelNames: ['family'],
    registers: [this.registry],
  });
  readonly batches = new client.Counter({
    name: 'pga_collector_batches_total',
    help: 'Batch sends by outcome (sent, retried, dead_letter, spool_failed)',
    labelNames: ['outcome'],
    registers: [this.registry],
  });
  readonly spoolBatches = new client.Gauge({
    name: 'pga_collector_spool_batches',
    help: 'Batches waiting in the spool',
    registers: [this.registry],
  });
  readonly spoolBytes = new client.Gauge({
    name: 'pga_collector_spool_bytes',
    help: 'Bytes waiting in the spool',
    registers: [this.registry],
  });
  readonly spoolOldest = new client.Gauge({
    name: 'pga_collector_spool_oldest_seconds',
    help: 'Age of the oldest spooled batch',
    registers: [this.registry],
  });
  readonly spoolDropped = new client.Counter({
    name: 'pga_collector_spool_dropped_total',
    help: 'Batches dropped because the spool was over its size or age limit',
    registers: [this.registry],
  });
  readonly spoolQuarantined = new client.Counter({
    name: 'pga_collector_spool_quarantined_total',
    help: 'Spool files found corrupt and moved aside',
    registers: [this.registry],
  });
  readonly configVersion = new client.Gauge({
    name: 'pga_collector_config_version',
    help: 'Version of the served config in use',
    registers: [this.registry],
  });
  readonly configPulls = new client.Counter({
    name: 'pga_collector_config_pulls_total',
    help: 'Config pulls by result (applied, unchanged, refused, failed)',
    labelNames: ['result'],
    registers: [this.registry],
  });
  readonly logParseErrors = new client.Counter({
    name: 'pga_collector_log_parse_errors_total',
    help: 'Log lines that could not be parsed',
    registers: [this.registry],
  });
  readonly logBytes = new client.Counter({
    name: 'pga_collector_log_bytes_read_total',
    help: 'Bytes of PostgreSQL log read',
    registers: [this.registry],
  });

  private readonly started = Date.now();
  private lastCpu = process.cpuUsage();
  private pending = { sent: 0, failed: 0, dropped: 0, logBytes: 0 };
  private spool = { batches: 0, bytes: 0, oldestAgeSeconds: 0 };

  countBatch(outcome: 'sent' | 'retried' | 'dead_letter' | 'spool_failed'): void {
    this.batches.inc({ outcome });
    if (outcome === 'sent') this.pending.sent++;
    else this.pending.failed++;
  }

  countDropped(n: number): void {
    if (n > 0) {
      this.spoolDropped.inc(n);
      this.pending.dropped += n;
    }
  }
  countLogBytes(n: number): void {
    if (n > 0) {
      this.logBytes.inc(n);
      this.pending.logBytes += n;
    }
  }

  setSpool(s: { batches: number; bytes: number; oldestAgeSeconds: number }): void {
    this.spool = s;
    this.spoolBatches.set(s.batches);
    this.spoolBytes.set(s.bytes);
    this.spoolOldest.set(s.oldestAgeSeconds);
  }

  /** The `collector` family row for the next batch; counts are since the previous row. */
  report(
    time: string,
    extra: { version: string; configVersion: number; cycleMs: number; familyErrors: number; instancesDown: number },
  ): Row {
    const cpu = process.cpuUsage(this.lastCpu);
    this.lastCpu = process.cpuUsage();
    const p = this.pending;
    this.pending = { sent: 0, failed: 0, dropped: 0, logBytes: 0 };
    return {
      time,
      collector_version: extra.version,
      config_version: extra.configVersion,
      uptime_s: (Date.now() - this.started) / 1000,
      cycle_ms: Math.round(extra.cycleMs * 10) / 10,
      family_errors: extra.familyErrors,
      instances_down: extra.instancesDown,
      batches_sent: p.sent,
      batches_failed: p.failed,
      spool_batches: this.spool.batches,
      spool_bytes: this.spool.bytes,
      spool_dropped: p.dropped,
      oldest_spooled_s: Math.round(this.spool.oldestAgeSeconds),
      rss_bytes: process.memoryUsage.rss(),
      cpu_s: (cpu.user + cpu.system) / 1e6,
      log_bytes_read: p.logBytes,
    };
  }

  /** Serves /metrics on host:port; returns the server so the caller can close it. Node's own
   *  metrics (CPU, memory, event loop, GC) are gathered only then: prom-client measures the
   *  event loop with a timer, which at its default 10 ms woke an idle collector 100 times a
   *  second for ~6.5 ms of CPU a second, more than collecting every 60 s costs. */
  serve(listen: string): Promise<http.Server> {
    const m = /^(.*):(\d+)$/.exec(listen);
    if (!m) throw new Error(`[metrics] listen must be host:port, got ${JSON.stringify(listen)}`);
    client.collectDefaultMetrics({ register: this.registry, prefix: 'pga_collector_', eventLoopMonitoringPrecision: 100 });
    const server = http.createServer(async (req, res) => {
      if (req.url !== '/metrics') {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(200, { 'content-type': this.registry.contentType }).end(await this.registry.metrics());
    });
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(Number(m[2]), m[1].replace(/^\[|\]$/g, ''), () => resolve(server));
    });
  }
}
