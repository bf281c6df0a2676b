// Names what a record means. Messages are matched in English (lc_messages must be C or en,
// as for every log analyser); the cheap startsWith checks on the most frequent messages come
// first because a busy server writes mostly durations and connections.
import type { LogEventKind, Severity } from './event-kinds.ts';
import type { LogRecord } from './log-record.ts';
import { serverEvent } from './server-events.ts';
import { inferSqlstate, sqlstateClassName } from './sqlstate.ts';

export type DetailValue = number | string | boolean | number[];
export type Details = Record<string, DetailValue>;

export interface Classified {
  kind: LogEventKind;
  details: Details;
  /** SQLSTATE from the record, else inferred from the message (then details.sqlstate_inferred). */
  sqlstate: string | null;
  durationMs: number | null;
  tempBytes: number | null;
  waitMs: number | null;
  /** The SQL text the message itself carries (duration/statement records), if any. */
  messageSql: string | null;
  /** Where messageSql starts in the message. */
  messageSqlAt: number;
}

const n = (s: string | undefined): number => Number(s);

function put(d: Details, re: RegExp, text: string, names: readonly string[]): boolean {
  const m = re.exec(text);
  if (!m) return false;
  names.forEach((name, i) => {
    if (name && m[i + 1] !== undefined) d[name] = n(m[i + 1]);
  });
  return true;
}

function base(kind: LogEventKind, rec: LogRecord): Classified {
  return { kind, details: {}, sqlstate: rec.sqlstate, durationMs: null, tempBytes: null, waitMs: null, messageSql: null, messageSqlAt: -1 };
}

// The messages that warn of (or refuse work for) transaction ID / MultiXact wraparound, as
// varsup.c and multixact.c write them; not every message that says "wraparound" ("MultiXact
// member wraparound protections are now enabled" is good news).
const WRAPAROUND =
  /must be vacuumed (?:within|before)|^database (?:with OID \d+ )?is not accepting commands .*to avoid wraparound|^multixact "members" limit exceeded|^oldest xmin is far in the past/;

const STATEMENT_PHASES = ['statement: ', 'execute ', 'parse ', 'bind ', 'plan:'] as const;

/** "duration: 1.2 ms  statement: …", "execute S_1: …", "statement: …" */
function statementLike(msg: string, from: number, c: Classified): void {
  for (const p of STATEMENT_PHASES) {
    if (!msg.startsWith(p, from)) continue;
    const phase = p === 'statement: ' ? 'statement' : p === 'plan:' ? 'plan' : p.trimEnd();
    c.details.phase = phase;
    let at = from + p.length;
    if (phase === 'execute' || phase === 'parse' || phase === 'bind') {
      const colon = msg.indexOf(': ', at);
      if (colon < 0) return;
      c.details.prepared = msg.slice(at, colon);
      at = colon + 2;
    }
    if (phase !== 'plan') {
      c.messageSql = msg.slice(at);
      c.messageSqlAt = at;
    }
    return;
  }
}

