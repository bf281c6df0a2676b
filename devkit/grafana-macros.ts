// Does to a panel's SQL what Grafana 11 does before its grafana-postgresql-datasource runs it
// (see /work/shared/GRAFANA-SQL.md), so tests can run dashboards' SQL without a Grafana:
//   1. frontend: template variables ($var, ${var}, ${var:format}, [[var]]) and the built-ins
//      $__interval, $__interval_ms, $__from, $__to, $__range*;
//   2. backend (sqleng): $__interval_ms, $__interval, $__unixEpochFrom(), $__unixEpochTo();
//   3. PostgreSQL macro engine: every `$__name(args)`; an unknown name is an error.
// The result is literal SQL: Grafana uses no bind parameters.

export interface TimeRange {
  readonly from: Date;
  readonly to: Date;
}

/** A string[] is a multi-value (or All) selection; a string is a single value. */
export type VariableValue = string | readonly string[];

export interface IntervalOptions {
  /** Points the panel asks for (Grafana uses the panel's width in pixels); default 1000. */
  readonly maxDataPoints?: number;
  /** The panel's "Min interval" query option, e.g. '5m'. */
  readonly panelMinInterval?: string;
  /** The datasource's jsonData.timeInterval; the SQL datasources default it to '1m'. */
  readonly datasourceTimeInterval?: string;
}

export interface ExpandOptions {
  readonly range: TimeRange;
  readonly variables?: Readonly<Record<string, VariableValue>>;
  /** Variables defined with multi or includeAll: a single string value of theirs is quoted too. */
  readonly multiVariables?: readonly string[];
  readonly interval?: IntervalOptions;
  /** The datasource's jsonData.timescaledb: $__timeGroup becomes time_bucket. */
  readonly timescaledb?: boolean;
  /** Wall clock for calendar units (d w M y) in $__timeGroup, which Grafana measures from now. */
  readonly now?: Date;
}

/** A query Grafana would refuse: unknown macro, missing argument, bad interval or fill value. */
export class MacroError extends Error {
  override readonly name = 'MacroError';
}

const DEFAULT_MAX_DATA_POINTS = 1000;
const SQL_DEFAULT_TIME_INTERVAL = '1m';

// ---------------------------------------------------------------------------------------------
// Intervals

const UNIT_MS: Readonly<Record<string, number>> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
  M: 2_592_000_000,
  y: 31_536_000_000,
};

/** Grafana frontend's intervalToMs: '30s', '1m', '>1m' (the '>' means "at least"), '2w'. */
export function intervalToMs(text: string): number {
  const m = /^>?\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w|M|y)$/.exec(text.trim());
  if (!m) throw new MacroError(`invalid interval "${text}"`);
  return Number(m[1]) * UNIT_MS[m[2]]!;
}

/** Grafana frontend's rangeUtil.roundInterval: a nearby "round" interval, in ms. */
export function roundInterval(ms: number): number {
  const steps: ReadonlyArray<readonly [number, number]> = [
    [15, 10],
    [35, 20],
    [75, 50],
    [150, 100],
    [350, 200],
    [750, 500],
    [1500, 1000],
    [3500, 2000],
    [7500, 5000],
    [12500, 10000],
    [17500, 15000],
    [25000, 20000],
    [45000, 30000],
    [90000, 60000],
    [210000, 120000],
    [450000, 300000],
    [750000, 600000],
    [1050000, 900000],
    [1500000, 1200000],
    [2700000, 1800000],
    [5400000, 3600000],
    [9000000, 7200000],
    [16200000, 10800000],
    [32400000, 21600000],
    [86400000, 43200000],
    [604800000, 86400000],
    [1814400000, 604800000],
    [3628800000, 2592000000],
  ];
  for (const [below, value] of steps) if (ms < below) return value;
  return 31536000000;
}

/** Grafana's secondsToHms: the largest whole unit, e.g. 60000 → '1m', 5400000 → '1h'. */
export function formatInterval(ms: number): string {
  const s = ms / 1000;
  const parts: ReadonlyArray<readonly [number, string]> = [
    [Math.floor(s / 31536000), 'y'],
    [Math.floor((s % 31536000) / 86400), 'd'],
    [Math.floor((s % 86400) / 3600), 'h'],
    [Math.floor((s % 3600) / 60), 'm'],
    [Math.floor(s % 60), 's'],
  ];
  for (const [n, unit] of parts) if (n) return `${n}${unit}`;
  return `${Math.floor(ms)}ms`;
}

/** $__interval: range / maxDataPoints rounded, never below panel min interval, else the
 *  datasource's timeInterval, else 1m. */
export function calculateInterval(range: TimeRange, opts: IntervalOptions = {}): { intervalMs: number; text: string } {
  const lowLimit = opts.panelMinInterval || opts.datasourceTimeInterval || SQL_DEFAULT_TIME_INTERVAL;
  const maxDataPoints = opts.maxDataPoints ?? DEFAULT_MAX_DATA_POINTS;
  const intervalMs = Math.max(roundInterval((range.to.getTime() - range.from.getTime()) / maxDataPoints), intervalToMs(lowLimit));
  return { intervalMs, text: formatInterval(intervalMs) };
}

