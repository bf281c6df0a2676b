// The events a DBA acts on that are neither statements nor errors of a query: the server's
// life cycle, configuration reloads, recovery and WAL streaming, lost and refused connections,
// skipped maintenance, checksum failures and the archiver. One rule per message as PostgreSQL
// writes it (lc_messages=C; older wordings next to the newer), with the values it carries.
import type { LogEventKind } from './event-kinds.ts';

export type EventValue = number | string | boolean;

interface Rule {
  kind: LogEventKind;
  /** details.stage (or details.reason) for kinds that group several messages. */
  stage?: string;
  re: RegExp;
  /** Names of the capture groups' values in details; numbers where NUMERIC says so. */
  names?: readonly string[];
  /** Extra fixed details. */
  flags?: Readonly<Record<string, EventValue>>;
  /** Decides kind/stage from the values when the message alone does not (process exits). */
  refine?: (d: Record<string, EventValue>) => { kind: LogEventKind; stage: string } | null;
  /** For a rule whose message starts with a name (a process's): a text the message must hold. */
  needs?: string;
  /** The same words at ERROR are a session's mistake (SET), not the server's configuration. */
  notAtError?: boolean;
}

const NUMERIC = new Set([
  'child_pid',
  'port',
  'signal',
  'exit_code',
  'timeline',
  'seconds_apart',
  'checksum_calculated',
  'checksum_expected',
  'block',
  'message_type',
  'failures',
  'wanted',
  'got',
  'line',
  'xid',
  'epoch',
  'autovacuum_pid',
  'holder_pid',
  'offset',
]);

const LSN = '([0-9A-F]+/[0-9A-F]+)';

/** After a process exit the postmaster restarts everything (crash recovery) unless it was the archiver, or exit code 1 of a worker. */
function processExit(d: Record<string, EventValue>): { kind: LogEventKind; stage: string } {
  const proc = String(d.process);
  if (proc.startsWith('archiver')) return { kind: 'archive_failed', stage: 'archiver_exited' };
  if (d.signal === undefined && d.exception === undefined && (d.exit_code === 1 || d.exit_code === 0))
    return { kind: 'process_exit', stage: 'exited' };
  return { kind: 'server_crash', stage: 'process_died' };
}

