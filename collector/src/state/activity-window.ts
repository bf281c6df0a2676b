// Aggregates activity samples taken within one interval into the rows sent at its end:
//   pg_activity  per group (backend type, state, wait event): samples, average and peak count
//                (a group absent from a sample counts 0 there), and the oldest ages seen;
//   pg_blocking  per (blocked pid, blocking pid) pair: the latest sample that showed it.
import { toNumber, type Sample } from './counters.ts';

/** Past this many samples (an interval far longer than the sampling period) the oldest go. */
const MAX_SAMPLES = 720;

interface Group {
  key: Sample;
  sum: number;
  max: number;
  blockedMax: number;
  ages: Record<AgeColumn, number | null>;
}

const AGE_COLUMNS = ['max_xact_age_s', 'max_query_age_s', 'max_state_age_s'] as const;
type AgeColumn = (typeof AGE_COLUMNS)[number];
const GROUP_COLUMNS = ['backend_type', 'state', 'wait_event_type', 'wait_event'] as const;

export class ActivityWindow {
  private activity: Sample[][] = [];
  private readonly blocking = new Map<string, Sample>();

  get sampleCount(): number { return this.activity.length; }

  /** One pg_activity sample: rows grouped by GROUP_COLUMNS with count, blocked and the ages. */
  addActivity(rows: readonly Sample[]): void {
    this.activity.push([...rows]);
    if (this.activity.length > MAX_SAMPLES) this.activity.shift();
  }

  /** One pg_blocking sample: the pairs seen now replace what earlier samples saw of them. */
  addBlocking(rows: readonly Sample[]): void {
    for (const r of rows) this.blocking.set(`${String(r.blocked_pid)}:${String(r.blocking_pid)}`, r);
  }

  /** The interval's pg_activity rows; the window starts empty again. */
  drainActivity(): Sample[] {
    const samples = this.activity;
    this.activity = [];
    const groups = new Map<string, Group>();
    for (const sample of samples) {
      for (const r of sample) {
        const k = GROUP_COLUMNS.map((c) => String(r[c] ?? '')).join('\u0000');
        let g = groups.get(k);
        if (!g) {
          g = { key: Object.fromEntries(GROUP_COLUMNS.map((c) => [c, r[c] ?? null])), sum: 0, max: 0, blockedMax: 0,
            ages: { max_xact_age_s: null, max_query_age_s: null, max_state_age_s: null } };
          groups.set(k, g);
        }
        const count = toNumber(r.count) ?? 0;
        g.sum += count;
        g.max = Math.max(g.max, count);
        g.blockedMax = Math.max(g.blockedMax, toNumber(r.blocked) ?? 0);
        for (const a of AGE_COLUMNS) {
          const v = toNumber(r[a]);
          if (v !== null) g.ages[a] = Math.max(g.ages[a] ?? v, v);
        }
      }
    }
    return [...groups.values()].map((g) => ({
      ...g.key,
      samples: samples.length,
      count_avg: Math.round((g.sum / samples.length) * 1000) / 1000,
      count_max: g.max,
      blocked_max: g.blockedMax,
      ...g.ages,
    }));
  }

  /** The interval's pg_blocking rows; the window starts empty again. */
  drainBlocking(): Sample[] {
    const rows = [...this.blocking.values()];
    this.blocking.clear();
    return rows;
  }
}
