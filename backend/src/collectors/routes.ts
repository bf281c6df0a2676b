// Collectors, as users see and manage them.
//   GET    /api/v1/collectors                  list                                     read
//   GET    /api/v1/collectors/{id}             detail: last seen, version, instances    read
//   POST   /api/v1/collectors/{id}/disable     refuse its pushes until enabled          admin
//   POST   /api/v1/collectors/{id}/enable                                               admin
//   POST   /api/v1/collectors/{id}/revoke      revoke its certificate for good           admin
//   DELETE /api/v1/collectors/{id}             forget it (its metric rows stay)          admin
//   GET    /api/v1/collectors/{id}/config      served config and version                read
//   PUT    /api/v1/collectors/{id}/config      replace it; bumps the version             admin
import express, { Router } from 'express';
import type pg from 'pg';
import { HttpError } from '../errors.ts';
import { parseWith, uuidParam } from '../http/parse.ts';
import { actorName, principalOf, type RequireRole } from '../auth/user-auth.ts';
import { recordAudit } from '../audit/audit-log.ts';
import { loadServedConfig, updateCollectorConfig } from '../config/routes.ts';
import type { ConfigUpdate } from '../../../protocol/index.ts';

/** A collector not heard from for this long shows as offline (five default push intervals). */
const OFFLINE_AFTER_SECONDS = 300;

const SELECT_COLLECTORS = `
  SELECT c.id, c.hostname, c.server_id, c.status, c.collector_version, c.created_at, c.last_seen_at,
         c.cert_serial, c.cert_not_after, cfg.version AS config_version,
         CASE WHEN c.status <> 'active' THEN c.status
              WHEN c.last_seen_at IS NULL THEN 'never_seen'
              WHEN c.last_seen_at < now() - make_interval(secs => ${OFFLINE_AFTER_SECONDS}) THEN 'offline'
              ELSE 'online' END AS health
    FROM collectors c LEFT JOIN collector_configs cfg ON cfg.collector_id = c.id`;

export function collectorRoutes(pool: pg.Pool, requireUser: RequireRole): Router {
  const router = Router();

  router.get('/api/v1/collectors', requireUser('read'), async (_req, res) => {
    res.json({ collectors: (await pool.query(`${SELECT_COLLECTORS} ORDER BY c.hostname, c.id`)).rows });
  });

  router.get('/api/v1/collectors/:id', requireUser('read'), async (req, res) => {
    const { id } = parseWith(uuidParam, req.params, 'path');
    const row = (await pool.query(`${SELECT_COLLECTORS} WHERE c.id = $1`, [id])).rows[0];
    if (!row) throw new HttpError(404, 'not_found', 'no such collector');
    const instances = (
      await pool.query('SELECT id, name, version_num, last_seen_at FROM postgresql_instances WHERE server_id = $1 ORDER BY name', [
        row.server_id,
      ])
    ).rows;
    res.json({ ...row, instances });
  });

  const setStatus = (action: 'disable' | 'enable' | 'revoke', to: string, allowedFrom: string[]) =>
    router.post(`/api/v1/collectors/:id/${action}`, requireUser('admin'), async (req, res) => {
      const { id } = parseWith(uuidParam, req.params, 'path');
      const row = (
        await pool.query(
          `UPDATE collectors n SET status = $2 FROM collectors o WHERE n.id = o.id AND n.id = $1 AND o.status = ANY($3)
         RETURNING o.status AS old, n.cert_serial`,
          [id, to, allowedFrom],
        )
      ).rows[0];
      if (!row) {
        const exists = (await pool.query('SELECT status FROM collectors WHERE id = $1', [id])).rows[0];
        if (!exists) throw new HttpError(404, 'not_found', 'no such collector');
        throw new HttpError(409, 'invalid_status_change', `collector is ${exists.status}; cannot ${action}`);
      }
      await recordAudit(pool, req, {
        actor: actorName(principalOf(res)),
        action: `collector.${action}`,
        target: id,
        details: { from: row.old, to, cert_serial: row.cert_serial },
      });
      res.json({ id, status: to });
    });
  setStatus('disable', 'disabled', ['active', 'disabled']);
  setStatus('enable', 'active', ['disabled', 'active']);
  // Revoked is final: the certificate is never accepted again; the host must register anew.
  setStatus('revoke', 'revoked', ['active', 'disabled', 'revoked']);

  router.delete('/api/v1/collectors/:id', requireUser('admin'), async (req, res) => {
    const { id } = parseWith(uuidParam, req.params, 'path');
    const row = (await pool.query('DELETE FROM collectors WHERE id = $1 RETURNING hostname, cert_serial', [id])).rows[0];
    if (!row) throw new HttpError(404, 'not_found', 'no such collector');
    await recordAudit(pool, req, { actor: actorName(principalOf(res)), action: 'collector.delete', target: id, details: row });
    res.status(204).end();
  });

  router.get('/api/v1/collectors/:id/config', requireUser('read'), async (req, res) => {
    const { id } = parseWith(uuidParam, req.params, 'path');
    res.json(await loadServedConfig(pool, id));
  });

  router.put('/api/v1/collectors/:id/config', requireUser('admin'), express.json({ limit: '64kb' }), async (req, res) => {
    const { id } = parseWith(uuidParam, req.params, 'path');
    const version = await updateCollectorConfig(pool, id, req.body as ConfigUpdate);
    await recordAudit(pool, req, {
      actor: actorName(principalOf(res)),
      action: 'collector.config_update',
      target: id,
      details: { config_version: version, config: req.body as object },
    });
    res.json({ id, config_version: version });
  });

  return router;
}
