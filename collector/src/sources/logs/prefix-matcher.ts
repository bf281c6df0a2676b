// Compiles a log_line_prefix into a matcher that reads the prefix fields off a stderr line.
// The matcher walks the line once with charCode comparisons (no regex per line): fixed-shape
// escapes (times, numbers, session ids) are read by their shape, free-text escapes (%u %d %a
// %h %r %i %b) extend to the next literal of the prefix. %q ends the prefix for processes
// without a session, so a line that does not match the full prefix is tried against the part
// before %q.

/** Fields a prefix can carry; unset ones stay null. */
export interface PrefixFields {
  time: string | null;
  pid: number | null;
  leaderPid: number | null;
  lineNum: number | null;
  user: string | null;
  database: string | null;
  application: string | null;
  client: string | null;
  sessionId: string | null;
  backendType: string | null;
  queryId: string | null;
  sqlstate: string | null;
  vxid: string | null;
  txid: string | null;
  commandTag: string | null;
}

export function emptyPrefixFields(): PrefixFields {
  return {
    time: null,
    pid: null,
    leaderPid: null,
    lineNum: null,
    user: null,
    database: null,
    application: null,
    client: null,
    sessionId: null,
    backendType: null,
    queryId: null,
    sqlstate: null,
    vxid: null,
    txid: null,
    commandTag: null,
  };
}

export function resetPrefixFields(f: PrefixFields): void {
  f.time = f.pid = f.leaderPid = f.lineNum = f.user = f.database = f.application = f.client = null;
  f.sessionId = f.backendType = f.queryId = f.sqlstate = f.vxid = f.txid = f.commandTag = null;
}

type Shape = 'time' | 'epoch' | 'int' | 'session' | 'vxid' | 'sqlstate' | 'text' | 'backend';
type Field = keyof PrefixFields;

interface Escape {
  readonly shape: Shape;
  readonly field: Field | null;
}

const ESCAPES: Readonly<Record<string, Escape>> = {
  a: { shape: 'text', field: 'application' },
  u: { shape: 'text', field: 'user' },
  d: { shape: 'text', field: 'database' },
  r: { shape: 'text', field: 'client' },
  h: { shape: 'text', field: 'client' },
  b: { shape: 'backend', field: 'backendType' },
  p: { shape: 'int', field: 'pid' },
  P: { shape: 'int', field: 'leaderPid' },
  t: { shape: 'time', field: 'time' },
  m: { shape: 'time', field: 'time' },
  n: { shape: 'epoch', field: 'time' },
  i: { shape: 'text', field: 'commandTag' },
  e: { shape: 'sqlstate', field: 'sqlstate' },
  c: { shape: 'session', field: 'sessionId' },
  l: { shape: 'int', field: 'lineNum' },
  s: { shape: 'time', field: null },
  v: { shape: 'vxid', field: 'vxid' },
  x: { shape: 'int', field: 'txid' },
  Q: { shape: 'int', field: 'queryId' },
};

/** Backend types as %b prints them; matched whole because several contain spaces. */
const BACKEND_TYPES = [
  'logical replication tablesync worker',
  'logical replication parallel worker',
  'logical replication apply worker',
  'logical replication launcher',
  'logical replication worker',
  'parallel apply worker',
  'autovacuum launcher',
  'autovacuum worker',
  'standalone backend',
  'background writer',
  'background worker',
  'client backend',
  'parallel worker',
  'slotsync worker',
  'not initialized',
  'walsummarizer',
  'walsender',
  'walreceiver',
  'walwriter',
  'checkpointer',
  'postmaster',
  'archiver',
  'io worker',
  'syslogger',
  'startup',
  'stats collector',
  '[unknown]',
];

type Token =
  | { readonly kind: 'literal'; readonly text: string }
  | { readonly kind: 'escape'; readonly esc: Escape; readonly pad: number; readonly next: string | null }
  | { readonly kind: 'q' };

export class PrefixSyntaxError extends Error {
  override readonly name = 'PrefixSyntaxError';
}

export interface PrefixMatcher {
  readonly prefix: string;
  /** Whether the prefix carries the time (%t, %m, %n). */
  readonly hasTime: boolean;
  readonly hasPid: boolean;
  /**
   * Matches the prefix at the start of `line`, filling `out`. `accept(end)` is asked whether
   * what follows the prefix is acceptable (a severity label); returns the end index or -1.
   */
  match(line: string, out: PrefixFields, accept: (line: string, end: number) => boolean): number;
}

