// What a family's previous readings are, by the catalogue entry's kind: one small strategy per
// kind, one instance of it per family and PostgreSQL instance (so two on-change families keep
// two fingerprints). A source pushes a cycle's rows in as it reads them (begin, add…, end) and
// end() gives the samples to send. Keys and counters come from the catalogue entry.
//   snapshot         counters become deltas over the interval (CounterState); others pass
//   on-change        sent only when the reading differs from the last one sent
//   sampled          background samples aggregate over the interval (activity-window.ts)
//   top-statements   counters diffed, the top N by time kept; the entries that did not run are
//                    left out by the server (unchanged) and kept as they were
//   statement-texts  texts of the top statements not sent within TEXT_RESEND_MS
import type { CatalogEntry } from '../sources/postgres/catalog/types.ts';
import { SAMPLE_AGGREGATES, type SampleWindow } from './activity-window.ts';
import { CounterState, type DiffOptions } from './counters.ts';
import { concatColumns, isColumns, rowAt, rowsOfReading, toNumber, type Reading, type Sample, type SampleColumns } from './sample.ts';

/** A statement's text is sent again after this long, so it outlives the table's retention. */
const TEXT_RESEND_MS = 24 * 3600_000;
const MAX_REMEMBERED_TEXTS = 100_000;
/** pg_statements reads every entry once in this many readings (TopStatementsState.unchanged). */
const FULL_READ_EVERY = 10;

export interface FamilyState {
  /** A cycle's reading starts: `at` is its time (ms), `epoch` the server's start time. */
  begin(at: number, epoch: string): void;
  /** Rows as they are read: one database's result, a cursor's chunk, a background sample. */
  add(reading: Reading): void;
  /** The cycle's samples to send. */
  end(): Reading;
  /** Forget what was sent, so the next cycle sends as a first one does. */
  forget?(): void;
}

function diffOptions(entry: CatalogEntry, epoch: string): DiffOptions {
  return { keys: entry.keys, counters: entry.counters, epoch, newSeriesFromZero: entry.newSeriesFromZero };
}

/** Counters become deltas in place (the rows or columns are the reading's own, not copies).
 *  A family is read either by row or by column (catalog.ts sqlFor), never both. */
class SnapshotState implements FamilyState {
  private readonly counters = new CounterState();
  private rows: Sample[] = [];
  private columns: SampleColumns | undefined;
  constructor(private readonly entry: CatalogEntry) {}

  begin(at: number, epoch: string): void {
    this.rows = [];
    this.columns = undefined;
    if (this.entry.counters.length > 0) this.counters.begin(at, diffOptions(this.entry, epoch));
  }

  add(reading: Reading): void {
    const diff = this.entry.counters.length > 0;
    if (isColumns(reading)) {
      if (diff) this.counters.columns(reading);
      this.columns = this.columns ? concatColumns(this.columns, reading) : reading;
      return;
    }
    for (const r of reading) {
      if (diff) this.counters.row(r);
      this.rows.push(r);
    }
  }

  end(): Reading {
    if (this.entry.counters.length > 0) this.counters.end();
    const got = this.columns ?? this.rows;
    this.rows = [];
    this.columns = undefined;
    return got;
  }
}

class OnChangeState implements FamilyState {
  private fingerprint: string | undefined;
  private rows: Sample[] = [];

  begin(): void {
    this.rows = [];
  }
  add(reading: Reading): void {
    for (const r of rowsOfReading(reading)) this.rows.push(r);
  }

  /** Unchanged: no rows, so the family shows as collected with nothing to send. */
  end(): Sample[] {
    const rows = this.rows;
    this.rows = [];
    const fingerprint = JSON.stringify(rows);
    const changed = fingerprint !== this.fingerprint;
    this.fingerprint = fingerprint;
    return changed ? rows : [];
  }

  forget(): void {
    this.fingerprint = undefined;
  }
}

/** Samples arrive between cycles (the source's sampler) and the cycle's own last one. */
class SampledState implements FamilyState {
  private readonly window: SampleWindow;
  constructor(entry: CatalogEntry) {
    if (!entry.aggregate) throw new Error(`catalogue entry ${entry.family} is sampled but names no aggregate`);
    this.window = new SAMPLE_AGGREGATES[entry.aggregate](entry.keys);
  }

  begin(): void {
    /* the window spans the interval, not the cycle */
  }
  add(reading: Reading): void {
    this.window.add(rowsOfReading(reading));
  }
  end(): Sample[] {
    return this.window.drain();
  }
}

/** pg_stat_statements holds up to pg_stat_statements.max entries (5,000 by default): they come
 *  by column and are diffed in place, and only the statements that ran in the interval become
 *  rows (read as 5,000 row objects, ~3.5 MB lived long enough for V8 to move them to its old
 *  space each cycle). The leaders are cut to twice the limit as they come. */
