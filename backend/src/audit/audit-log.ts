// The audit log: every change (who, what, when, from where) as one row of audit_log.
// Actors are named "user:<name>", "api-token:<id>:<name>", "cli" or "enrolment-token".
import type { Request } from 'express';
import type pg from 'pg';

export interface AuditEntry {
  actor: string;
  action: string;
  target?: string | number | null;
  details?: Record<string, unknown>;
}

type Db = Pick<pg.Pool, 'query'> | Pick<pg.PoolClient, 'query'>;

export async function recordAudit(db: Db, req: Request | null, e: AuditEntry): Promise<void> {
  await db.query('INSERT INTO audit_log (actor, action, target, source_ip, details) VALUES ($1, $2, $3, $4, $5)',
    [e.actor, e.action, e.target === undefined || e.target === null ? null : String(e.target), req?.ip ?? null, e.details ?? {}]);
}