function tokenize(prefix: string): Token[] {
  const raw: Array<Token | { kind: 'escape'; esc: Escape; pad: number }> = [];
  let lit = '';
  for (let i = 0; i < prefix.length; i++) {
    const ch = prefix[i];
    if (ch !== '%') {
      lit += ch;
      continue;
    }
    let j = i + 1;
    let padText = '';
    while (j < prefix.length && /[-0-9]/.test(prefix[j])) padText += prefix[j++];
    const code = prefix[j];
    i = j;
    if (code === undefined) break;
    if (code === '%') {
      lit += '%';
      continue;
    }
    if (lit) {
      raw.push({ kind: 'literal', text: lit });
      lit = '';
    }
    if (code === 'q') {
      raw.push({ kind: 'q' });
      continue;
    }
    const esc = ESCAPES[code];
    // PostgreSQL prints nothing for an unknown escape; so do we expect nothing.
    if (!esc) continue;
    const pad = padText === '' || padText === '-' ? 0 : Number(padText);
    if (!Number.isFinite(pad)) throw new PrefixSyntaxError(`bad padding in log_line_prefix near %${padText}${code}`);
    raw.push({ kind: 'escape', esc, pad });
  }
  if (lit) raw.push({ kind: 'literal', text: lit });
  // Free-text escapes stop at the next literal; remember it (a space when an escape follows).
  return raw.map((t, k) => {
    if (t.kind !== 'escape') return t;
    let next: string | null = null;
    for (let n = k + 1; n < raw.length; n++) {
      const u = raw[n];
      if (u.kind === 'literal') {
        next = u.text;
        break;
      }
      if (u.kind === 'escape') {
        next = ' ';
        break;
      }
    }
    return { kind: 'escape', esc: t.esc, pad: t.pad, next };
  });
}

const isDigit = (c: number): boolean => c >= 48 && c <= 57;
const isHex = (c: number): boolean => (c >= 48 && c <= 57) || (c >= 97 && c <= 102) || (c >= 65 && c <= 70);

function skipSpaces(line: string, pos: number): number {
  while (line.charCodeAt(pos) === 32) pos++;
  return pos;
}

/** Reads one escape's value starting at pos; returns its end or -1. */
function readEscape(line: string, pos: number, t: { esc: Escape; pad: number; next: string | null }, out: PrefixFields): number {
  const start = t.pad !== 0 ? skipSpaces(line, pos) : pos;
  let end = start;
  switch (t.esc.shape) {
    case 'time': {
      if (
        !(
          isDigit(line.charCodeAt(start)) &&
          line.charCodeAt(start + 4) === 45 &&
          line.charCodeAt(start + 10) === 32 &&
          line.charCodeAt(start + 13) === 58 &&
          line.charCodeAt(start + 16) === 58
        )
      )
        return -1;
      end = start + 19;
      if (line.charCodeAt(end) === 46) {
        end++;
        while (isDigit(line.charCodeAt(end))) end++;
      }
      if (line.charCodeAt(end) === 32) {
        // The zone is an abbreviation (UTC, CEST) or a numeric offset (-03, +0530), never both:
        // Azure's '%t-%c-' puts a '-' and the session id right after it.
        let z = end + 1;
        const c0 = line.charCodeAt(z);
        if (c0 === 43 || c0 === 45) {
          z++;
          while (isDigit(line.charCodeAt(z))) z++;
          if (z === end + 2) z = end + 1;
        } else
          for (;;) {
            const c = line.charCodeAt(z);
            if ((c >= 65 && c <= 90) || (c >= 97 && c <= 122)) z++;
            else break;
          }
        if (z > end + 1) end = z;
      }
      break;
    }
    case 'epoch':
      while (isDigit(line.charCodeAt(end))) end++;
      if (line.charCodeAt(end) === 46) {
        end++;
        while (isDigit(line.charCodeAt(end))) end++;
      }
      if (end === start) return -1;
      break;
    case 'int':
      if (line.charCodeAt(end) === 45) end++;
      while (isDigit(line.charCodeAt(end))) end++;
      break;
    case 'session':
      while (isHex(line.charCodeAt(end))) end++;
      if (line.charCodeAt(end) !== 46) return -1;
      end++;
      while (isHex(line.charCodeAt(end))) end++;
      break;
    case 'vxid':
      while (isDigit(line.charCodeAt(end))) end++;
      if (line.charCodeAt(end) === 47) {
        end++;
        while (isDigit(line.charCodeAt(end))) end++;
      }
      break;
    case 'sqlstate':
      for (let k = 0; k < 5; k++) {
        const c = line.charCodeAt(end);
        if (!(isDigit(c) || (c >= 65 && c <= 90))) return -1;
        end++;
      }
      break;
    // biome-ignore lint/suspicious/noFallthroughSwitchClause: an unknown backend type is read like free text
    case 'backend': {
      const hit = BACKEND_TYPES.find((b) => line.startsWith(b, start));
      if (hit) {
        end = start + hit.length;
        break;
      }
    }
    // falls through: an unknown backend type is read like free text
    case 'text': {
      if (t.next === null) {
        const sp = line.indexOf(' ', start);
        end = sp < 0 ? line.length : sp;
      } else {
        // A padded value fills at least `pad` characters, so the delimiter cannot come earlier.
        const from = t.pad > 0 ? Math.max(start, pos + t.pad) : start;
        const at = line.indexOf(t.next, from);
        if (at < 0) return -1;
        end = at;
      }
      break;
    }
  }
  if (t.esc.field !== null) assign(out, t.esc.field, line.slice(start, end));
  return t.pad !== 0 && t.esc.shape !== 'text' ? skipSpaces(line, end) : end;
}

