// The configuration the backend serves each collector as TOML (GET /api/v1/config/{id}).
// It carries only what is safe to manage centrally: what to collect and how often. Connection
// strings and secrets stay in the collector's local TOML file.
import { z } from 'zod';

const seconds = z.number().int().min(1).max(86_400);

export const familySettingsSchema = z.strictObject({
  enabled: z.boolean().optional(),
  interval_seconds: seconds.optional(),
});

export const servedConfigSchema = z.strictObject({
  config_version: z.number().int().min(1),
  collector: z
    .strictObject({
      /** How often the collector collects and pushes a batch (else its local interval_seconds). */
      interval_seconds: seconds.optional(),
      /** How often it asks for a new config (default 300; it also asks when a push shows a newer version). */
      config_pull_seconds: seconds.optional(),
    })
    .default({}),
  /** Bounds of the disk spool that keeps batches while the backend cannot take them. */
  spool: z
    .strictObject({
      max_megabytes: z.number().int().min(1).max(1_048_576).optional(),
      max_age_hours: z
        .number()
        .min(0.1)
        .max(24 * 90)
        .optional(),
    })
    .default({}),
  /** Per family, e.g. [families.pg_stats_database] enabled = false */
  families: z.record(z.string().max(64), familySettingsSchema).default({}),
  /** Per monitored instance (by the name in the collector's local config). */
  instances: z
    .record(
      z.string().max(128),
      z.strictObject({
        enabled: z.boolean().optional(),
        interval_seconds: seconds.optional(),
        families: z.record(z.string().max(64), familySettingsSchema).optional(),
        /** Overrides of where and how this instance logs (the collector's own settings otherwise). */
        logs: z
          .strictObject({
            enabled: z.boolean().optional(),
            directory: z.string().max(4096).optional(),
            filename: z.string().max(256).optional(),
            format: z.enum(['stderr', 'csvlog', 'jsonlog', 'syslog']).optional(),
            prefix: z.string().max(1024).optional(),
          })
          .optional(),
      }),
    )
    .default({}),
});

export type ServedConfig = z.infer<typeof servedConfigSchema>;
/** What an admin may set: the served config without its version (the backend assigns it). */
export const configUpdateSchema = servedConfigSchema.omit({ config_version: true });
export type ConfigUpdate = z.input<typeof configUpdateSchema>;