export class TopStatementsState implements FamilyState {
  private readonly counters = new CounterState();
  private ran: Sample[] = [];
  /** The queryids sent by the last cycle: whose texts the statement-texts family reads. */
  lastIds: string[] = [];
  /** The coming reading leaves out the entries that had not moved (see unchanged). */
  private partial = false;
  private epoch: string | undefined;
  /** pg_stat_statements_info's stats_reset at the last reading that had a row. */
  private infoReset: unknown = null;
  private readings = 0;
  constructor(
    private readonly entry: CatalogEntry,
    private readonly max: () => number,
  ) {}

  /**
   * The pg_statements query's $1-$6, array texts of each entry as last read: dbid, userid,
   * queryid, toplevel, calls and plans, and $7 the stats_reset of pg_stat_statements_info then.
   * The server leaves out an entry whose calls and plans are the same (it has not run since; its
   * deltas would be zero) unless everything was reset since, and the entries left out are kept
   * as read now. Empty arrays, so every entry is read: the first reading, the first after a
   * restart (epoch), and every FULL_READ_EVERY-th, which forgets the entries pg_stat_statements
   * evicted. (An entry evicted and made again, that ran exactly as many times and was planned as
   * often as the one before it, is taken for it until it runs again.)
   */
  unchanged(epoch: string): Array<string | null> {
    const calls = this.entry.counters.indexOf('calls');
    const plans = this.entry.counters.indexOf('plans');
    this.partial = epoch === this.epoch && this.readings % FULL_READ_EVERY !== 0 && calls >= 0 && plans >= 0;
    const cols: string[][] = [[], [], [], [], [], []];
    if (this.partial) {
      for (const [[dbid, userid, queryid, toplevel], c] of this.counters.series()) {
        cols[0].push(dbid);
        cols[1].push(userid);
        cols[2].push(queryid);
        cols[3].push(toplevel === 'true' ? 't' : toplevel === 'false' ? 'f' : 'NULL');
        cols[4].push(Number.isNaN(c[calls]) ? 'NULL' : String(c[calls]));
        cols[5].push(Number.isNaN(c[plans]) ? 'NULL' : String(c[plans]));
      }
    }
    return [
      ...cols.map((c) => `{${c.join(',')}}`),
      this.infoReset === null || this.infoReset === undefined ? null : String(this.infoReset),
    ];
  }

  begin(at: number, epoch: string): void {
    this.ran = [];
    this.readings++;
    this.epoch = epoch;
    this.counters.begin(at, diffOptions(this.entry, epoch));
  }

  add(reading: Reading): void {
    const reset = isColumns(reading) ? reading.columns.info_stats_reset?.[0] : reading[0]?.info_stats_reset;
    if (reading.length > 0) this.infoReset = reset;
    if (!isColumns(reading)) {
      for (const row of reading) {
        this.counters.row(row);
        if ((toNumber(row.calls) ?? 0) > 0) this.ran.push(row);
      }
    } else {
      // Diffed by column; a row is made only for a statement that ran in the interval.
      this.counters.columns(reading);
      const calls = reading.columns.calls ?? [];
      for (let r = 0; r < reading.length; r++) if ((toNumber(calls[r]) ?? 0) > 0) this.ran.push(rowAt(reading, r));
    }
    const max = this.max();
    if (this.ran.length > 2 * max) {
      this.ran.sort(byTime);
      this.ran.length = max;
    }
  }

  end(): Sample[] {
    this.counters.end(this.partial);
    this.partial = false;
    const top = this.ran.sort(byTime).slice(0, this.max());
    this.ran = [];
    for (const r of top) r.mean_exec_time_ms = Math.round(((toNumber(r.total_exec_time_ms) ?? 0) / toNumber(r.calls)!) * 1000) / 1000;
    this.lastIds = top.map((r) => String(r.queryid));
    return top;
  }
}

function byTime(a: Sample, b: Sample): number {
  return (toNumber(b.total_exec_time_ms) ?? 0) - (toNumber(a.total_exec_time_ms) ?? 0);
}

export class StatementTextsState implements FamilyState {
  private readonly sent = new Map<string, number>();
  private at = 0;
  private rows: Sample[] = [];
  constructor(private readonly top: () => TopStatementsState | undefined) {}

  /** The top statements' queryids whose text was not sent within TEXT_RESEND_MS. */
  wanted(at: number): string[] {
    const ids = this.top()?.lastIds ?? [];
    return [...new Set(ids)].filter((id) => !(at - (this.sent.get(id) ?? -Infinity) < TEXT_RESEND_MS));
  }

  begin(at: number): void {
    this.at = at;
    this.rows = [];
  }
  add(reading: Reading): void {
    for (const r of rowsOfReading(reading)) this.rows.push(r);
  }

  end(): Sample[] {
    if (this.sent.size > MAX_REMEMBERED_TEXTS) this.sent.clear();
    for (const t of this.rows) this.sent.set(String(t.queryid), this.at);
    const rows = this.rows;
    this.rows = [];
    return rows;
  }

  forget(): void {
    this.sent.clear();
  }
}

export { SnapshotState, OnChangeState, SampledState };
