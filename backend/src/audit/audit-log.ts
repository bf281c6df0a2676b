// The audit log: every change (who, what, when, from where) as one row of audit_log.
// Actors are named "user:<name>", "api-token:<id>:<name>", "cli" or "enrolment-token".
// What is stored is cleaned first: control characters (newlines, ANSI escapes, NUL) are
// dropped and text is bounded, so a hostile value cannot forge lines in a viewer or a terminal.
// Failures an outsider can repeat at will (logins, registrations, refused requests) are folded:
// one row per action, target and address within a window, with a count, not one per attempt.
import type { Request } from 'express';
import type pg from 'pg';

export interface AuditEntry {
  actor: string;
  action: string;
  target?: string | number | null;
  details?: Record<string, unknown>;
}

type Db = Pick<pg.Pool, 'query'> | Pick<pg.PoolClient, 'query'>;

/** A row folds repeats for this long after it was written. */
export const FOLD_WINDOW_SECONDS = 15 * 60;
/** A fixed marker stored instead of a name that identifies no account (it may be a password typed in the wrong field). */
export const UNKNOWN_ACCOUNT = '(unknown)';

const MAX_TEXT = 256;
const MAX_DEPTH = 4;

/** Text without control characters (C0, DEL, C1), at most MAX_TEXT characters. */
export function cleanText(s: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: removing control characters is the point
  const clean = s.replace(/[\u0000-\u001f\u007f-\u009f]/g, '');
  return clean.length > MAX_TEXT ? `${clean.slice(0, MAX_TEXT)}…` : clean;
}

/** Strings cleaned at every level (keys too); deeper than MAX_DEPTH is cut. */
function cleanValue(v: unknown, depth = 0): unknown {
  if (typeof v === 'string') return cleanText(v);
  if (v === null || typeof v !== 'object') return v;
  if (depth >= MAX_DEPTH) return '…';
  if (Array.isArray(v)) return v.map((x) => cleanValue(x, depth + 1));
  return Object.fromEntries(Object.entries(v).map(([k, x]) => [cleanText(k), cleanValue(x, depth + 1)]));
}

function row(req: Request | null, e: AuditEntry): [string, string, string | null, string | null, unknown] {
  return [
    cleanText(e.actor),
    cleanText(e.action),
    e.target === undefined || e.target === null ? null : cleanText(String(e.target)),
    req?.ip ? cleanText(req.ip) : null,
    cleanValue(e.details ?? {}),
  ];
}

export async function recordAudit(db: Db, req: Request | null, e: AuditEntry): Promise<void> {
  await db.query('INSERT INTO audit_log (actor, action, target, source_ip, details) VALUES ($1, $2, $3, $4, $5)', row(req, e));
}

/**
 * Records a repeatable failure: the newest row of the same action, target and address written
 * within FOLD_WINDOW_SECONDS gets count + 1 and last_at; otherwise a new row with count 1.
 * Two racing first attempts may both insert; folding is bounded, not exact.
 */
export async function recordFoldedAudit(db: Db, req: Request | null, e: AuditEntry): Promise<void> {
  const [actor, action, target, ip, details] = row(req, e);
  const folded = await db.query(
    `UPDATE audit_log SET details = details || jsonb_build_object('count', coalesce((details->>'count')::int, 1) + 1, 'last_at', now())
      WHERE id = (SELECT id FROM audit_log WHERE action = $1 AND target IS NOT DISTINCT FROM $2 AND source_ip IS NOT DISTINCT FROM $3
                     AND at > now() - make_interval(secs => $4) ORDER BY id DESC LIMIT 1)`,
    [action, target, ip, FOLD_WINDOW_SECONDS],
  );
  if (folded.rowCount === 0) {
    await db.query('INSERT INTO audit_log (actor, action, target, source_ip, details) VALUES ($1, $2, $3, $4, $5)', [
      actor,
      action,
      target,
      ip,
      { ...(details as object), count: 1 },
    ]);
  }
}