// Go's time.ParseDuration units (used by gtime.ParseInterval for everything but d w M y).
const GO_UNIT_NS: Readonly<Record<string, number>> = { ns: 1, us: 1e3, µs: 1e3, μs: 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };

/** gtime.ParseInterval, in seconds: Go durations ('90s', '1h30m', '500ms') or N d/w/M/y, which
 *  Grafana measures as calendar time from now (so '1M' is 28 to 31 days). */
function parseGoInterval(text: string, now: Date): number {
  const cal = /^(\d+)([dwMy])$/.exec(text);
  if (cal) {
    const n = Number(cal[1]);
    const end = new Date(now.getTime());
    if (cal[2] === 'd') end.setUTCDate(end.getUTCDate() + n);
    if (cal[2] === 'w') end.setUTCDate(end.getUTCDate() + 7 * n);
    if (cal[2] === 'M') end.setUTCMonth(end.getUTCMonth() + n);
    if (cal[2] === 'y') end.setUTCFullYear(end.getUTCFullYear() + n);
    return (end.getTime() - now.getTime()) / 1000;
  }
  if (text === '0') return 0;
  const part = /(\d*\.?\d+|\d+\.)(ns|us|µs|μs|ms|s|m|h)/y;
  let ns = 0;
  let pos = 0;
  const sign = text.startsWith('-') ? -1 : 1;
  if (text.startsWith('-') || text.startsWith('+')) pos = 1;
  if (pos === text.length) throw new MacroError(`invalid duration "${text}"`);
  while (pos < text.length) {
    part.lastIndex = pos;
    const m = part.exec(text);
    if (!m) throw new MacroError(`invalid duration "${text}"`);
    ns += Number(m[1]) * GO_UNIT_NS[m[2]]!;
    pos = part.lastIndex;
  }
  return (sign * ns) / 1e9;
}

/** Go's %v for a float64: shortest digits, exponent form (1.2096e+06) from 1e6 up and below 1e-4. */
function goFloat(x: number): string {
  const [mantissa, e] = x.toExponential().split('e') as [string, string];
  const exp = Number(e);
  if (x !== 0 && (exp < -4 || exp >= 6)) return `${mantissa}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
  return String(x);
}

/** Go's RFC3339Nano in UTC: no fraction when it is zero, trailing zeros dropped. */
function rfc3339(d: Date): string {
  return d.toISOString().replace(/\.(\d*?)0*Z$/, (_, frac: string) => (frac ? `.${frac}Z` : 'Z'));
}

// ---------------------------------------------------------------------------------------------
// 1. Template variables (Grafana frontend)

// Grafana's variableRegex: $var | [[var:fmt]] | ${var.fieldPath:fmt}
const VARIABLE = /\$(\w+)|\[\[(\w+?)(?::(\w+))?\]\]|\$\{(\w+)(?:\.([^:^}]+))?(?::([^}]+))?\}/g;

const quoteLiteral = (v: string): string => `'${v.replace(/'/g, "''")}'`;

function formatVariable(value: VariableValue, format: string | undefined, multi: boolean): string {
  const values = typeof value === 'string' ? [value] : [...value];
  switch (format) {
    case undefined:
      // The SQL datasources' own interpolation: multi/All values quoted, single values escaped only.
      if (typeof value === 'string' && !multi) return value.replace(/'/g, "''");
      return values.length === 0 ? "''" : values.map(quoteLiteral).join(',');
    case 'sqlstring':
      return values.length === 0 ? "''" : values.map(quoteLiteral).join(',');
    case 'raw':
    case 'csv':
      return values.join(',');
    case 'singlequote':
      return values.map((v) => `'${v.replace(/'/g, "\\'")}'`).join(',');
    case 'doublequote':
      return values.map((v) => `"${v.replace(/"/g, '\\"')}"`).join(',');
    default:
      throw new MacroError(`unsupported variable format "${format}"`);
  }
}

function interpolateVariables(sql: string, opts: ExpandOptions, interval: { intervalMs: number; text: string }): string {
  const { from, to } = opts.range;
  const rangeMs = to.getTime() - from.getTime();
  const builtins: Record<string, string> = {
    __interval: interval.text,
    __interval_ms: String(interval.intervalMs),
    __from: String(from.getTime()),
    __to: String(to.getTime()),
    __range: `${Math.round(rangeMs / 1000)}s`,
    __range_s: String(Math.round(rangeMs / 1000)),
    __range_ms: String(rangeMs),
  };
  const vars = opts.variables ?? {};
  const multi = new Set(opts.multiVariables ?? []);
  return sql.replace(
    VARIABLE,
    (match, plain?: string, bracket?: string, bracketFmt?: string, braced?: string, _field?: string, bracedFmt?: string) => {
      const name = plain ?? bracket ?? braced!;
      const format = bracketFmt ?? bracedFmt;
      if (name in builtins) return builtins[name]!;
      if (!Object.hasOwn(vars, name)) return match; // Grafana leaves unknown variables as written
      return formatVariable(vars[name]!, format, multi.has(name));
    },
  );
}

// ---------------------------------------------------------------------------------------------
// 2. sqleng.Interpolate and 3. the PostgreSQL macro engine (Grafana backend)

const MACRO = /\$([_a-zA-Z0-9]+)\(([^)]*)\)/g;