export function classify(rec: LogRecord): Classified {
  const msg = rec.message;
  const sev = rec.severity;
  const c0 = msg.charCodeAt(0);

  if (sev === 'LOG') {
    if (c0 === 100 /* d */ && msg.startsWith('duration: ')) {
      const end = msg.indexOf(' ms', 10);
      const c = base('duration', rec);
      c.durationMs = n(msg.slice(10, end));
      c.details.duration_ms = c.durationMs;
      if (msg.startsWith('  ', end + 3)) {
        c.kind = 'statement_duration';
        statementLike(msg, end + 5, c);
      }
      return c;
    }
    if (msg.startsWith('statement: ') || msg.startsWith('execute ')) {
      const c = base('statement', rec);
      statementLike(msg, 0, c);
      return c;
    }
    if (c0 === 99 /* c */) {
      if (msg.startsWith('connection received: ')) {
        const c = base('connection_received', rec);
        const m = /host=(\S+)(?: port=(\d+))?/.exec(msg);
        if (m) {
          c.details.host = m[1];
          if (m[2]) c.details.port = n(m[2]);
        }
        return c;
      }
      if (msg.startsWith('connection authenticated: ')) {
        // PostgreSQL 14+: who the client proved to be, how, and which pg_hba.conf line let it in.
        const c = base('connection_authenticated', rec);
        const m = /^connection authenticated: identity="(.*)" method=(\S+) \((.*):(\d+)\)$/s.exec(msg);
        if (m) {
          c.details.identity = m[1];
          c.details.method = m[2];
          c.details.hba_file = m[3];
          c.details.hba_line = n(m[4]);
        }
        return c;
      }
      if (msg.startsWith('connection authorized: ')) return authorized(rec, msg);
      if (msg.startsWith('checkpoint starting: ')) return starting('checkpoint_starting', rec, msg);
      if (msg.startsWith('checkpoint complete: ')) return complete('checkpoint_complete', rec, msg);
    }
    if (msg.startsWith('disconnection: session time: ')) {
      const c = base('disconnection', rec);
      const m = /^disconnection: session time: (\d+):(\d\d):(\d\d(?:\.\d+)?)/.exec(msg);
      if (m) c.details.session_ms = Math.round((n(m[1]) * 3600 + n(m[2]) * 60 + n(m[3])) * 1000);
      return c;
    }
    if (msg.startsWith('automatic ')) {
      if (msg.startsWith('automatic analyze of table ')) return vacuum('autoanalyze', rec, msg);
      if (/^automatic (?:aggressive )?vacuum (?:to prevent wraparound )?of table /.test(msg)) return vacuum('autovacuum', rec, msg);
    }
    if (msg.startsWith('temporary file: ')) {
      const c = base('temp_file', rec);
      const m = /path "([^"]*)", size (\d+)/.exec(msg);
      if (m) {
        c.details.path = m[1];
        c.tempBytes = n(m[2]);
        c.details.size_bytes = c.tempBytes;
      }
      return c;
    }
    if (msg.startsWith('process ')) {
      const m =
        /^process (\d+) (still waiting for|acquired|detected deadlock while waiting for|avoided deadlock for) (\S+) on (.+?) after ([\d.]+) ms/.exec(
          msg,
        );
      if (m) {
        const c = base(m[2] === 'acquired' ? 'lock_acquired' : 'lock_waiting', rec);
        c.details.waiting_pid = n(m[1]);
        c.details.lock_mode = m[3];
        c.details.lock_object = m[4];
        c.waitMs = n(m[5]);
        c.details.wait_ms = c.waitMs;
        if (m[2].startsWith('detected')) c.details.deadlock_detected = true;
        const h = rec.detail ? /Process(?:es)? holding the lock: ([\d, ]+)\. Wait queue: ([\d, ]*)/.exec(rec.detail) : null;
        if (h) {
          c.details.blocker_pids = pids(h[1]);
          c.details.wait_queue = pids(h[2]);
        }
        return c;
      }
    }
    if (msg.startsWith('replication connection authorized: ')) {
      const c = authorized(rec, msg);
      c.details.replication = true;
      return c;
    }
    if (msg.startsWith('restartpoint starting: ')) return starting('restartpoint_starting', rec, msg);
    if (msg.startsWith('restartpoint complete: ')) return complete('restartpoint_complete', rec, msg);
  }

  // Less frequent messages, any severity.
  if (msg.startsWith('database system is ready to accept ')) {
    const c = base('server_ready', rec);
    c.details.read_only = msg.includes('read-only');
    return c;
  }
  const event = serverEvent(msg, sev === 'ERROR');
  if (event) {
    const c = base(event.kind, rec);
    Object.assign(c.details, event.details);
    if (event.kind === 'archive_failed' && c.details.wal_file === undefined && rec.detail) {
      const f = /archive command was: .*?([0-9A-F]{24}(?:\.partial|\.history|\.\d{8}\.backup)?)/.exec(rec.detail);
      if (f) c.details.wal_file = f[1];
    }
    if (event.kind === 'replication_slot' && c.details.lsn === undefined && rec.detail) {
      // 16+: "The slot's restart_lsn 0/1511A60 exceeds the limit by 1234 bytes."
      const l = /restart_lsn ([0-9A-F]+\/[0-9A-F]+) exceeds the limit by (\d+) bytes/.exec(rec.detail);
      if (l) {
        c.details.lsn = l[1];
        c.details.bytes_over_limit = n(l[2]);
      }
    }
    return sev === 'ERROR' || sev === 'FATAL' || sev === 'PANIC' ? withInferred(c, msg, sev) : c;
  }
  if (WRAPAROUND.test(msg)) {
    const c = base('wraparound_warning', rec);
    const m = /must be vacuumed within (\d+) transactions/.exec(msg);
    if (m) c.details.xids_left = n(m[1]);
    const d = /database "([^"]+)"/.exec(msg);
    if (d) c.details.target_database = d[1];
    if (sev === 'ERROR' || sev === 'FATAL') c.details.refusing = true;
    return c.sqlstate === null ? withInferred(c, msg, sev) : c;
  }
  if (sev === 'ERROR' || sev === 'FATAL' || sev === 'PANIC') return failure(rec, msg);
  return base('other', rec);
}

