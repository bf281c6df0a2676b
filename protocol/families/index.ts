// Every metric family the protocol knows. Add a family: its definition in a file here, a line in
// definitions.ts and below, and its migration (npm run family:migration -- <family>).
import type { FamilySpec } from './types.ts';
import {
  pgStatsDatabase,
  pgStatsTable,
  pgStatsIndex,
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
  pgLog,
  cpu,
  diskIo,
  network,
  diskUsage,
  pgProcesses,
  pgStatIo,
  pgTableBloat,
  pgIndexBloat,
  pgPlans,
} from './definitions.ts';

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
  pgStatIo,
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
