// One instance's log ingestion as the agent sees it: where the logs are comes from the
// server's own settings (read once over the instance's connection) and the packaged layouts
// (log-location.ts), overridden by the local [instances.logs] table and then by the served
// config. Once known, the files are tailed even while the server is down — the log of a crash
// is when a DBA needs it most. When no log can be found, the problem is reported once.
import { join } from 'node:path';
import type { InstanceConfig } from '../../config.ts';
import { LogSource, type LogCollectResult, type LogSourceOptions } from './log-source.ts';
import { locateServerLog } from './log-location.ts';
import { logSourceOptionsFromSettings, readLogSettings, type Queryable } from './log-settings.ts';

export type LogOverrides = Partial<Pick<LogSourceOptions, 'directory' | 'filename' | 'format' | 'prefix'>>;

export interface InstanceLogsOptions {
  /** Prefix of the paths where packaged layouts are looked for (tests); default "/". */
  root?: string;
}

export class InstanceLogs {
  private source: LogSource | undefined;
  private key = '';
  private last: LogSourceOptions | undefined;
  /** Why no log is read (none found), and what was last reported of it. */
  private problem: string | undefined;
  private reported: string | undefined;

  constructor(
    private readonly instance: InstanceConfig,
    private readonly stateDir: string,
    private readonly opts: InstanceLogsOptions = {},
  ) {}

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

  /** Why no log can be read, when that is new since the last call: said once, not every cycle. */
  newProblem(): string | undefined {
    if (this.problem === this.reported) return undefined;
    this.reported = this.problem;
    return this.problem;
  }

  private async options(db: Queryable | undefined, served: LogOverrides): Promise<LogSourceOptions | undefined> {
    const l = this.instance.logs;
    const local: LogOverrides = Object.fromEntries(
      Object.entries({
        directory: l.directory,
        filename: l.filename,
        format: l.format,
        prefix: l.prefix,
      }).filter(([, v]) => v !== undefined),
    );
    const base = {
      instance: this.instance.name,
      stateFile: join(this.stateDir, 'logs', `${this.instance.name}.json`),
      chunkBytes: l.chunk_megabytes * 1024 * 1024,
      redactLiterals: l.redact_literals,
      startAt: l.start_at,
    };
    const overrides = { ...local, ...served };
    if (overrides.directory && overrides.filename && overrides.format) {
      this.problem = undefined;
      this.last = { ...base, ...overrides, directory: overrides.directory, filename: overrides.filename, format: overrides.format };
    } else if (db) {
      const settings = await readLogSettings(db);
      this.problem = undefined;
      if (overrides.directory || overrides.filename) {
        // The user said where: the settings fill in the rest.
        this.last = logSourceOptionsFromSettings(settings, base, { ...base, ...overrides });
      } else {
        const at = locateServerLog(settings, { root: this.opts.root });
        if (!at.found) {
          this.problem = at.problem;
          this.last = undefined;
        } else {
          this.last = logSourceOptionsFromSettings(settings, base, {
            ...base,
            directory: at.directory,
            filename: at.filename,
            format: at.format,
            ...overrides,
          });
        }
      }
    } // else: the server is down; keep tailing where we knew its logs to be
    return this.last;
  }
}