/** "[replication ]connection authorized: user=… database=… application_name=… SSL enabled (…)" */
function authorized(rec: LogRecord, msg: string): Classified {
  const c = base('connection_authorized', rec);
  const m = /user=(\S+)(?: database=(\S+))?(?: application_name=(.*?))?(?: SSL enabled|$| GSS| replication=)/.exec(msg);
  if (m) {
    c.details.user = m[1];
    if (m[2]) c.details.database = m[2];
    if (m[3]) c.details.application = m[3];
  }
  if (msg.includes('SSL enabled')) c.details.ssl = true;
  return c;
}

function withInferred(c: Classified, msg: string, sev: Severity): Classified {
  if (c.sqlstate === null) {
    const s = inferSqlstate(msg, sev);
    if (s) {
      c.sqlstate = s;
      c.details.sqlstate_inferred = true;
    }
  }
  if (c.sqlstate) c.details.error_class = sqlstateClassName(c.sqlstate);
  return c;
}

function failure(rec: LogRecord, msg: string): Classified {
  const sev = rec.severity;
  const c = withInferred(base(sev === 'ERROR' ? 'error' : sev === 'FATAL' ? 'fatal' : 'panic', rec), msg, sev);
  if (msg === 'deadlock detected') {
    c.kind = 'deadlock';
    if (rec.detail) {
      const waits = [...rec.detail.matchAll(/Process (\d+) waits for (\S+) on (.+?); blocked by process (\d+)\./g)];
      c.details.pids = waits.map((w) => n(w[1]));
      c.details.blocker_pids = waits.map((w) => n(w[4]));
      if (waits[0]) c.details.lock_mode = waits[0][2];
    }
    return c;
  }
  if (msg.startsWith('canceling statement due to ')) {
    const reason = msg.slice('canceling statement due to '.length);
    c.kind = reason === 'statement timeout' ? 'statement_timeout' : reason === 'lock timeout' ? 'lock_timeout' : 'statement_canceled';
    c.details.reason = reason.replace(/ /g, '_');
    return c;
  }
  if (msg === 'canceling autovacuum task') {
    c.kind = 'statement_canceled';
    c.details.reason = 'autovacuum_task';
    return c;
  }
  if (msg.startsWith('out of memory') || c.sqlstate === '53200') {
    c.kind = 'out_of_memory';
    return c;
  }
  if (sev === 'FATAL') {
    if (
      msg.includes('authentication failed') ||
      msg.includes('pg_hba.conf') ||
      msg.includes('is not permitted to log in') ||
      (msg.startsWith('role "') && msg.endsWith('" does not exist'))
    ) {
      c.kind = 'authentication_failed';
      const m = /for user "([^"]+)"/.exec(msg) ?? /^role "([^"]+)"/.exec(msg) ?? /user "([^"]+)"/.exec(msg);
      if (m) c.details.login_user = m[1];
      const method = /^(\w+) authentication failed/.exec(msg);
      if (method) c.details.method = method[1].toLowerCase();
      else if (msg.includes('pg_hba.conf')) c.details.method = 'hba';
      return c;
    }
    if (
      msg === 'sorry, too many clients already' ||
      msg.startsWith('remaining connection slots are reserved') ||
      msg.startsWith('too many connections for ')
    ) {
      c.kind = 'too_many_connections';
      return c;
    }
  }
  return c;
}

