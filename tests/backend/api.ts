// Helpers for backend API tests: HTTPS calls to a running backend (real TLS, our CA), users
// logged in through the real login endpoint, and gzipped pushes with a collector's credentials.
import https from 'node:https';
import { gzipSync } from 'node:zlib';
import { randomUUID } from 'node:crypto';
import type { Backend } from '../../backend/src/server.ts';
import { createUser } from '../../backend/src/users/create-user.ts';
import type { Role } from '../../backend/src/auth/roles.ts';
import type { Credentials } from '../../collector/src/credentials.ts';
import { toWire, type Batch, type Row } from '../../protocol/index.ts';

export interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  /** Parsed JSON (any: tests read many shapes; the code under test has typed bodies). */
  // biome-ignore lint/suspicious/noExplicitAny: as the comment above says
  body: any;
}

export interface CallOptions {
  method?: string;
  token?: string;
  json?: unknown;
  body?: Buffer | string;
  headers?: Record<string, string>;
  cert?: { certPem: string; keyPem: string };
}

export function call(backend: Pick<Backend, 'url' | 'pki'>, path: string, o: CallOptions = {}): Promise<Reply> {
  const url = new URL(backend.url);
  const headers: Record<string, string> = { ...o.headers };
  if (o.token) headers.authorization = `Bearer ${o.token}`;
  let body = o.body;
  if (o.json !== undefined) {
    body = JSON.stringify(o.json);
    headers['content-type'] = 'application/json';
  }
  return new Promise((resolve, reject) => {
    const req = https.request(
      {
        host: url.hostname,
        port: url.port,
        path,
        method: o.method ?? 'GET',
        ca: backend.pki.caCertPem,
        headers,
        agent: false,
        cert: o.cert?.certPem,
        key: o.cert?.keyPem,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (d: Buffer) => chunks.push(d));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: unknown;
          try {
            parsed = text ? JSON.parse(text) : undefined;
          } catch {
            /* not JSON */
          }
          resolve({ status: res.statusCode!, headers: res.headers, text, body: parsed });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

export interface LoggedIn {
  id: number;
  username: string;
  role: Role;
  access: string;
  refresh: string;
}

export async function userWithRole(backend: Backend, role: Role, username = `${role}-${randomUUID().slice(0, 8)}`): Promise<LoggedIn> {
  const password = `pw-${randomUUID()}`;
  const id = await createUser(backend.pool, { username, password, role });
  const r = await call(backend, '/api/v1/auth/login', { method: 'POST', json: { username, password } });
  if (r.status !== 200) throw new Error(`login failed: ${r.status} ${r.text}`);
  return { id, username, role, access: r.body.access_token, refresh: r.body.refresh_token };
}

export function simpleBatch(collectorId: string, families: Record<string, Row[]>, time = new Date()): Batch {
  return {
    batch_id: randomUUID(),
    collector_id: collectorId,
    collector_version: 'test',
    config_version: 1,
    created_at: time.toISOString(),
    hostname: 'host',
    instances: [{ name: 'main', up: true, version_num: 160000 }],
    families,
  };
}

export function push(backend: Backend, creds: Credentials, batch: Batch | Buffer, token = creds.accessToken): Promise<Reply> {
  return call(backend, '/api/v1/metrics/push', {
    method: 'POST',
    cert: creds,
    token,
    body: Buffer.isBuffer(batch) ? batch : gzipSync(JSON.stringify(toWire(batch))),
    headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' },
  });
}