const RULES: readonly Rule[] = [
  // server life cycle
  { kind: 'server_start', stage: 'starting', re: /^starting PostgreSQL (\S+)/, names: ['version'] },
  { kind: 'server_start', stage: 'listening', re: /^listening on IPv[46] address "([^"]*)", port (\d+)/, names: ['address', 'port'] },
  { kind: 'server_start', stage: 'listening', re: /^listening on Unix socket "([^"]*)"/, names: ['socket'] },
  {
    kind: 'server_start',
    stage: 'log_redirected',
    re: /^redirecting log output to logging collector process|^ending log output to stderr/,
  },
  {
    kind: 'server_start',
    stage: 'last_shutdown',
    re: /^database system was shut down in recovery at (.+)$/,
    names: ['last_up'],
    flags: { in_recovery: true },
  },
  { kind: 'server_start', stage: 'last_shutdown', re: /^database system was shut down at (.+)$/, names: ['last_up'] },
  { kind: 'server_start', stage: 'standby_mode', re: /^entering standby mode/ },
  { kind: 'server_start', stage: 'launcher_started', re: /^(autovacuum|logical replication) launcher started/, names: ['launcher'] },
  // start-up failures: the server does not come up (or not on every address)
  {
    kind: 'server_start',
    stage: 'bind_failed',
    re: /^could not (?:bind|create listen socket for) (IPv4|IPv6|Unix) (?:address|socket) "([^"]*)"(?:: (.+))?/,
    names: ['family', 'address', 'error'],
  },
  {
    kind: 'server_start',
    stage: 'start_failed',
    re: /^(could not create any (?:TCP\/IP sockets|Unix-domain sockets)|lock file "[^"]+" already exists|could not (?:map|create) (?:anonymous )?shared memory(?: segment)?|data directory "[^"]+" has (?:invalid permissions|wrong ownership))/,
    names: ['reason'],
  },
  { kind: 'server_shutdown', stage: 'requested', re: /^received (smart|fast|immediate) shutdown request/, names: ['mode'] },
  { kind: 'server_shutdown', stage: 'aborting_transactions', re: /^aborting any active transactions/ },
  { kind: 'server_shutdown', stage: 'shutting_down', re: /^shutting down$/ },
  { kind: 'server_shutdown', stage: 'refusing_connections', re: /^the database system is shutting down/ },
  { kind: 'server_shutdown', stage: 'complete', re: /^database system is shut down$/ },
  { kind: 'config_reload', stage: 'requested', re: /^received SIGHUP, reloading configuration files/ },
  {
    kind: 'config_reload',
    stage: 'errors',
    re: /^configuration file "([^"]+)" contains errors(?:; (unaffected|no) changes were applied)?/,
    names: ['file', 'applied'],
  },
  {
    kind: 'config_reload',
    stage: 'errors',
    re: /^syntax error in file "([^"]+)" line (\d+), near (?:token "(.*)"|end of line)/,
    names: ['file', 'line', 'near'],
  },
  {
    kind: 'config_changed',
    re: /^invalid value for parameter "([^"]+)": "(.*)"$/s,
    names: ['parameter', 'value'],
    flags: { invalid: true },
    notAtError: true,
  },
  {
    kind: 'config_changed',
    re: /^unrecognized configuration parameter "([^"]+)" in file "([^"]+)" line (\d+)/,
    names: ['parameter', 'file', 'line'],
    flags: { unrecognized: true },
  },
  { kind: 'config_changed', re: /^parameter "([^"]+)" changed to "(.*)"$/s, names: ['parameter', 'value'] },
  {
    kind: 'config_changed',
    re: /^parameter "([^"]+)" cannot be changed without restarting the server/,
    names: ['parameter'],
    flags: { restart_required: true },
  },
  {
    kind: 'config_changed',
    re: /^parameter "([^"]+)" removed from configuration file, reset to default/,
    names: ['parameter'],
    flags: { removed: true },
  },
  // a process's end: crash recovery follows unless it was harmless
  {
    kind: 'server_crash',
    re: /^(.+?) \(PID (\d+)\) was terminated by (?:signal (\d+)(?:: (.+))?|exception (0x[0-9A-Fa-f]+))/,
    names: ['process', 'child_pid', 'signal', 'signal_name', 'exception'],
    refine: processExit,
    needs: ' (PID ',
  },
  {
    kind: 'server_crash',
    re: /^(.+?) \(PID (\d+)\) exited with exit code (\d+)/,
    names: ['process', 'child_pid', 'exit_code'],
    refine: processExit,
    needs: ' (PID ',
  },
  { kind: 'server_crash', stage: 'terminating_others', re: /^terminating any other active server processes/ },
  { kind: 'server_crash', stage: 'connection_terminated', re: /^terminating connection because of crash of another server process/ },
  { kind: 'server_crash', stage: 'reinitializing', re: /^all server processes terminated; reinitializing/ },
  {
    kind: 'server_crash',
    stage: 'recovery',
    re: /^database system (?:shutdown )?was interrupted(?: while in recovery)?(?:; last known up at| at(?: log time)?) (.+)$/,
    names: ['last_up'],
  },
  { kind: 'server_crash', stage: 'recovery', re: /^database system was (?:interrupted|not properly shut down)/ },
  // recovery and standby
  { kind: 'recovery', stage: 'redo_start', re: new RegExp(`^redo starts at ${LSN}`), names: ['lsn'] },
  { kind: 'recovery', stage: 'redo_done', re: new RegExp(`^redo done at ${LSN}(?:.*elapsed: ([\\d.]+) s)?`), names: ['lsn', 'elapsed_s'] },
  { kind: 'recovery', stage: 'redo_not_required', re: /^redo is not required/ },
  { kind: 'recovery', stage: 'consistent', re: new RegExp(`^consistent recovery state reached at ${LSN}`), names: ['lsn'] },
  {
    kind: 'recovery',
    stage: 'wal_end',
    re: new RegExp(`^invalid record length at ${LSN}: (?:wanted|expected at least) (\\d+), got (\\d+)`),
    names: ['lsn', 'wanted', 'got'],
  },
  {
    kind: 'recovery',
    stage: 'wal_end',
    re: new RegExp(
      `^(?:record with incorrect prev-link|invalid resource manager ID|incorrect resource manager data checksum|record length \\d+ at|invalid magic number|contrecord is requested by) .*?${LSN}`,
    ),
    names: ['lsn'],
  },
  { kind: 'recovery', stage: 'restored_wal', re: /^restored log file "([^"]+)" from archive/, names: ['wal_file'] },
  { kind: 'recovery', stage: 'timeline_selected', re: /^selected new timeline ID: (\d+)/, names: ['timeline'] },
  {
    kind: 'recovery',
    stage: 'invalid_timeline',
    re: /^(?:new timeline (\d+) is not a child of database system timeline|requested timeline (\d+) is not a child of this server's history|new timeline (\d+) forked off current database system timeline|unexpected timeline ID (\d+) in)/,
    names: ['timeline', 'timeline', 'timeline', 'timeline'],
  },
  {
    kind: 'recovery',
    stage: 'prepared_transaction',
    re: /^recovering prepared transaction (\d+)(?: of epoch (\d+))? from shared memory/,
    names: ['xid', 'epoch'],
  },
  {
    kind: 'recovery',
    stage: 'wal_end',
    re: new RegExp(`^unexpected pageaddr ${LSN} in (?:log|WAL) segment ([0-9A-F]{24}), (?:LSN ${LSN}, )?offset (\\d+)`),
    names: ['lsn', 'wal_file', 'lsn', 'offset'],
  },
  { kind: 'recovery', stage: 'restartpoint', re: new RegExp(`^recovery restart point at ${LSN}`), names: ['lsn'] },
  { kind: 'recovery', stage: 'target_reached', re: /^recovery stopping (before|after) (.+)$/, names: ['when', 'target'] },
  { kind: 'recovery', stage: 'paused', re: /^recovery has paused/ },
  { kind: 'recovery', stage: 'archive_recovery_complete', re: /^archive recovery complete/ },
  {
    kind: 'recovery',
    stage: 'backup_recovery_complete',
    re: new RegExp(`^completed backup recovery with redo LSN ${LSN}`),
    names: ['lsn'],
  },
  {
    kind: 'recovery',
    stage: 'last_transaction',
    re: /^last completed transaction was at log time (.+)$/,
    names: ['last_transaction_time'],
  },
  {
    kind: 'replication_stream',
    stage: 'started',
    re: new RegExp(`^(?:started streaming WAL from primary|restarted WAL streaming) at ${LSN} on timeline (\\d+)`),
    names: ['lsn', 'timeline'],
  },
  { kind: 'replication_stream', stage: 'stopped', re: /^replication terminated by primary server/ },
  {
    kind: 'replication_stream',
    stage: 'interrupted',
    re: /^(?:could not receive data from WAL stream|terminating walreceiver (?:process )?due to (?:administrator command|timeout))/,
  },
  { kind: 'replication_stream', stage: 'connect_failed', re: /^could not connect to the primary server/ },
  { kind: 'replication_stream', stage: 'waiting', re: new RegExp(`^waiting for WAL to become available at ${LSN}`), names: ['lsn'] },
  {
    kind: 'replication_stream',
    stage: 'wal_removed',
    re: /^requested WAL segment ([0-9A-F]{24}) has already been removed/,
    names: ['wal_file'],
  },
  { kind: 'replication_stream', stage: 'stopped', re: /^WAL receiver process shutdown requested/ },
  {
    kind: 'replication_stream',
    stage: 'timeline_history',
    re: /^fetching timeline history file for timeline (\d+) from primary server/,
    names: ['timeline'],
  },
  // replication slots given up so that WAL can be removed (max_slot_wal_keep_size, 13+)
  {
    kind: 'replication_slot',
    stage: 'invalidated',
    re: new RegExp(
      `^invalidating (?:obsolete replication )?slot "([^"]+)"(?: because its restart_lsn ${LSN} exceeds max_slot_wal_keep_size)?`,
    ),
    names: ['slot', 'lsn'],
  },
  {
    kind: 'replication_slot',
    stage: 'terminating_holder',
    re: /^terminating process (\d+) to release replication slot "([^"]+)"/,
    names: ['holder_pid', 'slot'],
  },
  // logical decoding and subscriptions
  { kind: 'logical_replication', stage: 'decoding_started', re: /^starting logical decoding for slot "([^"]+)"/, names: ['slot'] },
  {
    kind: 'logical_replication',
    stage: 'consistent_point',
    re: new RegExp(`^logical decoding found (?:initial )?consistent point at ${LSN}`),
    names: ['lsn'],
  },
  {
    kind: 'logical_replication',
    stage: 'worker',
    re: /^logical replication (apply worker|table synchronization worker|parallel apply worker) for subscription "([^"]+)"(?:, table "([^"]+)")? has (started|finished)/,
    names: ['worker', 'subscription', 'table', 'state'],
  },
  // connections
  { kind: 'connection_lost', re: /^unexpected EOF on client connection with an open transaction/, flags: { open_transaction: true } },
  {
    kind: 'connection_lost',
    re: /^(?:could not (?:receive data from|send data to) client: (.+)|unexpected EOF on client connection|connection to client lost)/,
    names: ['error'],
  },
  {
    kind: 'connection_terminated',
    re: /^terminating (connection|autovacuum process|walsender process|background worker "[^"]*") due to (administrator command|idle-in-transaction timeout|idle-session timeout|conflict with recovery|unexpected postmaster exit|replication timeout)/,
    names: ['process', 'reason'],
  },
  { kind: 'protocol_error', re: /^unsupported frontend protocol (\d+\.\d+)/, names: ['protocol'] },
  { kind: 'protocol_error', re: /^invalid frontend message type (\d+)/, names: ['message_type'] },
  {
    kind: 'protocol_error',
    re: /^(incomplete startup packet|incomplete message from client|invalid length of startup packet|invalid startup packet layout|received unencrypted data after SSL request|expected (?:password|SASL|GSS) response|unexpected message type|invalid message length|invalid string in message)/,
    names: ['problem'],
  },
  {
    kind: 'ssl_failed',
    re: /^(?:could not accept SSL connection|SSL error|could not initialize SSL connection)(?:: (.+))?/s,
    names: ['error'],
  },
  {
    kind: 'connection_refused',
    stage: 'database_not_accepting',
    re: /^database "([^"]+)" is not currently accepting connections/,
    names: ['target_database'],
  },
  {
    kind: 'connection_refused',
    re: /^the database system is (starting up|in recovery mode|not yet accepting connections|not accepting connections)/,
    names: ['reason'],
  },
  {
    kind: 'ident_failed',
    re: /^(?:could not (?:connect to|receive response from|send query to|create socket for) Ident|invalidly formatted response from Ident server)/,
  },
  // maintenance
  {
    kind: 'vacuum_skipped',
    re: /^skipping (vacuum|analyze) of "([^"]+)" --- (lock not available|relation no longer exists)/,
    names: ['operation', 'relation', 'reason'],
  },
  {
    kind: 'vacuum_skipped',
    re: /^skipping "([^"]+)" --- only (?:superuser|table or database owner|superuser or database owner) can (vacuum|analyze) it/,
    names: ['relation', 'operation'],
    flags: { reason: 'permission denied' },
  },
  {
    kind: 'vacuum_skipped',
    re: /^permission denied to (vacuum|analyze) "([^"]+)", skipping it/,
    names: ['operation', 'relation'],
    flags: { reason: 'permission denied' },
  },
  {
    kind: 'statement_canceled',
    re: /^sending cancel to blocking autovacuum PID (\d+)/,
    names: ['autovacuum_pid'],
    flags: { reason: 'blocking_autovacuum' },
  },
  { kind: 'autovacuum_launcher', stage: 'not_started', re: /^autovacuum not started because of misconfiguration/ },
  { kind: 'autovacuum_launcher', stage: 'stopped', re: /^autovacuum launcher shutting down/ },
  { kind: 'checkpoints_too_frequent', re: /^checkpoints are occurring too frequently \((\d+) seconds? apart\)/, names: ['seconds_apart'] },
  {
    kind: 'stats_timeout',
    re: /^(?:using stale statistics instead of current ones because stats collector is not responding|pgstat wait timeout)/,
  },
  // integrity
  {
    kind: 'checksum_failure',
    re: /^page verification failed, calculated checksum (\d+) but expected (\d+)/,
    names: ['checksum_calculated', 'checksum_expected'],
  },
  // PostgreSQL 18 quotes the path ("base/5/16398"), earlier majors do not
  { kind: 'checksum_failure', re: /^invalid page in block (\d+) of relation "?([^\s"]+)"?/, names: ['block', 'relation_path'] },
  { kind: 'checksum_failure', re: /^checksum verification failed in file "([^"]+)", block (\d+)/, names: ['relation_path', 'block'] },
  {
    kind: 'checksum_failure',
    re: /^(?:file "([^"]+)" has a total of (\d+) checksum verification failures?|checksum verification failure during base backup)/,
    names: ['relation_path', 'failures'],
  },
  // the archiver
  { kind: 'archive_failed', stage: 'command_failed', re: /^archive command failed with exit code (\d+)/, names: ['exit_code'] },
  {
    kind: 'archive_failed',
    stage: 'command_failed',
    re: /^archive command was terminated by (?:signal (\d+)(?:: (.+))?|exception (0x[0-9A-Fa-f]+))/,
    names: ['signal', 'signal_name', 'exception'],
  },
  { kind: 'archive_failed', stage: 'gave_up', re: /^archiving write-ahead log file "([^"]+)" failed too many times/, names: ['wal_file'] },
  { kind: 'archive_failed', stage: 'module_failed', re: /^archive module failed/ },
];