function pids(s: string): number[] {
  return s
    .split(',')
    .map((x) => x.trim())
    .filter((x) => x !== '')
    .map(Number);
}

function starting(kind: LogEventKind, rec: LogRecord, msg: string): Classified {
  const c = base(kind, rec);
  c.details.reason = msg.slice(msg.indexOf(': ') + 2).trim();
  return c;
}

function complete(kind: LogEventKind, rec: LogRecord, msg: string): Classified {
  const c = base(kind, rec);
  const d = c.details;
  put(d, /wrote (\d+) buffers \(([\d.]+)%\)/, msg, ['buffers_written', 'buffers_pct']);
  put(d, /wrote (\d+) SLRU buffers/, msg, ['slru_buffers_written']);
  put(d, /(\d+) (?:WAL|transaction log) file\(s\) added, (\d+) removed, (\d+) recycled/, msg, ['wal_added', 'wal_removed', 'wal_recycled']);
  put(d, /write=([\d.]+) s, sync=([\d.]+) s, total=([\d.]+) s/, msg, ['write_s', 'sync_s', 'total_s']);
  put(d, /sync files=(\d+), longest=([\d.]+) s, average=([\d.]+) s/, msg, ['sync_files', 'sync_longest_s', 'sync_average_s']);
  put(d, /distance=(\d+) kB, estimate=(\d+) kB/, msg, ['distance_kb', 'estimate_kb']);
  const lsn = /lsn=([0-9A-F]+\/[0-9A-F]+), redo lsn=([0-9A-F]+\/[0-9A-F]+)/.exec(msg);
  if (lsn) {
    d.lsn = lsn[1];
    d.redo_lsn = lsn[2];
  }
  if (d.total_s !== undefined) c.durationMs = Math.round((d.total_s as number) * 1000 * 1000) / 1000;
  return c;
}

function vacuum(kind: LogEventKind, rec: LogRecord, msg: string): Classified {
  const c = base(kind, rec);
  const d = c.details;
  const t = /of table "([^"]+)"/.exec(msg);
  if (t) d.table = t[1];
  if (kind === 'autovacuum') {
    d.aggressive = msg.startsWith('automatic aggressive');
    d.to_prevent_wraparound = msg.includes('to prevent wraparound');
    put(d, /index scans: (\d+)/, msg, ['index_scans']);
    put(d, /pages: (\d+) removed, (\d+) remain(?:, (\d+) scanned)?/, msg, ['pages_removed', 'pages_remaining', 'pages_scanned']);
    put(d, /tuples: (\d+) removed, (\d+) remain, (\d+) are dead but not yet removable/, msg, [
      'tuples_removed',
      'tuples_remaining',
      'tuples_dead',
    ]);
    put(d, /WAL usage: (\d+) records, (\d+) full page images, (\d+) bytes/, msg, ['wal_records', 'wal_fpi', 'wal_bytes']);
  }
  put(d, /buffer usage: (\d+) hits, (\d+) (?:misses|reads), (\d+) dirtied/, msg, ['buffer_hits', 'buffer_misses', 'buffer_dirtied']);
  put(d, /avg read rate: ([\d.]+) MB\/s, avg write rate: ([\d.]+) MB\/s/, msg, ['read_mb_per_s', 'write_mb_per_s']);
  put(d, /I\/O timings: read: ([\d.]+) ms, write: ([\d.]+) ms/, msg, ['io_read_ms', 'io_write_ms']);
  if (!put(d, /CPU: user: ([\d.]+) s, system: ([\d.]+) s, elapsed: ([\d.]+) s/, msg, ['cpu_user_s', 'cpu_system_s', 'elapsed_s'])) {
    put(d, /CPU:? ([\d.]+)s\/([\d.]+)u sec elapsed ([\d.]+) sec/, msg, ['cpu_system_s', 'cpu_user_s', 'elapsed_s']);
  }
  if (d.elapsed_s !== undefined) c.durationMs = Math.round((d.elapsed_s as number) * 1000 * 1000) / 1000;
  return c;
}
