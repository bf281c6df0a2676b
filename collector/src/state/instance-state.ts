// Everything one PostgreSQL instance's families remember between cycles: a FamilyState per
// family (by its catalogue kind) and the slow columns' last measurements. The source reads and
// pushes its rows here; nothing of what was read before lives in the source.
import type { CatalogEntry, CollectLimits } from '../sources/postgres/catalog/types.ts';
import { OnChangeState, SampledState, SnapshotState, StatementTextsState, TopStatementsState, type FamilyState } from './family-state.ts';
import { rowsOfReading, type Reading, type Sample } from './sample.ts';
import { SlowColumns } from './slow-columns.ts';

export class InstanceState {
  private readonly families = new Map<string, FamilyState>();
  private readonly slow = new Map<string, SlowColumns>();
  private top: TopStatementsState | undefined;
  /** This cycle's readings of the families read whole, until the agent takes them. */
  private finished = new Map<string, Reading>();
  /** Cycles so far: the slow columns' clock. */
  cycle = 0;

  constructor(private readonly limits: () => CollectLimits) {}

  /** A new cycle: statement texts follow only this cycle's top statements. */
  nextCycle(): void {
    this.cycle++;
    this.finished = new Map();
    if (this.top) this.top.lastIds = [];
  }

  /** The family's reading is complete (a family that failed half-way is never finished, and its
   *  state keeps what it had). */
  finish(entry: CatalogEntry): void {
    this.finished.set(entry.family, this.of(entry).end());
  }

  /** The readings of the families finished this cycle, by row or by column as they were read. */
  takeReadings(): Map<string, Reading> {
    const f = this.finished;
    this.finished = new Map();
    return f;
  }

  /** The same as rows. */
  take(): Map<string, Sample[]> {
    return new Map([...this.takeReadings()].map(([family, r]) => [family, [...rowsOfReading(r)]]));
  }

  of(entry: CatalogEntry): FamilyState {
    let s = this.families.get(entry.family);
    if (!s) {
      s = this.make(entry);
      this.families.set(entry.family, s);
    }
    return s;
  }

  statements(entry: CatalogEntry): TopStatementsState {
    const s = this.of(entry);
    if (!(s instanceof TopStatementsState)) throw new Error(`catalogue entry ${entry.family} is not of kind top-statements`);
    return s;
  }

  texts(entry: CatalogEntry): StatementTextsState {
    const s = this.of(entry);
    if (!(s instanceof StatementTextsState)) throw new Error(`catalogue entry ${entry.family} is not of kind statement-texts`);
    return s;
  }

  slowColumns(entry: CatalogEntry & { slow: NonNullable<CatalogEntry['slow']> }): SlowColumns {
    let s = this.slow.get(entry.family);
    if (!s) {
      s = new SlowColumns(entry.slow.columns, entry.slow.refreshCycles, entry.slow.change);
      this.slow.set(entry.family, s);
    }
    return s;
  }

  /** Forgets what was sent, so the next cycle sends settings and statement texts as a first
   *  cycle does (`collector once` prints its second cycle and must show what `run` sends). */
  forgetSent(): void {
    for (const s of this.families.values()) s.forget?.();
  }

  private make(entry: CatalogEntry): FamilyState {
    switch (entry.kind) {
      case 'snapshot':
        return new SnapshotState(entry);
      case 'on-change':
        return new OnChangeState();
      case 'sampled':
        return new SampledState(entry);
      case 'top-statements':
        this.top = new TopStatementsState(entry, () => this.limits().maxStatements);
        return this.top;
      case 'statement-texts':
        return new StatementTextsState(() => this.top);
    }
  }
}
