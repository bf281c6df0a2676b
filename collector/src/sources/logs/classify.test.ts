// Records as PostgreSQL writes them (lc_messages=C) and what they must be classified as.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { classify } from './classify.ts';
import { emptyRecord } from './log-record.ts';
import type { Severity } from './event-kinds.ts';

const kindOf = (severity: Severity, message: string) => classify(emptyRecord(severity, message)).kind;

test('only real wraparound warnings are wraparound_warning', () => {
  assert.equal(kindOf('LOG', 'MultiXact member wraparound protections are now enabled'), 'other');
  assert.equal(
    kindOf('LOG', 'MultiXact member wraparound protections are disabled because oldest checkpointed MultiXact 1 does not exist on disk'),
    'other',
  );
  assert.equal(kindOf('WARNING', 'database "app" must be vacuumed within 9999999 transactions'), 'wraparound_warning');
  assert.equal(kindOf('WARNING', 'database with OID 16384 must be vacuumed before 1000 more MultiXactIds are used'), 'wraparound_warning');
  const refused = classify(emptyRecord('ERROR', 'database is not accepting commands to avoid wraparound data loss in database "app"'));
  assert.equal(refused.kind, 'wraparound_warning');
  assert.equal(refused.details.target_database, 'app');
  assert.equal(refused.details.refusing, true);
  assert.equal(
    kindOf('ERROR', 'database is not accepting commands that assign new transaction IDs to avoid wraparound data loss in database "app"'),
    'wraparound_warning',
  );
});

const details = (severity: Severity, message: string): Record<string, unknown> => {
  const c = classify(emptyRecord(severity, message));
  return { kind: c.kind, ...c.details };
};

// Messages a PostgreSQL 15 test server cannot be made to write (older or newer wordings, a
// standby, an archiver exit that PG 14+ no longer logs); the rest come from a real server in
// tests/logs/server-events.test.ts.
test('events from other versions and from standbys have their kinds and values', () => {
  assert.deepEqual(details('LOG', 'archiver process (PID 4242) exited with exit code 1'), {
    kind: 'archive_failed',
    process: 'archiver process',
    child_pid: 4242,
    exit_code: 1,
    stage: 'archiver_exited',
  });
  assert.deepEqual(details('LOG', 'archive command was terminated by signal 6: Aborted'), {
    kind: 'archive_failed',
    stage: 'command_failed',
    signal: 6,
    signal_name: 'Aborted',
  });
  assert.deepEqual(details('WARNING', 'terminating connection because of crash of another server process'), {
    kind: 'server_crash',
    stage: 'connection_terminated',
  });
  assert.deepEqual(details('LOG', 'database system shutdown was interrupted; last known up at 2019-02-18 10:45:11 CET'), {
    kind: 'server_crash',
    stage: 'recovery',
    last_up: '2019-02-18 10:45:11 CET',
  });
  assert.deepEqual(details('LOG', 'database system was shut down in recovery at 2019-02-18 10:45:11 CET'), {
    kind: 'server_start',
    stage: 'last_shutdown',
    last_up: '2019-02-18 10:45:11 CET',
    in_recovery: true,
  });
  assert.deepEqual(details('LOG', 'entering standby mode'), { kind: 'server_start', stage: 'standby_mode' });
  assert.deepEqual(details('LOG', 'autovacuum launcher started'), {
    kind: 'server_start',
    stage: 'launcher_started',
    launcher: 'autovacuum',
  });
  assert.deepEqual(details('LOG', 'autovacuum launcher shutting down'), { kind: 'autovacuum_launcher', stage: 'stopped' });
  assert.deepEqual(details('LOG', 'consistent recovery state reached at 0/3000138'), {
    kind: 'recovery',
    stage: 'consistent',
    lsn: '0/3000138',
  });
  assert.deepEqual(details('LOG', 'restored log file "00000002000000000000000A" from archive'), {
    kind: 'recovery',
    stage: 'restored_wal',
    wal_file: '00000002000000000000000A',
  });
  assert.deepEqual(details('LOG', 'started streaming WAL from primary at 0/3000000 on timeline 1'), {
    kind: 'replication_stream',
    stage: 'started',
    lsn: '0/3000000',
    timeline: 1,
  });
  assert.equal(details('LOG', 'replication terminated by primary server').stage, 'stopped');
  assert.equal(details('FATAL', 'could not receive data from WAL stream: server closed the connection unexpectedly').stage, 'interrupted');
  assert.equal(details('FATAL', 'terminating walreceiver process due to administrator command').stage, 'interrupted');
  assert.deepEqual(details('FATAL', "requested timeline 3 is not a child of this server's history"), {
    kind: 'recovery',
    stage: 'invalid_timeline',
    timeline: 3,
  });
  assert.deepEqual(details('LOG', 'selected new timeline ID: 2'), { kind: 'recovery', stage: 'timeline_selected', timeline: 2 });
  assert.deepEqual(details('LOG', 'unexpected EOF on client connection with an open transaction'), {
    kind: 'connection_lost',
    open_transaction: true,
  });
  assert.deepEqual(details('WARNING', 'permission denied to vacuum "owned", skipping it'), {
    kind: 'vacuum_skipped',
    operation: 'vacuum',
    relation: 'owned',
    reason: 'permission denied',
  });
  assert.deepEqual(details('LOG', 'skipping analyze of "t" --- lock not available'), {
    kind: 'vacuum_skipped',
    operation: 'analyze',
    relation: 't',
    reason: 'lock not available',
  });
  assert.equal(
    details('LOG', 'using stale statistics instead of current ones because stats collector is not responding').kind,
    'stats_timeout',
  );
  assert.equal(
    details('LOG', 'could not receive response from Ident server at address "10.0.0.1", port 113: Connection timed out').kind,
    'ident_failed',
  );
  assert.deepEqual(details('ERROR', 'invalid page in block 7 of relation base/16384/16385'), {
    kind: 'checksum_failure',
    block: 7,
    relation_path: 'base/16384/16385',
    sqlstate_inferred: true,
    error_class: 'internal_error',
  });
  assert.equal(
    details('LOG', 'invalid page in block 0 of relation "base/5/16398"').relation_path,
    'base/5/16398',
    'PostgreSQL 18 quotes it',
  );
  assert.deepEqual(details('LOG', 'parameter "max_connections" cannot be changed without restarting the server'), {
    kind: 'config_changed',
    parameter: 'max_connections',
    restart_required: true,
  });
  assert.equal(details('LOG', 'server process (PID 77) exited with exit code 2').kind, 'server_crash');
});

