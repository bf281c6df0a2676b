// The collector's local configuration: one TOML file (/etc/pganalytics/collector.toml by
// default, --config overrides) plus PGA_* environment overrides. It holds what must stay on
// the host (connection strings, paths); what to collect and how often comes from the backend.
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { parse } from 'smol-toml';
import { z } from 'zod';
import { errorMessage } from '../../common/errors.ts';

export const DEFAULT_CONFIG_PATH = '/etc/pganalytics/collector.toml';

export const LOG_SOURCE_FORMATS = ['stderr', 'csvlog', 'jsonlog', 'syslog'] as const;

const logsSchema = z.strictObject({
  enabled: z.boolean().default(true),
  /** log_directory (absolute); default: the server's own setting. */
  directory: z.string().optional(),
  /** log_filename pattern; default: the server's own setting. */
  filename: z.string().optional(),
  /** Default: jsonlog, else csvlog, else stderr, by the server's log_destination. */
  format: z.enum(LOG_SOURCE_FORMATS).optional(),
  /** log_line_prefix for stderr/syslog; default: the server's own setting. */
  prefix: z.string().optional(),
  /** Replace literals in statements with placeholders (passwords are always removed). */
  redact_literals: z.boolean().default(true),
  /** Without a saved position: read the newest log file from its beginning or its end. */
  start_at: z.enum(['beginning', 'end']).default('beginning'),
  /** At most this much log is read per cycle, so a backlog is worked off in bounded steps. */
  chunk_megabytes: z.number().int().min(1).max(256).default(8),
});

const instanceSchema = z.strictObject({
  name: z
    .string()
    .min(1)
    .max(128)
    .regex(/^[A-Za-z0-9._-]+$/),
  /** postgres://user@host:port/db — the role needs no more than pg_monitor. */
  url: z.string().min(1),
  /** For filesystem usage and process metrics (the data directory and pg_wal). */
  data_directory: z.string().optional(),
  statement_timeout_ms: z.number().int().min(100).max(600_000).default(10_000),
  /** Per-cycle caps: the biggest tables / indexes per database, the top statements by time. */
  max_tables: z.number().int().min(1).max(100_000).default(1000),
  max_indexes: z.number().int().min(1).max(100_000).default(1000),
  max_statements: z.number().int().min(1).max(10_000).default(100),
  /** pg_activity and pg_blocking are sampled this often and aggregated per interval. */
  activity_sample_seconds: z.number().int().min(1).max(3600).default(10),
  /** Log ingestion; where and how the server logs is read from its settings unless given here. */
  logs: logsSchema.default({ enabled: true, redact_literals: true, start_at: 'beginning', chunk_megabytes: 8 }),
});

export const localConfigSchema = z.strictObject({
  backend: z.strictObject({
    url: z.string().url(),
    /** The backend's CA certificate (PEM file), trusted for the registration call. */
    ca_file: z.string().optional(),
  }),
  collector: z
    .strictObject({
      state_dir: z.string().default('/var/lib/pganalytics'),
      hostname: z.string().default(hostname()),
      /** Until the backend's config arrives. */
      interval_seconds: z.number().int().min(1).max(3600).default(60),
    })
    .default({ state_dir: '/var/lib/pganalytics', hostname: hostname(), interval_seconds: 60 }),
  instances: z.array(instanceSchema).max(64).default([]),
  /** The collector's own Prometheus metrics; off unless listen is set, e.g. "127.0.0.1:9187". */
  metrics: z.strictObject({ listen: z.string().optional() }).default({}),
});

export type LocalConfig = z.infer<typeof localConfigSchema>;
export type InstanceConfig = z.infer<typeof instanceSchema>;

export function parseLocalConfig(text: string, env: NodeJS.ProcessEnv = process.env): LocalConfig {
  let raw: Record<string, unknown>;
  try {
    raw = parse(text) as Record<string, unknown>;
  } catch (err) {
    throw new Error(`collector config is not valid TOML: ${errorMessage(err)}`);
  }
  const backend = { ...(raw.backend as object | undefined) } as Record<string, unknown>;
  const collector = { ...(raw.collector as object | undefined) } as Record<string, unknown>;
  if (env.PGA_BACKEND_URL) backend.url = env.PGA_BACKEND_URL;
  if (env.PGA_BACKEND_CA_FILE) backend.ca_file = env.PGA_BACKEND_CA_FILE;
  if (env.PGA_STATE_DIR) collector.state_dir = env.PGA_STATE_DIR;
  if (env.PGA_INTERVAL) collector.interval_seconds = Number(env.PGA_INTERVAL);
  const res = localConfigSchema.safeParse({ ...raw, backend, collector });
  if (!res.success) {
    throw new Error(`collector config is not valid: ${res.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  }
  const names = new Set<string>();
  for (const i of res.data.instances) {
    if (names.has(i.name)) throw new Error(`collector config is not valid: instance name ${i.name} is used twice`);
    names.add(i.name);
  }
  return res.data;
}

export function loadLocalConfig(path = DEFAULT_CONFIG_PATH): LocalConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new Error(`cannot read collector config ${path}: ${(err as NodeJS.ErrnoException).code ?? errorMessage(err)}`);
  }
  return parseLocalConfig(text);
}
