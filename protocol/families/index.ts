// Every metric family the protocol knows. Add a family: a file here, a line below, and a
// numbered migration in sql/ that creates its table with the same columns.
import type { FamilySpec } from './types.ts';
import { pgStatsDatabase } from './pg-stats-database.ts';
import { pgStatsTable } from './pg-stats-table.ts';
import { pgStatsIndex } from './pg-stats-index.ts';
import { pgStatements } from './pg-statements.ts';
import { pgStatementTexts } from './pg-statement-texts.ts';
import { pgActivity } from './pg-activity.ts';
import { pgBlocking } from './pg-blocking.ts';
import { pgLocks } from './pg-locks.ts';
import { replication } from './replication.ts';
import { replicationSlots } from './replication-slots.ts';
import { pgBgwriter } from './pg-bgwriter.ts';
import { pgWal } from './pg-wal.ts';
import { pgArchiver } from './pg-archiver.ts';
import { pgVacuumProgress } from './pg-vacuum-progress.ts';
import { pgSettings } from './pg-settings.ts';
import { pgInstance } from './pg-instance.ts';
import { sysstat } from './sysstat.ts';
import { collector } from './collector.ts';
import { pgLog } from './pg-log.ts';
import { pgPlans } from './pg-plans.ts';
import { cpu } from './cpu.ts';
import { diskIo } from './disk-io.ts';
import { network } from './network.ts';
import { diskUsage } from './disk-usage.ts';
import { pgProcesses } from './pg-processes.ts';
import { pgTableBloat } from './pg-table-bloat.ts';
import { pgIndexBloat } from './pg-index-bloat.ts';

export const FAMILIES = [
  pgStatsDatabase,
  pgStatsTable,
  pgStatsIndex,
  pgTableBloat,
  pgIndexBloat,
  pgStatements,
  pgStatementTexts,
  pgActivity,
  pgBlocking,
  pgLocks,
  replication,
  replicationSlots,
  pgBgwriter,
  pgWal,
  pgArchiver,
  pgVacuumProgress,
  pgSettings,
  pgInstance,
  sysstat,
  collector,
  cpu,
  diskIo,
  network,
  diskUsage,
  pgProcesses,
  pgLog,
  pgPlans,
] as const satisfies readonly FamilySpec[];

export type FamilyName = (typeof FAMILIES)[number]['name'];

export const FAMILY_BY_NAME: ReadonlyMap<string, FamilySpec> = new Map(FAMILIES.map((f) => [f.name, f]));

export * from './types.ts';
