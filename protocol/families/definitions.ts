// Every family's definition by its name in code: dashboards name tables and columns through
// these (grafana/src/dashboards/families.ts), so a renamed column fails to compile.
export { pgStatsDatabase } from './pg-stats-database.ts';
export { pgStatsTable } from './pg-stats-table.ts';
export { pgStatsIndex } from './pg-stats-index.ts';
export { pgStatements } from './pg-statements.ts';
export { pgStatementTexts } from './pg-statement-texts.ts';
export { pgActivity } from './pg-activity.ts';
export { pgBlocking } from './pg-blocking.ts';
export { pgLocks } from './pg-locks.ts';
export { replication } from './replication.ts';
export { replicationSlots } from './replication-slots.ts';
export { pgBgwriter } from './pg-bgwriter.ts';
export { pgWal } from './pg-wal.ts';
export { pgArchiver } from './pg-archiver.ts';
export { pgVacuumProgress } from './pg-vacuum-progress.ts';
export { pgSettings } from './pg-settings.ts';
export { pgInstance } from './pg-instance.ts';
export { sysstat } from './sysstat.ts';
export { collector } from './collector.ts';
export { pgLog } from './pg-log.ts';
export { cpu } from './cpu.ts';
export { diskIo } from './disk-io.ts';
export { network } from './network.ts';
export { diskUsage } from './disk-usage.ts';
export { pgProcesses } from './pg-processes.ts';
export { pgStatIo } from './pg-stat-io.ts';
