// The packaged layouts on real directory trees under a temporary root. The settings are what
// each package's server reports (PGDG on RHEL, Debian, a syslog-only server); a real server in
// the Debian layout is in tests/logs/debian-layout.test.ts.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { locateServerLog } from './log-location.ts';
import type { ServerLogSettings } from './log-settings.ts';

const roots: string[] = [];
after(() => {
  for (const r of roots) rmSync(r, { recursive: true, force: true });
});
function root(files: string[] = []): string {
  const r = mkdtempSync(join(tmpdir(), 'pga-loglocation-'));
  roots.push(r);
  for (const f of files) {
    mkdirSync(join(r, f, '..'), { recursive: true });
    writeFileSync(join(r, f), '');
  }
  return r;
}

const debian: ServerLogSettings = {
  logLinePrefix: '%m [%p] %q%u@%d ',
  logDestination: ['stderr'],
  loggingCollector: false,
  logDirectory: '/var/lib/postgresql/15/main/log',
  logFilename: 'postgresql-%Y-%m-%d_%H%M%S.log',
  dataDirectory: '/var/lib/postgresql/15/main',
  logTimezone: 'Etc/UTC',
  clusterName: '15/main',
  configFile: '/etc/postgresql/15/main/postgresql.conf',
};
const pgdg: ServerLogSettings = {
  ...debian,
  logLinePrefix: '%m [%p] ',
  loggingCollector: true,
  logDirectory: '/var/lib/pgsql/16/data/log',
  logFilename: 'postgresql-%a.log',
  dataDirectory: '/var/lib/pgsql/16/data',
  clusterName: '',
  configFile: '/var/lib/pgsql/16/data/postgresql.conf',
};

test('Debian: found from cluster_name, else from config_file or data_directory', () => {
  const r = root(['var/log/postgresql/postgresql-15-main.log', 'var/log/postgresql/postgresql-16-reports.log']);
  assert.deepEqual(locateServerLog(debian, { root: r }), {
    found: true,
    directory: join(r, 'var/log/postgresql'),
    filename: 'postgresql-15-main.log',
    format: 'stderr',
    layout: 'debian',
  });
  const renamed = { ...debian, clusterName: 'reports', configFile: '/etc/postgresql/16/reports/postgresql.conf', dataDirectory: '/srv/pg' };
  assert.equal((locateServerLog(renamed, { root: r }) as { filename: string }).filename, 'postgresql-16-reports.log');
  const byDataDir = { ...debian, clusterName: '', configFile: '/srv/pg.conf', dataDirectory: '/var/lib/postgresql/16/reports' };
  assert.equal((locateServerLog(byDataDir, { root: r }) as { filename: string }).filename, 'postgresql-16-reports.log');
});

test("Debian: /etc/postgresql/<major>/<cluster>/log, pg_ctlcluster's own override, wins", () => {
  const r = root(['srv/logs/pg15.log', 'var/log/postgresql/postgresql-15-main.log']);
  mkdirSync(join(r, 'etc/postgresql/15/main'), { recursive: true });
  symlinkSync(join(r, 'srv/logs/pg15.log'), join(r, 'etc/postgresql/15/main/log'));
  const at = locateServerLog(debian, { root: r });
  assert.ok(at.found);
  assert.equal(join(at.directory, at.filename), join(r, 'srv/logs/pg15.log'));
});

test('logging_collector = on (PGDG on RHEL): the settings say where; a missing directory is said', () => {
  const r = root(['var/lib/pgsql/16/data/log/postgresql-Mon.log']);
  assert.deepEqual(locateServerLog(pgdg, { root: r }), {
    found: true,
    directory: join(r, 'var/lib/pgsql/16/data/log'),
    filename: 'postgresql-%a.log',
    format: 'stderr',
    layout: 'settings',
  });
  assert.equal((locateServerLog({ ...pgdg, logDestination: ['stderr', 'csvlog'] }, { root: r }) as { format: string }).format, 'csvlog');
  const none = locateServerLog(pgdg, { root: root() });
  assert.equal(none.found, false);
  assert.match((none as { problem: string }).problem, /log_directory .*var\/lib\/pgsql\/16\/data\/log does not exist on this host/);
});

test('nothing on disk: stderr only, or syslog only, is said with the setting to add', () => {
  const container = {
    ...debian,
    clusterName: '',
    configFile: '/var/lib/postgresql/data/postgresql.conf',
    dataDirectory: '/var/lib/postgresql/data',
  };
  const a = locateServerLog(container, { root: root() });
  assert.equal(a.found, false);
  assert.match(
    (a as { problem: string }).problem,
    /^no log file found: logging_collector is off, so the server logs to its stderr; set logging_collector = on .*\[instances\.logs\] directory and filename/,
  );
  const b = locateServerLog(debian, { root: root() });
  assert.match(
    (b as { problem: string }).problem,
    /it is not at .*\/var\/log\/postgresql\/postgresql-15-main\.log \(Debian\/Ubuntu's pg_ctlcluster layout\)/,
  );
  const c = locateServerLog({ ...pgdg, logDestination: ['syslog'] }, { root: root() });
  assert.match((c as { problem: string }).problem, /log_destination = 'syslog' writes no log file .*format = "syslog"/);
});