// Go's strings.Split never returns an empty list, so `$__time()` gets one empty argument and
// Grafana formats it as is; the check below only guards our own callers.
function requireArg(name: string, args: readonly string[]): string {
  if (args.length === 0) throw new MacroError(`missing time column argument for macro ${name}`);
  return args[0]!;
}

function groupSeconds(name: string, args: readonly string[], now: Date): number {
  if (args.length < 2) throw new MacroError(`macro ${name} needs time column and interval and optional fill value`);
  let seconds: number;
  try {
    seconds = parseGoInterval(args[1]!.replace(/^'+|'+$/g, ''), now);
  } catch {
    throw new MacroError(`error parsing interval ${args[1]}`);
  }
  // The third argument is a fill mode applied to the result frames, never to the SQL.
  if (args.length === 3 && !/^(NULL|previous)$/.test(args[2]!) && Number.isNaN(Number.parseFloat(args[2]!))) {
    throw new MacroError(`error parsing fill value ${args[2]}`);
  }
  return seconds;
}

function evaluateMacro(name: string, args: readonly string[], opts: ExpandOptions): string {
  const { from, to } = opts.range;
  const now = opts.now ?? new Date();
  const fromS = Math.floor(from.getTime() / 1000);
  const toS = Math.floor(to.getTime() / 1000);
  switch (name) {
    case '__time':
      return `${requireArg(name, args)} AS "time"`;
    case '__timeEpoch':
      return `extract(epoch from ${requireArg(name, args)}) as "time"`;
    case '__timeFilter':
      return `${requireArg(name, args)} BETWEEN '${rfc3339(from)}' AND '${rfc3339(to)}'`;
    case '__timeFrom':
      return `'${rfc3339(from)}'`;
    case '__timeTo':
      return `'${rfc3339(to)}'`;
    case '__timeGroup': {
      const s = groupSeconds(name, args, now);
      if (opts.timescaledb) return `time_bucket('${s.toFixed(3)}s',${args[0]})`;
      return `floor(extract(epoch from ${args[0]})/${goFloat(s)})*${goFloat(s)}`;
    }
    case '__timeGroupAlias':
      return `${evaluateMacro('__timeGroup', args, opts)} AS "time"`;
    case '__unixEpochFilter': {
      const c = requireArg(name, args);
      return `${c} >= ${fromS} AND ${c} <= ${toS}`;
    }
    case '__unixEpochNanoFilter': {
      const c = requireArg(name, args);
      return `${c} >= ${BigInt(from.getTime()) * 1_000_000n} AND ${c} <= ${BigInt(to.getTime()) * 1_000_000n}`;
    }
    case '__unixEpochNanoFrom':
      return String(BigInt(from.getTime()) * 1_000_000n);
    case '__unixEpochNanoTo':
      return String(BigInt(to.getTime()) * 1_000_000n);
    case '__unixEpochGroup': {
      const s = groupSeconds(name, args, now);
      return `floor((${args[0]})/${goFloat(s)})*${goFloat(s)}`;
    }
    case '__unixEpochGroupAlias':
      return `${evaluateMacro('__unixEpochGroup', args, opts)} AS "time"`;
    default:
      throw new MacroError(`unknown macro "${name}"`);
  }
}

function interpolateMacros(sql: string, opts: ExpandOptions): string {
  return sql.replace(MACRO, (whole: string, rawName: string, argText: string) => {
    let name = rawName;
    // Pre-5.3 compatibility: a $__timeGroup(...) followed by ',' gets ' AS "time"'. Grafana looks
    // at the character after the FIRST occurrence of the same text, so copies follow its fate.
    if (name === '__timeGroup') {
      const at = sql.indexOf(whole);
      if (at >= 0 && sql[at + whole.length] === ',') name = '__timeGroupAlias';
    }
    const args = argText.split(',').map((a) => a.replace(/^ +| +$/g, ''));
    return evaluateMacro(name, args, opts);
  });
}

/** The SQL Grafana would send to PostgreSQL for this panel query. Throws MacroError where
 *  Grafana would show an error instead of running the query. */
export function expandMacros(sql: string, opts: ExpandOptions): string {
  const interval = calculateInterval(opts.range, {
    datasourceTimeInterval: SQL_DEFAULT_TIME_INTERVAL,
    ...opts.interval,
  });
  let out = interpolateVariables(sql, opts, interval);
  out = out
    .replaceAll('$__interval_ms', String(interval.intervalMs))
    .replaceAll('$__interval', interval.text)
    .replaceAll('$__unixEpochFrom()', String(Math.floor(opts.range.from.getTime() / 1000)))
    .replaceAll('$__unixEpochTo()', String(Math.floor(opts.range.to.getTime() / 1000)));
  return interpolateMacros(out, opts);
}