// Rules by the first character of their message, so a record tries only a few.
const BY_FIRST = new Map<number, Rule[]>();
const ANYWHERE: Rule[] = [];
for (const r of RULES) {
  if (r.needs !== undefined) ANYWHERE.push(r);
  else for (const c of firstLetters(r.re.source)) push(c, r);
}

/** The letters a rule's message can start with: every alternative of the pattern (at its top
 *  level, or of a group it starts with) must begin with ^ and a letter. */
function firstLetters(src: string): Set<number> {
  const letters = new Set<number>();
  for (const alt of topLevel(src)) {
    const body = alt.startsWith('^') ? alt.slice(1) : null;
    if (body === null) throw new Error(`server event rule not anchored: ${src}`);
    if (/^[a-zA-Z]/.test(body)) letters.add(body.charCodeAt(0));
    else if (body.startsWith('(')) {
      const group = body.slice(body.startsWith('(?:') ? 3 : 1, closing(body));
      for (const a of topLevel(group)) {
        if (!/^[a-zA-Z]/.test(a)) throw new Error(`server event rule not indexable: ${src}`);
        letters.add(a.charCodeAt(0));
      }
    } else throw new Error(`server event rule not indexable: ${src}`);
  }
  return letters;
}

/** The alternatives of a pattern at its top level (not inside a group or a class). */
function topLevel(src: string): string[] {
  const alts: string[] = [];
  let depth = 0;
  let inClass = false;
  let from = 0;
  for (let i = 0; i < src.length; i++) {
    const c = src[i];
    if (c === '\\') i++;
    else if (inClass) inClass = c !== ']';
    else if (c === '[') inClass = true;
    else if (c === '(') depth++;
    else if (c === ')') depth--;
    else if (c === '|' && depth === 0) {
      alts.push(src.slice(from, i));
      from = i + 1;
    }
  }
  alts.push(src.slice(from));
  return alts;
}