/** Each field is stored by name: with a store through a computed key (`out[field]`) this function
 *  took 8% of bench:logs' pipeline profile; by name the pipeline used ~3% less CPU (3 paired
 *  whole-process rounds on the 222 MB log). */
function assign(out: PrefixFields, field: Field, rawValue: string): void {
  const value = rawValue.length > 0 && rawValue.charCodeAt(rawValue.length - 1) === 32 ? rawValue.trimEnd() : rawValue;
  const text = value === '' || value === '[unknown]' ? null : value;
  switch (field) {
    case 'time':
      out.time = text;
      break;
    case 'pid':
      out.pid = value === '' ? null : Number(value);
      break;
    case 'leaderPid':
      out.leaderPid = value === '' ? null : Number(value);
      break;
    case 'lineNum':
      out.lineNum = value === '' ? null : Number(value);
      break;
    case 'user':
      out.user = text;
      break;
    case 'database':
      out.database = text;
      break;
    case 'application':
      out.application = text;
      break;
    case 'client':
      out.client = text;
      break;
    case 'sessionId':
      out.sessionId = text;
      break;
    case 'backendType':
      out.backendType = text;
      break;
    case 'queryId':
      out.queryId = text;
      break;
    case 'sqlstate':
      out.sqlstate = text;
      break;
    case 'vxid':
      out.vxid = text;
      break;
    case 'txid':
      out.txid = text;
      break;
    case 'commandTag':
      out.commandTag = text;
      break;
  }
}

export function compilePrefix(prefix: string): PrefixMatcher {
  const tokens = tokenize(prefix);
  const qAt = tokens.findIndex((t) => t.kind === 'q');
  const full = tokens.filter((t) => t.kind !== 'q');
  const short = qAt >= 0 ? tokens.slice(0, qAt) : null;
  const times = new Set(['time', 'epoch']);
  const esc = (list: Token[]) => list.flatMap((t) => (t.kind === 'escape' ? [t] : []));

  const run = (list: Token[], line: string, out: PrefixFields): number => {
    let pos = 0;
    for (let k = 0; k < list.length; k++) {
      const t = list[k];
      if (t.kind === 'literal') {
        if (!line.startsWith(t.text, pos)) return -1;
        pos += t.text.length;
      } else if (t.kind === 'escape') {
        pos = readEscape(line, pos, t, out);
        if (pos < 0) return -1;
      }
    }
    return pos;
  };

  return {
    prefix,
    hasTime: esc(full).some((t) => times.has(t.esc.shape) && t.esc.field === 'time'),
    hasPid: esc(full).some((t) => t.esc.field === 'pid'),
    match(line, out, accept) {
      resetPrefixFields(out);
      const end = run(full, line, out);
      if (end >= 0 && accept(line, end)) return end;
      if (short) {
        resetPrefixFields(out);
        const e2 = run(short, line, out);
        if (e2 >= 0 && accept(line, e2)) return e2;
      }
      return -1;
    },
  };
}
