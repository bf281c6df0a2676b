// One instance's log ingestion as the agent sees it: where the logs are comes from the
// server's own settings (read once over the instance's connection), overridden by the local
// [instances.logs] table and then by the served config. Once known, the files are tailed even
// while the server is down — the log of a crash is when a DBA needs it most.
import { join } from 'node:path';
import type { InstanceConfig } from '../../config.ts';
import { LogSource, type LogCollectResult, type LogSourceOptions } from './log-source.ts';
import { logSourceOptionsFromSettings, readLogSettings, type Queryable } from './log-settings.ts';

export type LogOverrides = Partial<Pick<LogSourceOptions, 'directory' | 'filename' | 'format' | 'prefix'>>;

export class InstanceLogs {
  private source: LogSource | undefined;
  private key = '';
  private last: LogSourceOptions | undefined;

  constructor(private readonly instance: InstanceConfig, private readonly stateDir: string) {}

  /** Rows since the last commit, or undefined while nothing is known of where the logs are. */
  async collect(db: Queryable | undefined, served: LogOverrides = {}): Promise<LogCollectResult | undefined> {
    const opts = await this.options(db, served);
    if (!opts) return undefined;
    const key = JSON.stringify(opts);
    if (key !== this.key) {
      this.source = new LogSource(opts);
      this.key = key;
    }
    return this.source!.collect();
  }

  private async options(db: Queryable | undefined, served: LogOverrides): Promise<LogSourceOptions | undefined> {
    const l = this.instance.logs;
    const local: LogOverrides = Object.fromEntries(Object.entries({
      directory: l.directory, filename: l.filename, format: l.format, prefix: l.prefix,
    }).filter(([, v]) => v !== undefined));
    const base = {
      instance: this.instance.name,
      stateFile: join(this.stateDir, 'logs', `${this.instance.name}.json`),
      chunkBytes: l.chunk_megabytes * 1024 * 1024,
      redactLiterals: l.redact_literals,
      startAt: l.start_at,
    };
    const overrides = { ...local, ...served };
    if (overrides.directory && overrides.filename && overrides.format) {
      this.last = { ...base, ...overrides, directory: overrides.directory, filename: overrides.filename, format: overrides.format };
    } else if (db) {
      this.last = logSourceOptionsFromSettings(await readLogSettings(db), base, { ...base, ...overrides });
    } // else: the server is down; keep tailing where we knew its logs to be
    return this.last;
  }
}
