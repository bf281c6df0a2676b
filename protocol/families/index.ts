// Every metric family the protocol knows. Add a family: a file here, a line below, and a
// numbered migration in sql/ that creates its table with the same columns.
import type { FamilySpec } from './types.ts';
import { pgStatsDatabase } from './pg-stats-database.ts';
import { sysstat } from './sysstat.ts';
import { pgLog } from './pg-log.ts';
import { cpu } from './cpu.ts';
import { diskIo } from './disk-io.ts';
import { network } from './network.ts';
import { diskUsage } from './disk-usage.ts';
import { pgProcesses } from './pg-processes.ts';

export const FAMILIES = [
  pgStatsDatabase,
  sysstat,
  cpu,
  diskIo,
  network,
  diskUsage,
  pgProcesses,
  pgLog,
] as const satisfies readonly FamilySpec[];

export type FamilyName = (typeof FAMILIES)[number]['name'];

export const FAMILY_BY_NAME: ReadonlyMap<string, FamilySpec> = new Map(FAMILIES.map((f) => [f.name, f]));

export * from './types.ts';
