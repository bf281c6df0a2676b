// How a sampled family's samples, taken within one interval, become the rows sent at its end.
// Each catalogue entry of kind 'sampled' names its aggregate; the series are its keys.
//   groups  per key (pg_activity: backend type, state, wait event): samples, average and peak
//           `count` (a group absent from a sample counts 0 there), peak `blocked`, the oldest ages
//   latest  per key (pg_blocking: blocked pid, blocking pid): the latest sample that showed it
import { toNumber, type Sample } from './sample.ts';

/** Past this many samples (an interval far longer than the sampling period) the oldest go. */
const MAX_SAMPLES = 720;

export interface SampleWindow {
  /** One sample's rows. */
  add(rows: readonly Sample[]): void;
  /** The interval's rows; the window starts empty again. */
  drain(): Sample[];
}

const AGE_COLUMNS = ['max_xact_age_s', 'max_query_age_s', 'max_state_age_s'] as const;
type AgeColumn = (typeof AGE_COLUMNS)[number];

interface Group {
  key: Sample;
  sum: number;
  max: number;
  blockedMax: number;
  ages: Record<AgeColumn, number | null>;
}

export class GroupWindow implements SampleWindow {
  private samples: Sample[][] = [];

  constructor(private readonly keys: readonly string[]) {}

  get sampleCount(): number {
    return this.samples.length;
  }

  add(rows: readonly Sample[]): void {
    this.samples.push([...rows]);
    if (this.samples.length > MAX_SAMPLES) this.samples.shift();
  }

  drain(): Sample[] {
    const samples = this.samples;
    this.samples = [];
    const groups = new Map<string, Group>();
    for (const sample of samples) {
      for (const r of sample) {
        const k = this.keys.map((c) => String(r[c] ?? '')).join('\u0000');
        let g = groups.get(k);
        if (!g) {
          g = {
            key: Object.fromEntries(this.keys.map((c) => [c, r[c] ?? null])),
            sum: 0,
            max: 0,
            blockedMax: 0,
            ages: { max_xact_age_s: null, max_query_age_s: null, max_state_age_s: null },
          };
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
}

export class LatestWindow implements SampleWindow {
  private readonly latest = new Map<string, Sample>();

  constructor(private readonly keys: readonly string[]) {}

  /** The series seen now replace what earlier samples saw of them. */
  add(rows: readonly Sample[]): void {
    for (const r of rows) this.latest.set(this.keys.map((c) => String(r[c])).join('\u0000'), r);
  }

  drain(): Sample[] {
    const rows = [...this.latest.values()];
    this.latest.clear();
    return rows;
  }
}

export const SAMPLE_AGGREGATES = { groups: GroupWindow, latest: LatestWindow } as const;
export type SampleAggregate = keyof typeof SAMPLE_AGGREGATES;
