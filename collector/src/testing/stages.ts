// A source with its state, run through the stages as the agent runs it (agent.ts collectInstance
// and collectHost), its families read back as rows: what the source tests assert on.
import { FAMILY_BY_NAME, rowsOfColumns, type Row } from '../../../protocol/index.ts';
import { collectHost, collectInstance, instanceOf, type Instance } from '../agent.ts';
import type { CollectError } from '../collect-error.ts';
import { PostgresSource, type InstanceSettings } from '../sources/postgres/postgres-source.ts';
import { SystemSource, type SystemSourceOptions } from '../sources/system/system-source.ts';
import { HostState } from '../state/host-state.ts';
import { BatchColumns } from '../transform/batch-columns.ts';

/** Every family added to `out`, as rows (empty for a family collected with nothing to send). */
function rowsOf(out: BatchColumns): Record<string, Row[]> {
  const batch = out.finish({
    batch_id: '',
    collector_id: '',
    collector_version: '',
    config_version: 0,
    created_at: '',
    hostname: '',
    instances: [],
  });
  const rows: Record<string, Row[]> = {};
  for (const family of out.rowCounts().keys()) {
    const cols = batch.families[family];
    rows[family] = cols ? rowsOfColumns(FAMILY_BY_NAME.get(family)!, cols) : [];
  }
  return rows;
}

export class InstanceUnderTest {
  readonly instance: Instance;
  constructor(settings: InstanceSettings) {
    this.instance = instanceOf(new PostgresSource(settings));
  }

  async collect(
    now: Date,
    enabled: (family: string) => boolean = () => true,
  ): Promise<{ info: Awaited<ReturnType<typeof collectInstance>>['info']; rows: Record<string, Row[]>; errors: CollectError[] }> {
    const out = new BatchColumns();
    const r = await collectInstance(this.instance, now, enabled, out);
    return { ...r, rows: rowsOf(out) };
  }

  close(): Promise<void> {
    return this.instance.source.close();
  }
}

export class HostUnderTest {
  private readonly source: SystemSource;
  private readonly state = new HostState();
  /** What failed in the last collect(). */
  lastErrors: readonly CollectError[] = [];
  constructor(opts: SystemSourceOptions) {
    this.source = new SystemSource(opts);
  }

  async collect(now: Date = new Date()): Promise<Record<string, Row[]>> {
    const out = new BatchColumns();
    this.lastErrors = await collectHost(this.source, this.state, now, out);
    return rowsOf(out);
  }
}