test('role "x" does not exist: 42704 at ERROR (an undefined object), 28000 at FATAL (a login refused)', () => {
  assert.equal(classify(emptyRecord('ERROR', 'role "nobody" does not exist')).sqlstate, '42704');
  const login = classify(emptyRecord('FATAL', 'role "nobody" does not exist'));
  assert.equal(login.sqlstate, '28000');
  assert.equal(login.kind, 'authentication_failed');
});

// Records of the field logs (../shared's CloudNativePG, RDS, syslog and Ubuntu fixtures) that
// came out as `other`, and the configuration-file messages around them.
test('connection, recovery and configuration-file records of field logs have their kinds', () => {
  assert.deepEqual(
    details('LOG', 'connection authenticated: identity="CN=streaming_replica" method=cert (/var/lib/postgresql/data/pgdata/pg_hba.conf:7)'),
    {
      kind: 'connection_authenticated',
      identity: 'CN=streaming_replica',
      method: 'cert',
      hba_file: '/var/lib/postgresql/data/pgdata/pg_hba.conf',
      hba_line: 7,
    },
  );
  assert.deepEqual(
    details('LOG', 'replication connection authorized: user=streaming_replica application_name=cluster-2 SSL enabled (protocol=TLSv1.3)'),
    {
      kind: 'connection_authorized',
      user: 'streaming_replica',
      application: 'cluster-2',
      ssl: true,
      replication: true,
    },
  );
  // the second alternative of a rule (indexed under its own first letter)
  assert.deepEqual(details('LOG', 'ending log output to stderr'), { kind: 'server_start', stage: 'log_redirected' });
  assert.deepEqual(details('LOG', 'recovering prepared transaction 499 from shared memory'), {
    kind: 'recovery',
    stage: 'prepared_transaction',
    xid: 499,
  });
  assert.deepEqual(details('LOG', 'recovering prepared transaction 731 of epoch 2 from shared memory'), {
    kind: 'recovery',
    stage: 'prepared_transaction',
    xid: 731,
    epoch: 2,
  });
  // at start-up the file is refused whole (FATAL, no "changes were applied")
  assert.deepEqual(details('FATAL', 'configuration file "/etc/postgresql/17/main/postgresql.conf" contains errors'), {
    kind: 'config_reload',
    stage: 'errors',
    file: '/etc/postgresql/17/main/postgresql.conf',
  });
  assert.deepEqual(details('LOG', 'syntax error in file "/etc/postgresql/postgresql.conf" line 12, near token "="'), {
    kind: 'config_reload',
    stage: 'errors',
    file: '/etc/postgresql/postgresql.conf',
    line: 12,
    near: '=',
  });
  assert.deepEqual(details('LOG', 'invalid value for parameter "lc_messages": "en_US.UTF-8"'), {
    kind: 'config_changed',
    parameter: 'lc_messages',
    value: 'en_US.UTF-8',
    invalid: true,
  });
  // the same words from a session's SET are its error (22023), not the server's configuration
  const set = classify(emptyRecord('ERROR', 'invalid value for parameter "work_mem": "lots"'));
  assert.deepEqual([set.kind, set.sqlstate], ['error', '22023']);
  assert.deepEqual(
    details('LOG', 'unrecognized configuration parameter "shared_buffer" in file "/etc/postgresql/postgresql.conf" line 3'),
    {
      kind: 'config_changed',
      parameter: 'shared_buffer',
      file: '/etc/postgresql/postgresql.conf',
      line: 3,
      unrecognized: true,
    },
  );
});

