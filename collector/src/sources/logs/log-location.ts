// Where a server's log is on disk, in the layouts a package gives it:
//   - logging_collector = on (RHEL/PGDG's default; any server that sets it): the settings say
//     where — log_directory (relative to the data directory: $PGDATA/log, older pg_log) and
//     log_filename (PGDG: postgresql-%a.log).
//   - logging_collector = off: the log is wherever the server's stderr goes. Debian/Ubuntu's
//     pg_ctlcluster sends it to /var/log/postgresql/postgresql-<major>-<cluster>.log (or where
//     /etc/postgresql/<major>/<cluster>/log points); the official container image and systemd
//     units without a log file leave it on stderr (docker logs, the journal): nothing on disk.
// When none is found, `problem` says why and which setting to add.
import { accessSync, constants, readdirSync, realpathSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { LogSourceOptions } from './log-source.ts';
import type { ServerLogSettings } from './log-settings.ts';

export type LogLocation =
  | { found: true; directory: string; filename: string; format: LogSourceOptions['format']; layout: 'settings' | 'debian' }
  | { found: false; problem: string };

export interface LocateOptions {
  /** Prefix of every path looked at (tests build a packaged tree in a temporary directory). */
  root?: string;
}

const SET_IT = "or set [instances.logs] directory and filename in the collector's TOML to the file";

export function locateServerLog(s: ServerLogSettings, opts: LocateOptions = {}): LogLocation {
  const root = opts.root ?? '/';
  const destinations = s.logDestination.filter((d) => d === 'stderr' || d === 'csvlog' || d === 'jsonlog');
  if (destinations.length === 0) {
    return {
      found: false,
      problem:
        `log_destination = '${s.logDestination.join(',')}' writes no log file of the server's own: ` +
        `add csvlog to log_destination with logging_collector = on, or set [instances.logs] directory, filename and format = "syslog" to the file syslog writes`,
    };
  }
  if (s.loggingCollector) {
    const directory = join(root, s.logDirectory);
    const format = destinations.includes('jsonlog') ? 'jsonlog' : destinations.includes('csvlog') ? 'csvlog' : 'stderr';
    try {
      readdirSync(directory);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      return {
        found: false,
        problem:
          code === 'ENOENT'
            ? `log_directory ${directory} does not exist on this host (the collector must run on the server's host)`
            : `log_directory ${directory} is not readable by the collector's user (${code}): set log_directory outside the 0700 data directory ` +
              `with log_file_mode = 0640 and add the collector's user to the server's group, or run the collector as the server's user`,
      };
    }
    return { found: true, directory, filename: s.logFilename, format, layout: 'settings' };
  }

  // logging_collector = off: csvlog and jsonlog need the collector; stderr goes where the server's stderr goes.
  const tried: string[] = [];
  for (const { major, cluster } of debianClusters(s)) {
    const link = join(root, 'etc', 'postgresql', major, cluster, 'log');
    const candidates = [join(root, 'var', 'log', 'postgresql', `postgresql-${major}-${cluster}.log`)];
    if (isFile(link)) candidates.unshift(realpathSync(link)); // pg_ctlcluster's own override
    for (const path of candidates) {
      if (tried.includes(path)) continue;
      tried.push(path);
      if (!isFile(path)) continue;
      try {
        accessSync(path, constants.R_OK);
      } catch {
        return {
          found: false,
          problem: `${path} is not readable by the collector's user: add it to the adm group (Debian's logs are root:adm or postgres:adm, 0640)`,
        };
      }
      // log_filename is a strftime pattern: a literal % in the name must not be read as one.
      return { found: true, directory: dirname(path), filename: basename(path).replace(/%/g, '%%'), format: 'stderr', layout: 'debian' };
    }
  }
  const where = tried.length > 0 ? `, and it is not at ${tried.join(' nor ')} (Debian/Ubuntu's pg_ctlcluster layout)` : '';
  return {
    found: false,
    problem:
      `no log file found: logging_collector is off, so the server logs to its stderr${where}; ` +
      `set logging_collector = on in postgresql.conf (a restart) for files in log_directory, ${SET_IT} the server's stderr is written to`,
  };
}

/** The Debian cluster (major, name) a server is, from what its settings show of the layout. */
function debianClusters(s: ServerLogSettings): Array<{ major: string; cluster: string }> {
  const out: Array<{ major: string; cluster: string }> = [];
  const add = (m: RegExpExecArray | null): void => {
    if (m && !out.some((c) => c.major === m[1] && c.cluster === m[2])) out.push({ major: m[1], cluster: m[2] });
  };
  add(/^(\d+(?:\.\d+)?)\/([^/]+)$/.exec(s.clusterName)); // postgresql.conf's cluster_name = '15/main'
  add(/\/etc\/postgresql\/(\d+(?:\.\d+)?)\/([^/]+)\/postgresql\.conf$/.exec(s.configFile));
  add(/\/var\/lib\/postgresql\/(\d+(?:\.\d+)?)\/([^/]+)\/?$/.exec(s.dataDirectory));
  return out;
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}