/** Where the group that `s` starts with closes. */
function closing(s: string): number {
  let depth = 0;
  for (let i = 0; i < s.length; i++) {
    if (s[i] === '\\') i++;
    else if (s[i] === '(') depth++;
    else if (s[i] === ')' && --depth === 0) return i;
  }
  throw new Error(`unbalanced group: ${s}`);
}
function push(c: number, r: Rule): void {
  const list = BY_FIRST.get(c);
  if (list) list.push(r);
  else BY_FIRST.set(c, [r]);
}

export interface ServerEvent {
  kind: LogEventKind;
  details: Record<string, EventValue>;
}

export function serverEvent(msg: string, atError = false): ServerEvent | null {
  const rules = BY_FIRST.get(msg.charCodeAt(0));
  if (rules)
    for (const r of rules) {
      if (atError && r.notAtError) continue;
      const e = apply(r, msg);
      if (e) return e;
    }
  for (const r of ANYWHERE)
    if (msg.includes(r.needs!)) {
      const e = apply(r, msg);
      if (e) return e;
    }
  return null;
}

function apply(r: Rule, msg: string): ServerEvent | null {
  const m = r.re.exec(msg);
  if (!m) return null;
  const d: Record<string, EventValue> = {};
  let kind = r.kind;
  if (r.stage) d.stage = r.stage;
  r.names?.forEach((name, i) => {
    const v = m[i + 1];
    if (v !== undefined && d[name] === undefined) d[name] = NUMERIC.has(name) || name.endsWith('_s') ? Number(v) : v;
  });
  if (r.flags) Object.assign(d, r.flags);
  const refined = r.refine?.(d);
  if (refined) {
    kind = refined.kind;
    d.stage = refined.stage;
  }
  return { kind, details: d };
}