// Wordings from PostgreSQL's sources (13–18) for standbys, slots, subscriptions and start-up
// failures; a slot's invalidation also comes from a real server in tests/logs/server-events.test.ts.
test('replication, slot, subscription and start-up failure records have their kinds', () => {
  const slot16 = classify({
    ...emptyRecord('LOG', 'invalidating obsolete replication slot "keeper"'),
    detail: "The slot's restart_lsn 0/1511A60 exceeds the limit by 1048576 bytes.",
  });
  assert.deepEqual(
    { kind: slot16.kind, ...slot16.details },
    {
      kind: 'replication_slot',
      stage: 'invalidated',
      slot: 'keeper',
      lsn: '0/1511A60',
      bytes_over_limit: 1048576,
    },
  );
  assert.deepEqual(details('LOG', 'terminating process 1234 to release replication slot "s1"'), {
    kind: 'replication_slot',
    stage: 'terminating_holder',
    holder_pid: 1234,
    slot: 's1',
  });
  const removed = classify(emptyRecord('ERROR', 'requested WAL segment 000000010000000000000003 has already been removed'));
  assert.deepEqual([removed.kind, removed.sqlstate, removed.details.wal_file], ['replication_stream', '58P01', '000000010000000000000003']);
  assert.deepEqual(details('LOG', 'terminating walsender process due to replication timeout'), {
    kind: 'connection_terminated',
    process: 'walsender process',
    reason: 'replication timeout',
  });
  assert.deepEqual(details('LOG', 'starting logical decoding for slot "sub1"'), {
    kind: 'logical_replication',
    stage: 'decoding_started',
    slot: 'sub1',
  });
  assert.deepEqual(details('LOG', 'logical replication table synchronization worker for subscription "s", table "orders" has finished'), {
    kind: 'logical_replication',
    stage: 'worker',
    worker: 'table synchronization worker',
    subscription: 's',
    table: 'orders',
    state: 'finished',
  });
  assert.deepEqual(details('LOG', 'sending cancel to blocking autovacuum PID 4321'), {
    kind: 'statement_canceled',
    autovacuum_pid: 4321,
    reason: 'blocking_autovacuum',
  });
  assert.deepEqual(details('LOG', 'recovery stopping before commit of transaction 750, time 2024-01-01 00:00:00+00'), {
    kind: 'recovery',
    stage: 'target_reached',
    when: 'before',
    target: 'commit of transaction 750, time 2024-01-01 00:00:00+00',
  });
  assert.deepEqual(details('LOG', 'unexpected pageaddr 0/1000000 in log segment 000000010000000000000003, offset 0'), {
    kind: 'recovery',
    stage: 'wal_end',
    lsn: '0/1000000',
    wal_file: '000000010000000000000003',
    offset: 0,
  });
  assert.deepEqual(details('LOG', 'could not bind IPv4 address "0.0.0.0": Address already in use'), {
    kind: 'server_start',
    stage: 'bind_failed',
    family: 'IPv4',
    address: '0.0.0.0',
    error: 'Address already in use',
  });
  assert.equal(classify(emptyRecord('FATAL', 'lock file "postmaster.pid" already exists')).details.stage, 'start_failed');
  assert.equal(kindOf('WARNING', 'autovacuum not started because of misconfiguration'), 'autovacuum_launcher');
});
